"""Referential integrity: merging a package's checked rows into the accepted roster.

Rules (docs/decisions/0201-roster-import.md):
- bulk: a file in the package replaces its kind of record; delta: rows upsert or delete.
- A row of the package whose references do not resolve in the resulting roster is refused;
  what was accepted for its sourcedId before stays as it was (nothing accepted is lost).
- A link record (roles, enrollments) that the package did not mention goes when what it
  links goes. Any other record the package left alone keeps what it points to: a deletion
  that would orphan it is not done (in delta the deleting row is refused, with the reason).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from aptt_data.oneroster.csvfile import Rejection
from aptt_data.oneroster.package import RosterUpload
from aptt_data.oneroster.rowcheck import refusal
from aptt_data.oneroster.spec import Version

Fields = dict[str, Any]
Roster = dict[str, dict[str, Fields]]  # file -> sourcedId -> fields
Origin = Literal["package", "kept", "stored"]

LINK_FILES = frozenset({"roles.csv", "enrollments.csv"})
FILES = (
    "academicSessions.csv",
    "orgs.csv",
    "courses.csv",
    "classes.csv",
    "users.csv",
    "roles.csv",
    "enrollments.csv",
)
NOUNS = {
    "academicSessions.csv": "academic session",
    "orgs.csv": "org",
    "courses.csv": "course",
    "classes.csv": "class",
    "users.csv": "user",
    "roles.csv": "role",
    "enrollments.csv": "enrollment",
}
MAX_PASSES = 50


@dataclass(frozen=True)
class Problem:
    column: str | None
    reason: str
    target: tuple[str, str] | None = None  # the record whose absence or state is the problem


@dataclass
class Resolution:
    roster: Roster
    rejections: list[Rejection] = field(default_factory=list)


@dataclass
class _State:
    stored: Roster
    roster: Roster
    origin: dict[tuple[str, str], Origin] = field(default_factory=dict)
    lines: dict[tuple[str, str], int] = field(default_factory=dict)
    refused_lines: dict[tuple[str, str], int] = field(default_factory=dict)
    deleted_by: dict[tuple[str, str], int] = field(default_factory=dict)  # delta delete rows
    tolerated: set[tuple[str, str]] = field(default_factory=set)
    rejections: list[Rejection] = field(default_factory=list)
    roles_of: dict[str, list[Fields]] = field(default_factory=dict)
    sources: dict[tuple[str, str], str] = field(default_factory=dict)
    refused_files: dict[str, str] = field(default_factory=dict)  # file -> why
    courses_known: bool = False
    version: Version = "1.2"

    def get(self, file: str, sourced_id: str) -> Fields | None:
        return self.roster[file].get(sourced_id)

    def refused_file(self, file: str) -> str | None:
        return self.refused_files.get(file)

    def refused_line(self, file: str, sourced_id: str) -> int | None:
        return self.refused_lines.get((file, sourced_id))

    def deleted_line(self, file: str, sourced_id: str) -> int | None:
        return self.deleted_by.get((file, sourced_id))

    def roles(self, user_id: str) -> list[Fields]:
        return self.roles_of.get(user_id, [])

    def from_package(self, file: str, sourced_id: str) -> bool:
        return self.origin.get((file, sourced_id)) == "package"


class RecordView(Protocol):
    """What the integrity rules read: the roster as it would be after the import, and why a
    record is missing from it."""

    courses_known: bool
    version: Version

    def get(self, file: str, sourced_id: str) -> Fields | None: ...
    def refused_file(self, file: str) -> str | None: ...
    def refused_line(self, file: str, sourced_id: str) -> int | None: ...
    def deleted_line(self, file: str, sourced_id: str) -> int | None: ...
    def roles(self, user_id: str) -> list[Fields]: ...
    def from_package(self, file: str, sourced_id: str) -> bool: ...


@dataclass
class Window:
    """The part of the resulting roster that a batch of rows refers to (read from the
    database in a few indexed queries), for checking the batch without the whole roster."""

    records: dict[tuple[str, str], Fields | None] = field(default_factory=dict)
    refused: dict[tuple[str, str], int] = field(default_factory=dict)
    deleted: dict[tuple[str, str], int] = field(default_factory=dict)
    roles_by_user: dict[str, list[Fields]] = field(default_factory=dict)
    package_keys: set[tuple[str, str]] = field(default_factory=set)
    refused_files: dict[str, str] = field(default_factory=dict)
    courses_known: bool = False
    version: Version = "1.2"

    def get(self, file: str, sourced_id: str) -> Fields | None:
        return self.records.get((file, sourced_id))

    def refused_file(self, file: str) -> str | None:
        return self.refused_files.get(file)

    def refused_line(self, file: str, sourced_id: str) -> int | None:
        return self.refused.get((file, sourced_id))

    def deleted_line(self, file: str, sourced_id: str) -> int | None:
        return self.deleted.get((file, sourced_id))

    def roles(self, user_id: str) -> list[Fields]:
        return self.roles_by_user.get(user_id, [])

    def from_package(self, file: str, sourced_id: str) -> bool:
        return (file, sourced_id) in self.package_keys


def references(file: str, r: Fields) -> list[tuple[str, str]]:
    """Every record a record points to, as (file, sourcedId)."""
    refs: list[tuple[str, str | None]] = []
    if file in ("orgs.csv", "academicSessions.csv"):
        refs.append((file, r.get("parentSourcedId")))
    elif file == "courses.csv":
        refs += [("orgs.csv", r["orgSourcedId"])]
        refs += [("academicSessions.csv", r.get("schoolYearSourcedId"))]
    elif file == "classes.csv":
        refs += [("orgs.csv", r["schoolSourcedId"]), ("courses.csv", r["courseSourcedId"])]
        refs += [("academicSessions.csv", t) for t in r["termSourcedIds"]]
    elif file == "users.csv":
        refs += [("users.csv", a) for a in r.get("agentSourcedIds") or ()]
        refs.append(("orgs.csv", r.get("primaryOrgSourcedId")))
    elif file == "roles.csv":
        refs += [("users.csv", r["userSourcedId"]), ("orgs.csv", r["orgSourcedId"])]
    elif file == "enrollments.csv":
        refs += [("classes.csv", r["classSourcedId"]), ("users.csv", r["userSourcedId"])]
        refs.append(("orgs.csv", r["schoolSourcedId"]))
    return list(dict.fromkeys((f, i) for f, i in refs if i))


def refused_files(rejections: list[Rejection]) -> dict[str, str]:
    """The rostering files refused whole, and why (the first reason given for each)."""
    return {r.file: r.reason for r in reversed(rejections) if r.file in NOUNS}


def problems_of(view: RecordView, file: str, record_id: str, r: Fields) -> list[Problem]:
    """Why a record of the resulting roster cannot stay as it is (nothing: it can)."""
    return list(_problems(view, file, record_id, r))


def resolve(upload: RosterUpload, stored: Roster) -> Resolution:
    state = _State(
        stored={f: stored.get(f, {}) for f in FILES},
        roster={f: dict(stored.get(f, {})) for f in FILES},
        refused_files=refused_files(upload.rejections),
        version=upload.version,
    )
    if upload.version == "1.1" and upload.mode == "delta" and "users.csv" in upload.files:
        # A 1.1 user row carries all its roles: the ones it no longer names go.
        users = {r.sourced_id for r in upload.files["users.csv"].records}
        for role_id, role in list(state.roster["roles.csv"].items()):
            if role["userSourcedId"] in users:
                del state.roster["roles.csv"][role_id]
    for parsed in upload.files.values():
        for record_id, line in parsed.rejected_ids.items():
            state.refused_lines.setdefault((parsed.file, record_id), line)
        if upload.mode == "bulk":
            state.roster[parsed.file] = {}
            for record_id in parsed.rejected_ids:
                if record_id in state.stored[parsed.file]:
                    state.roster[parsed.file][record_id] = state.stored[parsed.file][record_id]
                    state.origin[(parsed.file, record_id)] = "kept"
        for record in parsed.records:
            key = (parsed.file, record.sourced_id)
            if record.deleted:
                state.roster[parsed.file].pop(record.sourced_id, None)
                state.deleted_by[key] = record.line
                continue
            state.roster[parsed.file][record.sourced_id] = record.fields
            state.origin[key] = "package"
            state.lines[key] = record.line
            if record.source_file is not None:
                state.sources[key] = record.source_file
    state.courses_known = bool(state.roster["courses.csv"]) or "courses.csv" in upload.files
    for _ in range(MAX_PASSES):
        if not _one_pass(state):
            break
    return Resolution(roster=state.roster, rejections=state.rejections)


def _one_pass(state: _State) -> bool:
    state.roles_of = {}
    for role in state.roster["roles.csv"].values():
        state.roles_of.setdefault(role["userSourcedId"], []).append(role)
    changed = False
    for file in FILES:
        for record_id, fields in list(state.roster[file].items()):
            key = (file, record_id)
            if key in state.tolerated or state.roster[file].get(record_id) is not fields:
                continue
            problems = list(_problems(state, file, record_id, fields))
            if problems:
                _settle(state, key, problems)
                changed = True
    return changed


def _settle(state: _State, key: tuple[str, str], problems: list[Problem]) -> None:
    file, record_id = key
    origin = state.origin.get(key, "stored")
    if origin == "package":
        line = state.lines[key]
        source = state.sources.get(key)
        state.rejections.extend(refusal(file, source, line, p.column, p.reason) for p in problems)
        state.refused_lines[key] = line
        if record_id in state.stored[file]:
            state.roster[file][record_id] = state.stored[file][record_id]
            state.origin[key] = "kept"
        else:
            del state.roster[file][record_id]
            state.origin.pop(key, None)
        return
    if origin == "stored" and file in LINK_FILES:
        del state.roster[file][record_id]
        return
    restored = False
    for problem in problems:
        if problem.target is not None:
            restored |= _restore(state, problem.target, used_by=key)
    if not restored:
        state.tolerated.add(key)


def _restore(state: _State, target: tuple[str, str], *, used_by: tuple[str, str]) -> bool:
    """Put back the accepted version of a record something accepted still depends on."""
    file, record_id = target
    previous = state.stored[file].get(record_id)
    if previous is None or state.roster[file].get(record_id) is previous:
        return False
    user_file, user_id = used_by
    reason = f"{NOUNS[user_file]} {user_id} ({user_file}) still depends on it; change that first"
    if target in state.deleted_by:
        state.rejections.append(Rejection(file, state.deleted_by.pop(target), "status", reason))
    elif state.origin.get(target) == "package":
        state.rejections.append(Rejection(file, state.lines[target], None, reason))
    state.roster[file][record_id] = previous
    state.origin[target] = "kept"
    return True


def _missing(state: RecordView, file: str, record_id: str, column: str) -> Problem | None:
    if state.get(file, record_id) is not None:
        return None
    line = state.refused_line(file, record_id)
    noun = NOUNS[file]
    why = state.refused_file(file)
    if line is not None:
        reason = f"{noun} {record_id} was refused ({file} line {line})"
    elif why is not None:
        reason = f"{file} was refused, so {noun} {record_id} was not read: {why}"
    elif state.deleted_line(file, record_id) is not None:
        reason = f"{noun} {record_id} is deleted by this import"
    else:
        reason = f"{file} has no {noun} {record_id}"
    return Problem(column, reason, (file, record_id))


def _school(state: RecordView, org_id: str, column: str) -> Problem | None:
    missing = _missing(state, "orgs.csv", org_id, column)
    if missing is not None:
        return missing
    org = state.get("orgs.csv", org_id)
    assert org is not None
    if org["type"] != "school":
        return Problem(
            column, f"org {org_id} is a {org['type']}, not a school", ("orgs.csv", org_id)
        )
    return None


def _problems(state: RecordView, file: str, record_id: str, r: Fields) -> Iterator[Problem]:
    def ref(target: str, value: str | None, column: str) -> Iterator[Problem]:
        if value:
            problem = _missing(state, target, value, column)
            if problem is not None:
                yield problem

    if file in ("orgs.csv", "academicSessions.csv"):
        yield from ref(file, r.get("parentSourcedId"), "parentSourcedId")
    elif file == "courses.csv":
        yield from ref("orgs.csv", r["orgSourcedId"], "orgSourcedId")
        yield from ref("academicSessions.csv", r.get("schoolYearSourcedId"), "schoolYearSourcedId")
    elif file == "classes.csv":
        problem = _school(state, r["schoolSourcedId"], "schoolSourcedId")
        if problem is not None:
            yield problem
        for term in r["termSourcedIds"]:
            yield from ref("academicSessions.csv", term, "termSourcedIds")
        if state.courses_known:
            yield from ref("courses.csv", r["courseSourcedId"], "courseSourcedId")
    elif file == "users.csv":
        for agent in r.get("agentSourcedIds") or ():
            yield from ref("users.csv", agent, "agentSourcedIds")
        yield from ref("orgs.csv", r.get("primaryOrgSourcedId"), "primaryOrgSourcedId")
        if state.from_package(file, record_id):
            yield from _user_roles(state, record_id)
    elif file == "roles.csv":
        yield from ref("users.csv", r["userSourcedId"], "userSourcedId")
        yield from ref("orgs.csv", r["orgSourcedId"], "orgSourcedId")
    elif file == "enrollments.csv":
        yield from _enrollment(state, r)


def _user_roles(state: RecordView, user_id: str) -> Iterator[Problem]:
    roles = state.roles(user_id)
    if not roles:
        reason = "no row of roles.csv gives this user a role"
        if state.version == "1.1":
            reason = "none of the orgs in orgSourcedIds gives this user a role"
        yield Problem("sourcedId", reason)
        return
    student_orgs = [r["orgSourcedId"] for r in roles if r["role"] == "student"]
    if student_orgs and not any(
        (state.get("orgs.csv", o) or {}).get("type") == "school" for o in student_orgs
    ):
        reason = "this student's role in roles.csv is not at a school"
        if state.version == "1.1":
            reason = "none of this student's orgSourcedIds is a school"
        yield Problem("sourcedId", reason)


def _enrollment(state: RecordView, r: Fields) -> Iterator[Problem]:
    class_id, user_id, school_id = r["classSourcedId"], r["userSourcedId"], r["schoolSourcedId"]
    problems = [
        _missing(state, "classes.csv", class_id, "classSourcedId"),
        _missing(state, "users.csv", user_id, "userSourcedId"),
        _school(state, school_id, "schoolSourcedId"),
    ]
    found = [p for p in problems if p is not None]
    yield from found
    if found:
        return
    klass = state.get("classes.csv", class_id)
    assert klass is not None
    class_school = klass["schoolSourcedId"]
    if class_school != school_id:
        yield Problem(
            "schoolSourcedId",
            f"class {class_id} belongs to school {class_school}, not {school_id}",
            ("classes.csv", class_id),
        )
    if r["role"] in ("student", "teacher"):
        roles = {role["role"] for role in state.roles(user_id)}
        if r["role"] not in roles:
            yield Problem(
                "role",
                f"user {user_id} has no {r['role']} role in roles.csv",
                ("users.csv", user_id),
            )
