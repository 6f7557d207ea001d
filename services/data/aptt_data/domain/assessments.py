"""Assessment results from an upload: a plain CSV or OneRoster lineItems.csv + results.csv.

Each row is checked on its own; a refused row never affects the others. One result per
student, skill and date: a second upload of the same score changes nothing, a different
score for the same day corrects it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from aptt_contracts.skills import Skill
from aptt_data.oneroster import fields as f
from aptt_data.oneroster.csvfile import CsvRow, CsvTable, Rejection, read_table

PLAIN_COLUMNS = ("student_sourced_id", "skill_code", "score", "assessed_on")
SCORE_STATUSES = frozenset(
    {"exempt", "fully graded", "not submitted", "partially graded", "submitted"}
)
RESULT_NAMESPACE = uuid.UUID("8f6d3c2e-4b1a-5e7f-9a0b-1c2d3e4f5a6b")


@dataclass(frozen=True)
class Columns:
    """Where a row's values came from, for the rejection report."""

    student: str
    skill: str
    score: str
    date: str


PLAIN = Columns(*PLAIN_COLUMNS)
GRADEBOOK = Columns("studentSourcedId", "lineItemSourcedId", "score", "scoreDate")


@dataclass(frozen=True)
class ResultRow:
    file: str
    line: int
    student_id: str
    skill_code: str
    score: float
    assessed_on: date
    columns: Columns

    @property
    def key(self) -> tuple[str, str, date]:
        return (self.student_id, self.skill_code, self.assessed_on)


@dataclass
class ResultRows:
    rows: list[ResultRow] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def result_id(district_id: str, student_id: str, skill_code: str, assessed_on: date) -> str:
    """Stable, so the same result from two uploads (or two formats) is one result."""
    name = f"{district_id}|{student_id}|{skill_code}|{assessed_on.isoformat()}"
    return str(uuid.uuid5(RESULT_NAMESPACE, name))


def read_plain(file: str, data: bytes) -> ResultRows:
    """student_sourced_id,skill_code,score,assessed_on (other columns are ignored)."""
    table = read_table(file, data, required_columns=PLAIN_COLUMNS)
    out = ResultRows(rejections=list(table.rejections))
    for row in table.rows:
        _collect(out, plain_result(file, row))
    return out


def _collect(out: ResultRows, found: ResultRow | list[Rejection]) -> None:
    if isinstance(found, ResultRow):
        out.rows.append(found)
    else:
        out.rejections.extend(found)


def plain_result(file: str, row: CsvRow) -> ResultRow | list[Rejection]:
    """One row of the plain format: the result it gives, or why it gives none."""
    values = row.values
    problems = _required(file, row.line, values, PLAIN_COLUMNS)
    score, when = _score_and_date(file, row.line, values, PLAIN, problems)
    if problems or score is None or when is None:
        return problems
    return ResultRow(file, row.line, values[PLAIN.student], values[PLAIN.skill], score, when, PLAIN)


GRADEBOOK_RESULT_COLUMNS = (
    "sourcedId",
    "lineItemSourcedId",
    "studentSourcedId",
    "scoreStatus",
    "score",
    "scoreDate",
)


def read_gradebook(files: Mapping[str, bytes]) -> ResultRows:
    """OneRoster 1.2 gradebook files: each line item names its skill in metadata.skillCode
    (or its title is the skill code); each fully graded result becomes a result."""
    items_table = read_table(
        "lineItems.csv", files["lineItems.csv"], required_columns=("sourcedId", "title")
    )
    results_table = read_table(
        "results.csv",
        files["results.csv"],
        required_columns=GRADEBOOK_RESULT_COLUMNS,
    )
    out = ResultRows(rejections=[*items_table.rejections, *results_table.rejections])
    skills, refused = line_items(items_table, out.rejections)
    for row in results_table.rows:
        _collect(out, gradebook_result(row, skills, refused))
    return out


def gradebook_result(
    row: CsvRow, skills: Mapping[str, str], refused: Mapping[str, int]
) -> ResultRow | list[Rejection]:
    """One row of results.csv, given the line items' skills (and the refused line items)."""
    values = row.values
    problems = _required(
        "results.csv", row.line, values, ("sourcedId", "lineItemSourcedId", "studentSourcedId")
    )
    item = values["lineItemSourcedId"]
    if values.get("status") == "tobedeleted":
        problems.append(
            Rejection("results.csv", row.line, "status", "results are corrected, not deleted")
        )
    if values["scoreStatus"] != "fully graded":
        reason = (
            f"scoreStatus is {values['scoreStatus']!r}: only fully graded results are recorded"
            if values["scoreStatus"] in SCORE_STATUSES
            else f"{values['scoreStatus']!r} is not a OneRoster scoreStatus"
        )
        problems.append(Rejection("results.csv", row.line, "scoreStatus", reason))
    if item and item not in skills:
        reason = (
            f"line item {item} was refused (lineItems.csv line {refused[item]})"
            if item in refused
            else f"lineItems.csv has no line item {item}"
        )
        problems.append(Rejection("results.csv", row.line, "lineItemSourcedId", reason))
    raw_date = values.get("scoreDate", "")
    values = {**values, "scoreDate": raw_date[:10] if "T" in raw_date else raw_date}
    score, when = _score_and_date("results.csv", row.line, values, GRADEBOOK, problems)
    if problems or score is None or when is None:
        return problems
    return ResultRow(
        "results.csv",
        row.line,
        values["studentSourcedId"],
        skills[item],
        score,
        when,
        GRADEBOOK,
    )


