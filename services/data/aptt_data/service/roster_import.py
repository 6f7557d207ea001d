"""The roster import job: read a OneRoster package row by row, check its integrity against
what is stored with indexed lookups, then apply it in chunks (records, then the roster derived
from them, kind by kind, then removals) with its events.

Memory stays bounded by the batch size: no step holds the district.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from aptt_platform.mongo import Document, Mongo, UnitOfWork

from aptt_data.domain.changes import Changes, compare, total
from aptt_data.domain.roster import ID_FIELDS, KINDS, Kind, derive
from aptt_data.oneroster.csvfile import FileRejected, Rejection, iter_lines, stream_table
from aptt_data.oneroster.package import Package, PackageError, RosterFile, open_package, roster_plan
from aptt_data.oneroster.resolve import (
    FILES,
    LINK_FILES,
    MAX_PASSES,
    NOUNS,
    Window,
    problems_of,
    references,
    refused_files,
)
from aptt_data.oneroster.spec import (
    Mode,
    RowCheck,
    Version,
    check_row,
    refusal,
    row_columns,
    split_user,
)
from aptt_data.service import Config, schools
from aptt_data.service.imports import (
    TOUCHED_CLASSROOMS,
    TOUCHED_PHASES,
    TOUCHED_STUDENTS,
    Chunk,
    ImportFailed,
    Phase,
    Source,
    Step,
    in_state,
    report_rejections,
    report_warnings,
    staged_rows,
    touch,
)
from aptt_data.service.roster import kind_events, removal_events
from aptt_data.store import IMPORT_ROWS, ROSTER_RECORDS
from aptt_data.store import imports as job_store
from aptt_data.store import roster as store
from aptt_data.store.roster import ref_key

Fields = dict[str, Any]
Key = tuple[str, str]
ROWS_PER_BATCH = 1000
SOURCE_FILE: dict[Kind, str] = {
    "schools": "orgs.csv",
    "students": "users.csv",
    "guardians": "users.csv",
    "classrooms": "classes.csv",
    "teachers": "users.csv",
}
# Events go out as they always did: schools, students, guardians, classrooms, then removals.
UPSERT_ORDER: tuple[Kind, ...] = ("schools", "students", "guardians", "classrooms", "teachers")
REMOVAL_ORDER: tuple[Kind, ...] = ("classrooms", "students", "guardians", "teachers", "schools")


# -- validation: the streaming pass -------------------------------------------------------


async def validate(mongo: Mongo, job: Document, *, owner: str, config: Config) -> None:
    """Stage every row of the package that passes its own checks, record the others, then
    refuse what breaks the roster's integrity. Restartable: it begins from a clean slate."""
    district_id, import_id = job["district_id"], job["import_id"]
    await job_store.wipe(mongo.db, district_id, import_id)
    await job_store.update_job(
        mongo.db,
        import_id,
        owner=owner,
        set_={
            "status": "validating",
            "progress": {"rows_read": 0, "rows_applied": 0, "rows_rejected": 0},
        },
    )
    with tempfile.TemporaryFile() as spool:
        async for chunk in job_store.read_upload(mongo.db, job["upload_id"]):
            await asyncio.to_thread(spool.write, chunk)
        spool.seek(0)
        staged = await _stage_package(mongo, job, spool, owner=owner, config=config)
    async with mongo.client.start_session() as session:
        reader = UnitOfWork(db=mongo.db, session=session)
        courses_known = "courses.csv" in staged.files or await store.has_records(
            reader, district_id, "courses.csv"
        )
        resolver = _Resolver(mongo, reader, job, staged, courses_known)
        await resolver.run()
    await job_store.update_job(
        mongo.db,
        import_id,
        owner=owner,
        set_={"phase": "records", "checkpoint": None, "status": "applying"},
        inc={"progress.rows_rejected": resolver.refused},
    )


@dataclass(frozen=True)
class Staged:
    """What validation staged: the binding, the files read, the files refused whole."""

    version: Version
    files: list[str]
    refused: list[Rejection]


