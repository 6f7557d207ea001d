"""Validation's streaming pass of a roster import: each file of the package read row by
row, each row checked on its own and staged (or its rejection recorded), batch by batch."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from aptt_platform.mongo import Document, Mongo, UnitOfWork

from aptt_data.oneroster.csvfile import FileRejected, Rejection, iter_lines, stream_table
from aptt_data.oneroster.package import Package, PackageError, RosterFile, open_package, roster_plan
from aptt_data.oneroster.resolve import references
from aptt_data.oneroster.rowcheck import RowCheck, check_row, row_columns
from aptt_data.oneroster.spec import Mode, Version, split_user
from aptt_data.service import Config, schools
from aptt_data.service.imports import ImportFailed
from aptt_data.store import IMPORT_ROWS
from aptt_data.store import imports as job_store
from aptt_data.store.roster import ref_key

ROWS_PER_BATCH = 1000


@dataclass(frozen=True)
class Staged:
    """What validation staged: the binding, the files read, the files refused whole."""

    version: Version
    files: list[str]
    refused: list[Rejection]


async def stage_package(
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