def line_items(
    table: CsvTable, rejections: list[Rejection]
) -> tuple[dict[str, str], dict[str, int]]:
    skills: dict[str, str] = {}
    refused: dict[str, int] = {}
    for row in table.rows:
        item_id = row.values["sourcedId"]
        code = row.values.get("metadata.skillCode") or row.values["title"]
        if not item_id or not code:
            column = "sourcedId" if not item_id else "title"
            rejections.append(Rejection(table.file, row.line, column, f"{column} is required"))
            if item_id:
                refused[item_id] = row.line
            continue
        if item_id in skills:
            rejections.append(
                Rejection(table.file, row.line, "sourcedId", f"line item {item_id} is listed twice")
            )
            continue
        skills[item_id] = code
    return skills, refused


def _required(
    file: str, line: int, values: Mapping[str, str], columns: Sequence[str]
) -> list[Rejection]:
    return [Rejection(file, line, c, f"{c} is required") for c in columns if not values.get(c)]


def _score_and_date(
    file: str,
    line: int,
    values: Mapping[str, str],
    columns: Columns,
    problems: list[Rejection],
) -> tuple[float | None, date | None]:
    score: float | None = None
    when: date | None = None
    for column in (columns.score, columns.date):
        raw = values.get(column, "")
        if not raw:
            if not any(p.column == column for p in problems):
                problems.append(Rejection(file, line, column, f"{column} is required"))
            continue
        try:
            if column == columns.score:
                score = f.number(raw)
            else:
                when = date.fromisoformat(f.iso_date(raw))
        except f.BadValue as exc:
            problems.append(Rejection(file, line, column, str(exc)))
    return score, when


def check_results(
    found: ResultRows,
    *,
    students: Mapping[str, str],
    skills: Mapping[str, Skill],
    today: date,
    scope: str,
) -> ResultRows:
    """Rows whose student and skill exist, scores on the skill's scale, dates not ahead;
    one row per student, skill and date (exact copies refused as duplicates, conflicting
    copies all refused)."""
    checked = ResultRows(rejections=list(found.rejections))
    candidates: list[ResultRow] = []
    latest_allowed = today + timedelta(days=1)  # a school ahead of UTC is already tomorrow
    for row in found.rows:
        problems = result_problems(
            row, students=students, skills=skills, latest_allowed=latest_allowed, scope=scope
        )
        if problems:
            checked.rejections.extend(problems)
        else:
            candidates.append(row)
    by_key: dict[tuple[str, str, date], list[ResultRow]] = {}
    for row in candidates:
        by_key.setdefault(row.key, []).append(row)
    for copies in by_key.values():
        first = copies[0]
        if all(c.score == first.score for c in copies):
            checked.rows.append(first)
            checked.rejections.extend(
                Rejection(c.file, c.line, None, f"duplicate of line {first.line}")
                for c in copies[1:]
            )
            continue
        lines = ", ".join(str(c.line) for c in copies)
        checked.rejections.extend(
            Rejection(
                c.file,
                c.line,
                c.columns.score,
                f"lines {lines} give different scores for the same student, skill and date",
            )
            for c in copies
        )
    checked.rejections.sort(key=lambda r: (r.file, r.line or 0))
    return checked


def result_problems(
    row: ResultRow,
    *,
    students: Mapping[str, str],
    skills: Mapping[str, Skill],
    latest_allowed: date,
    scope: str,
) -> list[Rejection]:
    """Why a row cannot be recorded: its student (among `students`), skill, scale, date."""
    cols = row.columns
    problems = []
    if row.student_id not in students:
        problems.append((cols.student, f"no student {row.student_id} in {scope}"))
    skill = skills.get(row.skill_code)
    if skill is None:
        problems.append((cols.skill, f"no skill {row.skill_code!r}; see GET /v1/skills"))
    elif not skill.scale_min <= row.score <= skill.scale_max:
        problems.append(
            (
                cols.score,
                f"{row.score:g} is outside the {skill.code} scale "
                f"{skill.scale_min:g}-{skill.scale_max:g}",
            )
        )
    if row.assessed_on > latest_allowed:
        problems.append((cols.date, f"{row.assessed_on.isoformat()} is in the future"))
    return [Rejection(row.file, row.line, c, r) for c, r in problems]