async def _stage_package(
    mongo: Mongo, job: Document, spool: IO[bytes], *, owner: str, config: Config
) -> Staged:
    mode: Mode = job["mode"]
    async with mongo.client.start_session() as session:
        region = await schools.phone_region(
            UnitOfWork(db=mongo.db, session=session), job["district_id"], config
        )
    try:
        package = await asyncio.to_thread(
            open_package,
            spool,
            max_unzipped_bytes=config.max_unzipped_bytes,
            upload_name=job["upload_name"],
        )
    except PackageError as exc:
        raise ImportFailed(exc.reason, file=exc.file) from exc
    try:
        try:
            plan = roster_plan(package, mode=mode, phone_region=region)
        except PackageError as exc:
            raise ImportFailed(exc.reason, file=exc.file) from exc
        refused = list(plan.rejections)
        await job_store.add_rejections(mongo.db, job["district_id"], job["import_id"], refused)
        read: list[str] = []
        for item in plan.files:
            # A 1.1 users.csv also gives the roles (roles.csv in the 1.2 model).
            made = ["roles.csv"] if plan.version == "1.1" and item.spec.file == "users.csv" else []
            try:
                await _stage_file(mongo, job, package, item, owner=owner, version=plan.version)
            except FileRejected as exc:
                for file in (item.spec.file, *made):
                    await job_store.unstage_file(
                        mongo.db, job["district_id"], job["import_id"], file
                    )
                await job_store.add_rejections(
                    mongo.db, job["district_id"], job["import_id"], [exc.rejection]
                )
                refused.append(exc.rejection)
                continue
            except PackageError as exc:
                raise ImportFailed(exc.reason, file=exc.file) from exc
            read += [item.spec.file, *made]
        return Staged(plan.version, read, refused)
    finally:
        package.close()


Checked = tuple[int, str, RowCheck]  # line, digest of the raw values, the check


@dataclass
class Batch:
    rows: list[Any]  # checked rows and refused ones
    made: list[Checked]  # the roles a 1.1 users.csv gives
    warnings: list[Rejection]  # of the header


def _checked_batches(
    package: Package, item: RosterFile, mode: Mode, version: Version
) -> Iterator[Batch]:
    """The file's rows checked one by one, in batches (run in a worker thread)."""
    spec = item.spec
    stream = stream_table(
        spec.file,
        iter_lines(spec.file, package.chunks(spec.file)),
        required_columns=item.required,
        known_columns=spec.column_names,
    )
    columns = row_columns(spec, stream.header)
    split = version == "1.1" and spec.file == "users.csv"
    header_warnings = stream.warnings
    batch: list[Any] = []
    made: list[Checked] = []
    for row in stream.rows:
        if isinstance(row, Rejection):
            batch.append(row)
        else:
            digest = hashlib.blake2b(
                repr(sorted(row.values.items())).encode(), digest_size=12
            ).hexdigest()
            check = check_row(spec, columns, row, mode=mode)
            if split and check.record is not None:
                user, roles = split_user(check.record)
                check = RowCheck(check.sourced_id, user, [], check.warnings)
                made += [
                    (
                        row.line,
                        f"{digest}~{r.fields['orgSourcedId']}",
                        RowCheck(r.sourced_id, r, []),
                    )
                    for r in roles
                ]
            batch.append((row.line, digest, check))
        if len(batch) >= ROWS_PER_BATCH:
            yield Batch(batch, made, header_warnings)
            batch, made, header_warnings = [], [], []
    if batch or header_warnings:
        yield Batch(batch, made, header_warnings)


async def _stage_file(
    mongo: Mongo, job: Document, package: Package, item: RosterFile, *, owner: str, version: Version
) -> None:
    district_id, import_id, file = job["district_id"], job["import_id"], item.spec.file
    batches = await asyncio.to_thread(_checked_batches, package, item, job["mode"], version)
    done = object()
    while (next_batch := await asyncio.to_thread(next, batches, done)) is not done:
        assert isinstance(next_batch, Batch)
        batch = next_batch.rows
        await job_store.add_warnings(mongo.db, district_id, import_id, next_batch.warnings)
        rejected = await _stage_batch(mongo, job, file, batch)
        if next_batch.made:
            # What is wrong with these rows is reported once, at their users.csv rows.
            await _stage_batch(mongo, job, "roles.csv", list(next_batch.made), report=False)
        await job_store.update_job(
            mongo.db,
            import_id,
            owner=owner,
            inc={"progress.rows_read": len(batch), "progress.rows_rejected": rejected},
        )
    conflicts = (
        await mongo.db[IMPORT_ROWS]
        .find(
            {"district_id": district_id, "import_id": import_id, "conflict": True},
            {"file": 1, "sourced_id": 1, "line": 1, "copies": 1},
        )
        .to_list()
    )
    # The file is checked here: beside the conflicts' index it would make a scan.
    conflicts = [doc for doc in conflicts if doc["file"] == file]
    found = []
    for doc in conflicts:
        lines = sorted([doc["line"], *doc["copies"]])
        listed = ", ".join(str(n) for n in lines)
        reason = f"sourcedId {doc['sourced_id']} appears on lines {listed} with different values"
        found += [Rejection(file, n, "sourcedId", reason) for n in lines]
    await job_store.add_rejections(mongo.db, district_id, import_id, found)


async def _stage_batch(
    mongo: Mongo, job: Document, file: str, batch: list[Any], *, report: bool = True
) -> int:
    """Stage a batch of checked rows. The first row of a sourcedId is staged; an exact copy
    later is refused as a duplicate; copies that differ are all refused."""
    district_id, import_id = job["district_id"], job["import_id"]
    rejections: list[Rejection] = [r for r in batch if isinstance(r, Rejection)]
    checked: list[Checked] = [c for c in batch if not isinstance(c, Rejection)]
    warnings: list[Rejection] = []
    async with mongo.client.start_session() as session:
        reader = UnitOfWork(db=mongo.db, session=session)
        earlier = await job_store.staged(
            reader, district_id, import_id, file, (c.sourced_id for _, _, c in checked)
        )
    new: dict[str, Document] = {}
    for line, digest, check in checked:
        rejections += check.problems
        if not check.sourced_id:
            continue
        first = new.get(check.sourced_id) or earlier.get(check.sourced_id)
        if first is None:
            new[check.sourced_id] = _staged_row(job, file, line, digest, check)
            warnings += check.warnings
            continue
        accepted = check.record is not None
        if not accepted and first["state"] == "refused" and not first.get("conflict"):
            continue
        if accepted and first["state"] == "accepted" and first["digest"] == digest:
            rejections.append(
                Rejection(file, line, "sourcedId", f"duplicate of line {first['line']}")
            )
            continue
        first.update(state="refused", conflict=True, copies=[*first.get("copies", []), line])
        if check.sourced_id not in new:
            await job_store.set_staged(
                mongo.db,
                district_id,
                import_id,
                file,
                check.sourced_id,
                {"$set": {"state": "refused", "conflict": True}, "$push": {"copies": line}},
            )
    await job_store.stage(mongo.db, list(new.values()))
    if not report:
        return 0
    await job_store.add_warnings(mongo.db, district_id, import_id, warnings)
    return await job_store.add_rejections(mongo.db, district_id, import_id, rejections)


def _staged_row(job: Document, file: str, line: int, digest: str, check: RowCheck) -> Document:
    doc: Document = {
        "district_id": job["district_id"],
        "import_id": job["import_id"],
        "file": file,
        "sourced_id": check.sourced_id,
        "line": line,
        "digest": digest,
        "state": "accepted" if check.record is not None else "refused",
    }
    if check.record is not None:
        doc["deleted"] = check.record.deleted
        doc["fields"] = check.record.fields
        doc["refs"] = [ref_key(f, i) for f, i in references(file, check.record.fields)]
        if check.record.source_file is not None:
            doc["source_file"] = check.record.source_file
    return doc


# -- referential integrity, with indexed lookups ------------------------------------------


class _Resolver:
    """The rules of `oneroster.resolve`, applied batch by batch against the staged rows and
    the stored records. States of staged rows: accepted (applied), refused (what was stored
    stays), remove (a stored record this import deletes), kept (a stored record a bulk file
    left out that something still needs)."""

    def __init__(
        self,
        mongo: Mongo,
        reader: UnitOfWork,
        job: Document,
        staged: Staged,
        courses_known: bool,
    ) -> None:
        self.mongo = mongo
        self.reader = reader
        self.job = job
        self.district_id = job["district_id"]
        self.import_id = job["import_id"]
        self.bulk = job["mode"] == "bulk"
        self.files = set(staged.files)
        self.version = staged.version
        self.refused_files = refused_files(staged.refused)
        self.courses_known = courses_known
        # A 1.1 user row and a REST user record carry all the user's roles.
        self.roles_follow_users = self.version == "1.1" or job.get("source") == "rest"
        self.refused = 0

    async def run(self) -> None:
        if self.bulk:
            for file in self.files:
                await self._mark_left_out(file)
        elif self.roles_follow_users and "users.csv" in self.files:
            await self._replace_roles_of_users()
        await self._protect_what_stays()
        for _ in range(MAX_PASSES):
            if not await self._one_pass():
                break

    async def _mark_left_out(self, file: str) -> None:
        """A bulk file replaces its kind: stored records it does not name are removed."""
        cursor = self.mongo.db[ROSTER_RECORDS].find(
            {"district_id": self.district_id, "file": file}, {"_id": 0, "sourced_id": 1}
        )
        async for page in _batches(cursor, ROWS_PER_BATCH):
            seen = await job_store.staged(
                self.reader, self.district_id, self.import_id, file, (d["sourced_id"] for d in page)
            )
            await job_store.stage(
                self.mongo.db,
                [
                    {
                        "district_id": self.district_id,
                        "import_id": self.import_id,
                        "file": file,
                        "sourced_id": d["sourced_id"],
                        "state": "remove",
                    }
                    for d in page
                    if d["sourced_id"] not in seen
                ],
            )

    async def _replace_roles_of_users(self) -> None:
        """A 1.1 delta's user row (and a REST user record) carries all the user's roles:
        stored ones it no longer names go."""
        async for page in job_store.staged_batches(
            self.mongo.db,
            self.district_id,
            self.import_id,
            lambda row: row["file"] == "users.csv" and _accepted(row),
            ROWS_PER_BATCH,
        ):
            refs = [ref_key("users.csv", d["sourced_id"]) for d in page]
            stored = await store.records_referring(self.reader, self.district_id, refs, "roles.csv")
            named = await job_store.staged(
                self.reader,
                self.district_id,
                self.import_id,
                "roles.csv",
                (d["sourced_id"] for d in stored),
            )
            for role in stored:
                if role["sourced_id"] not in named:
                    await self._remove_link(role)

    async def _protect_what_stays(self) -> None:
        """A record that stays as it was keeps what it points to: a link (role, enrollment)
        goes with what it links; anything else stops the deletion, and a delta row that asked
        for it is refused."""
        async for page in job_store.staged_batches(
            self.mongo.db, self.district_id, self.import_id, _removed, ROWS_PER_BATCH
        ):
            for doc in page:
                await self._protect(doc)

    async def _protect(self, doc: Document) -> None:
        key = ref_key(doc["file"], doc["sourced_id"])
        referrers = await store.records_referring(self.reader, self.district_id, [key])
        for referrer in referrers:
            if not await self._stays_as_stored(referrer["file"], referrer["sourced_id"]):
                continue
            if referrer["file"] in LINK_FILES:
                await self._remove_link(referrer)
                continue
            await self._keep(doc, used_by=(referrer["file"], referrer["sourced_id"]))
            return

    async def _stays_as_stored(self, file: str, sid: str) -> bool:
        staged = (
            await job_store.staged(self.reader, self.district_id, self.import_id, file, [sid])
        ).get(sid)
        if staged is None:
            return not (self.bulk and file in self.files)
        return bool(staged["state"] in ("refused", "kept"))

    async def _remove_link(self, record: Document) -> None:
        await self.mongo.db[IMPORT_ROWS].update_one(
            {
                "district_id": self.district_id,
                "import_id": self.import_id,
                "file": record["file"],
                "sourced_id": record["sourced_id"],
            },
            {"$set": {"state": "remove"}},
            upsert=True,
        )

    async def _keep(self, doc: Document, *, used_by: Key) -> None:
        """Keep a stored record something stored still needs, and what it needs in turn."""
        file, sid = doc["file"], doc["sourced_id"]
        user_file, user_id = used_by
        if doc["state"] == "accepted":
            reason = (
                f"{NOUNS[user_file]} {user_id} ({user_file}) still depends on it; change that first"
            )
            await self._refuse(doc, [Rejection(file, doc["line"], "status", reason)])
        else:
            await job_store.set_staged(
                self.mongo.db,
                self.district_id,
                self.import_id,
                file,
                sid,
                {"$set": {"state": "kept"}},
            )
        stored = (await store.records(self.reader, self.district_id, file, [sid])).get(sid)
        for target_file, target_id in references(file, stored or {}):
            target = (
                await job_store.staged(
                    self.reader, self.district_id, self.import_id, target_file, [target_id]
                )
            ).get(target_id)
            if target is not None and (
                target["state"] == "remove"
                or (target["state"] == "accepted" and target.get("deleted"))
            ):
                await self._keep(target, used_by=(file, sid))

    async def _refuse(self, doc: Document, found: list[Rejection]) -> None:
        await job_store.set_staged(
            self.mongo.db,
            self.district_id,
            self.import_id,
            doc["file"],
            doc["sourced_id"],
            {"$set": {"state": "refused"}},
        )
        doc["state"] = "refused"
        self.refused += await job_store.add_rejections(
            self.mongo.db, self.district_id, self.import_id, found
        )

    async def _one_pass(self) -> bool:
        changed = False
        async for page in job_store.staged_batches(
            self.mongo.db, self.district_id, self.import_id, _accepted, ROWS_PER_BATCH
        ):
            window = await self._window(page)
            for doc in page:
                file, sid = doc["file"], doc["sourced_id"]
                problems = problems_of(window, file, sid, doc["fields"])
                if not problems:
                    continue
                changed = True
                source = doc.get("source_file")
                await self._refuse(
                    doc,
                    [refusal(file, source, doc["line"], p.column, p.reason) for p in problems],
                )
                stored = (await store.records(self.reader, self.district_id, file, [sid])).get(sid)
                window.records[(file, sid)] = stored
                window.refused[(file, sid)] = doc["line"]
                window.package_keys.discard((file, sid))
        return changed

    async def _window(self, page: list[Document]) -> Window:
        window = Window(
            courses_known=self.courses_known,
            version=self.version,
            refused_files=self.refused_files,
        )
        wanted: set[Key] = set()
        users: set[str] = set()
        for doc in page:
            file, fields = doc["file"], doc["fields"]
            window.package_keys.add((file, doc["sourced_id"]))
            wanted |= set(references(file, fields))
            wanted.add((file, doc["sourced_id"]))
            if file == "users.csv":
                users.add(doc["sourced_id"])
            elif file == "enrollments.csv":
                users.add(fields["userSourcedId"])
        window.roles_by_user = await self._roles_of(users)
        for roles in window.roles_by_user.values():
            wanted |= {("orgs.csv", r["orgSourcedId"]) for r in roles}
        await self._present(window, wanted)
        classes = [v for (f, _), v in window.records.items() if f == "classes.csv" and v]
        await self._present(window, {("orgs.csv", c["schoolSourcedId"]) for c in classes})
        return window

    async def _present(self, window: Window, keys: set[Key]) -> None:
        """What the roster will hold for these keys after the import, and why not."""
        by_file: dict[str, set[str]] = {}
        for file, sid in keys:
            if (file, sid) not in window.records:
                by_file.setdefault(file, set()).add(sid)
        for file, ids in by_file.items():
            staged = await job_store.staged(
                self.reader, self.district_id, self.import_id, file, ids
            )
            needed = [
                sid
                for sid in ids
                if (staged.get(sid) or {}).get("state") in ("refused", "kept")
                or (sid not in staged and not (self.bulk and file in self.files))
            ]
            stored = await store.records(self.reader, self.district_id, file, needed)
            for sid in ids:
                doc = staged.get(sid)
                value: Fields | None
                if doc is None:
                    value = None if (self.bulk and file in self.files) else stored.get(sid)
                elif doc["state"] == "accepted":
                    value = None if doc["deleted"] else doc["fields"]
                    if doc["deleted"]:
                        window.deleted[(file, sid)] = doc["line"]
                elif doc["state"] == "remove":
                    value = None
                else:
                    value = stored.get(sid)
                    if doc["state"] == "refused" and "line" in doc:
                        window.refused[(file, sid)] = doc["line"]
                window.records[(file, sid)] = value

    async def _roles_of(self, users: set[str]) -> dict[str, list[Fields]]:
        if not users:
            return {}
        refs = [ref_key("users.csv", u) for u in users]
        found: dict[str, Fields] = {}
        for doc in await job_store.staged_referring(
            self.reader, self.district_id, self.import_id, "roles.csv", refs
        ):
            if doc["state"] == "accepted" and not doc["deleted"]:
                found[doc["sourced_id"]] = doc["fields"]
        stored = await store.records_referring(self.reader, self.district_id, refs, "roles.csv")
        overrides = await job_store.staged(
            self.reader,
            self.district_id,
            self.import_id,
            "roles.csv",
            (d["sourced_id"] for d in stored),
        )
        for doc in stored:
            sid = doc["sourced_id"]
            staged = overrides.get(sid)
            if staged is None:
                if not (self.bulk and "roles.csv" in self.files):
                    found.setdefault(sid, doc["fields"])
            elif staged["state"] in ("refused", "kept"):
                found[sid] = doc["fields"]
        roles: dict[str, list[Fields]] = {}
        for fields in found.values():
            if fields["userSourcedId"] in users:
                roles.setdefault(fields["userSourcedId"], []).append(fields)
        return roles


# -- applying: records, the derived roster, removals --------------------------------------


async def apply_records(
    uow: UnitOfWork, job: Document, config: Config, docs: list[Document]
) -> Step:
    """Chunk: accepted rows replace the stored records; removed records go."""
    upserts = [
        (d["file"], d["sourced_id"], d["fields"], d["refs"])
        for d in docs
        if d["state"] == "accepted" and not d["deleted"]
    ]
    deletes = [
        (d["file"], d["sourced_id"]) for d in docs if d["state"] == "remove" or d.get("deleted")
    ]
    await store.write_records(uow, job["district_id"], upserts, deletes)
    return Step(inc={"progress.rows_applied": len(docs)})


def upserts_of(kind: Kind) -> Chunk:
    async def chunk(uow: UnitOfWork, job: Document, config: Config, docs: list[Document]) -> Step:
        """Chunk: derive a batch of one kind from the records, write and publish changes."""
        sources = {d["sourced_id"]: d["fields"] for d in docs}
        wanted = await _derive(uow, job, kind, sources, config)
        current = await store.entities(uow, job["district_id"], kind, wanted)
        changes = compare(current, wanted)
        await _write(uow, job, kind, changes, config)
        return Step(inc=_counts(kind, changes))

    return chunk


def removals_of(kind: Kind) -> Chunk:
    async def chunk(uow: UnitOfWork, job: Document, config: Config, docs: list[Document]) -> Step:
        """Chunk: what the records no longer describe leaves the roster (after all upserts)."""
        ids = [d[ID_FIELDS[kind]] for d in docs]
        sources = await store.records(uow, job["district_id"], SOURCE_FILE[kind], ids)
        still = await _derive(uow, job, kind, sources, config)
        gone = [i for i in ids if i not in still]
        changes = Changes(deleted=await store.entities(uow, job["district_id"], kind, gone))
        await _write(uow, job, kind, changes, config)
        return Step(inc=_counts(kind, changes))

    return chunk


def _counts(kind: Kind, changes: Changes) -> dict[str, int]:
    counts = changes.counts()
    inc = {f"by_kind.{kind}.{name}": n for name, n in counts.items() if n}
    applied = counts["created"] + counts["updated"] + counts["deleted"]
    if applied:
        inc["progress.entities_applied"] = applied
    return inc


async def _write(
    uow: UnitOfWork, job: Document, kind: Kind, changes: Changes, config: Config
) -> None:
    district_id = job["district_id"]
    on_insert = None
    if kind == "schools":
        on_insert = {"timezone": config.default_timezone, "language": config.default_language}
    await store.write_entities(uow, district_id, kind, changes, on_insert=on_insert)
    settings = await store.school_settings(uow, district_id) if kind == "schools" else {}
    for event in [
        *kind_events(district_id, kind, changes, settings, config),
        *removal_events(district_id, kind, changes.deleted),
    ]:
        uow.publish(event)
    if kind == "classrooms":
        await touch(
            uow, job, TOUCHED_CLASSROOMS, [*changes.created, *changes.updated, *changes.deleted]
        )
    elif kind == "students":
        await touch(uow, job, TOUCHED_STUDENTS, [*changes.updated, *changes.deleted])


async def _derive(
    uow: UnitOfWork, job: Document, kind: Kind, sources: Mapping[str, Fields], config: Config
) -> dict[str, Fields]:
    """The entities of one kind that these source records (users, classes or orgs) give,
    from a window of the records they depend on."""
    district_id = job["district_id"]
    window: dict[str, dict[str, Fields]] = {f: {} for f in FILES}
    window[SOURCE_FILE[kind]].update(sources)
    users = window["users.csv"]
    if kind in ("students", "guardians"):
        # The other side of each family link, both ways (agentSourcedIds on either user).
        others = {a for u in sources.values() for a in u.get("agentSourcedIds") or ()}
        refs = [ref_key("users.csv", i) for i in sources]
        for doc in await store.records_referring(uow, district_id, refs, "users.csv"):
            users[doc["sourced_id"]] = doc["fields"]
        users.update(await store.records(uow, district_id, "users.csv", others - users.keys()))
    elif kind == "classrooms":
        await _add_enrollments(
            uow, district_id, window, [ref_key("classes.csv", c) for c in sources]
        )
        courses = {c["courseSourcedId"] for c in sources.values()}
        window["courses.csv"] = await store.records(uow, district_id, "courses.csv", courses)
    elif kind == "teachers":
        await _add_enrollments(uow, district_id, window, [ref_key("users.csv", u) for u in sources])
        classes = {e["classSourcedId"] for e in window["enrollments.csv"].values()}
        window["classes.csv"] = await store.records(uow, district_id, "classes.csv", classes)
    if users:
        refs = [ref_key("users.csv", u) for u in users]
        roles = await store.records_referring(uow, district_id, refs, "roles.csv")
        window["roles.csv"] = {d["sourced_id"]: d["fields"] for d in roles}
    orgs = {r["orgSourcedId"] for r in window["roles.csv"].values()}
    orgs |= {c["schoolSourcedId"] for c in window["classes.csv"].values()}
    if kind != "schools":
        window["orgs.csv"] = await store.records(uow, district_id, "orgs.csv", orgs)
    languages: dict[str, str] = {}
    if kind == "guardians":
        settings = await store.school_settings(uow, district_id)
        languages = {k: v.get("language", config.default_language) for k, v in settings.items()}
    view = derive(
        window,
        today=date.fromisoformat(job["today"]),
        school_languages=languages,
        default_language=config.default_language,
    )
    return {k: v for k, v in view.documents(kind).items() if k in sources}


async def _add_enrollments(
    uow: UnitOfWork, district_id: str, window: dict[str, dict[str, Fields]], refs: list[str]
) -> None:
    found = await store.records_referring(uow, district_id, refs, "enrollments.csv")
    window["enrollments.csv"] = {d["sourced_id"]: d["fields"] for d in found}
    members = {e["userSourcedId"] for e in window["enrollments.csv"].values()}
    window["users.csv"].update(
        await store.records(uow, district_id, "users.csv", members - window["users.csv"].keys())
    )


async def finish(uow: UnitOfWork, job: Document, config: Config, docs: list[Document]) -> Step:
    """Chunk: the report, as a roster import always answered."""
    by_kind = {
        kind: {
            name: job.get("by_kind", {}).get(kind, {}).get(name, 0)
            for name in ("created", "updated", "unchanged", "deleted")
        }
        for kind in KINDS
    }
    counts = total(list(by_kind.values()))
    report = {
        "counts": counts,
        "by_kind": by_kind,
        **await report_rejections(uow, job, config),
        **await report_warnings(uow, job, config),
    }
    return Step(set_=report)


def _records(kind: Kind) -> Callable[[Document], dict[str, Any]]:
    return lambda job: {"district_id": job["district_id"], "file": SOURCE_FILE[kind]}


def _entities(job: Document) -> dict[str, Any]:
    return {"district_id": job["district_id"]}


PHASES: dict[str, Phase] = {
    "records": Phase(
        apply_records,
        Source(
            IMPORT_ROWS,
            staged_rows(),
            group="file",
            keep=in_state("accepted", "remove"),
        ),
    ),
    **{
        f"entities:{kind}": Phase(upserts_of(kind), Source(ROSTER_RECORDS, _records(kind)))
        for kind in UPSERT_ORDER
    },
    **{
        f"removals:{kind}": Phase(removals_of(kind), Source(kind, _entities, key=ID_FIELDS[kind]))
        for kind in REMOVAL_ORDER
    },
    **TOUCHED_PHASES,
    "finish": Phase(finish),
}


async def _batches(cursor: Any, size: int) -> AsyncIterator[list[Document]]:
    batch: list[Document] = []
    async for doc in cursor:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _removed(row: Document) -> bool:
    """A staged row that removes a stored record."""
    return row["state"] == "remove" or (row["state"] == "accepted" and row.get("deleted") is True)


def _accepted(row: Document) -> bool:
    """A staged row that adds or changes a record."""
    return row["state"] == "accepted" and row.get("deleted") is False
