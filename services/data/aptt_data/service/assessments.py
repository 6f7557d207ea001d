"""Assessment results: import them as a job (a CSV or OneRoster gradebook files); skills are
`service.skills`, reading results `service.results`."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import IO, Any

from aptt_contracts.data import AssessmentResultRecorded
from aptt_contracts.skills import Skill
from aptt_platform.mongo import Document, Mongo, UnitOfWork

from aptt_data.domain.assessments import (
    GRADEBOOK_RESULT_COLUMNS,
    PLAIN_COLUMNS,
    ResultRow,
    gradebook_result,
    line_items,
    plain_result,
    result_id,
    result_problems,
)
from aptt_data.domain.skills import catalogue
from aptt_data.oneroster.csvfile import (
    FileRejected,
    Rejection,
    iter_lines,
    read_table,
    stream_table,
)
from aptt_data.oneroster.package import PackageError, open_package
from aptt_data.service import Config
from aptt_data.service.import_reports import (
    TOUCHED_PHASES,
    TOUCHED_STUDENTS,
    report_rejections,
    touch,
)
from aptt_data.service.imports import ImportFailed, Phase, Source, Step, in_state, staged_rows
from aptt_data.store import IMPORT_ROWS
from aptt_data.store import assessments as store
from aptt_data.store import imports as job_store
from aptt_data.store import roster as roster_store

ZIP_MAGIC = b"PK\x03\x04"


RESULTS_FILE = "results"  # how staged result rows are filed
ROWS_PER_BATCH = 1000


async def validate_results(mongo: Mongo, job: Document, *, owner: str, config: Config) -> None:
    """Check every row as it is read and stage the acceptable ones: student in the roster
    (in the importer's schools), skill, scale, date; one row per student, skill and date."""
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
    async with mongo.client.start_session() as session:
        reader = UnitOfWork(db=mongo.db, session=session)
        skills = catalogue(await store.custom_skills(reader, district_id))
        with tempfile.TemporaryFile() as spool:
            async for chunk in job_store.read_upload(mongo.db, job["upload_id"]):
                await asyncio.to_thread(spool.write, chunk)
            spool.seek(0)
            batches = _result_batches(spool, job["upload_name"], config)
            done = object()
            try:
                while (batch := await asyncio.to_thread(next, batches, done)) is not done:
                    assert isinstance(batch, list)
                    rejected = await _stage_results(mongo, reader, job, batch, skills)
                    await job_store.update_job(
                        mongo.db,
                        import_id,
                        owner=owner,
                        inc={"progress.rows_read": len(batch), "progress.rows_rejected": rejected},
                    )
            except FileRejected as exc:
                await job_store.wipe(mongo.db, district_id, import_id)
                await job_store.add_rejections(mongo.db, district_id, import_id, [exc.rejection])
            except PackageError as exc:
                raise ImportFailed(exc.reason, file=exc.file) from exc
    conflicts = (
        await mongo.db[IMPORT_ROWS]
        .find({"district_id": district_id, "import_id": import_id, "conflict": True})
        .to_list()
    )
    found = []
    for doc in conflicts:
        lines = sorted([doc["line"], *doc["copies"]])
        listed = ", ".join(str(n) for n in lines)
        reason = f"lines {listed} give different scores for the same student, skill and date"
        found += [Rejection(doc["source_file"], n, doc["score_column"], reason) for n in lines]
    rejected = await job_store.add_rejections(mongo.db, district_id, import_id, found)
    await job_store.update_job(
        mongo.db,
        import_id,
        owner=owner,
        set_={"phase": "apply", "checkpoint": None, "status": "applying"},
        inc={"progress.rows_rejected": rejected},
    )


def _result_batches(spool: IO[bytes], name: str, config: Config) -> Iterator[list[Any]]:
    """The upload's rows, parsed one by one, in batches (run in a worker thread)."""
    head = spool.read(4)
    spool.seek(0)
    batch: list[Any] = []
    rows: Iterator[ResultRow | list[Rejection] | Rejection]
    package = None
    if head == ZIP_MAGIC or name.lower().endswith(".zip"):
        package = open_package(
            spool, max_unzipped_bytes=config.max_unzipped_bytes, upload_name=name
        )
        missing = [f for f in ("lineItems.csv", "results.csv") if f not in package]
        if missing:
            package.close()
            raise PackageError(f"the zip lacks {' and '.join(missing)}", file=name)
        items_table = read_table(
            "lineItems.csv", package.read("lineItems.csv"), required_columns=("sourcedId", "title")
        )
        early = list(items_table.rejections)
        skills, refused = line_items(items_table, early)
        batch.extend(early)
        stream = stream_table(
            "results.csv",
            iter_lines("results.csv", package.chunks("results.csv")),
            required_columns=GRADEBOOK_RESULT_COLUMNS,
        )
        rows = (
            r if isinstance(r, Rejection) else gradebook_result(r, skills, refused)
            for r in stream.rows
        )
    else:
        stream = stream_table(
            name,
            iter_lines(name, iter(lambda: spool.read(256 * 1024), b"")),
            required_columns=PLAIN_COLUMNS,
        )
        rows = (r if isinstance(r, Rejection) else plain_result(name, r) for r in stream.rows)
    try:
        for row in rows:
            if isinstance(row, list):
                batch.extend(row)
            else:
                batch.append(row)
            if len(batch) >= ROWS_PER_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch
    finally:
        if package is not None:
            package.close()


async def _stage_results(
    mongo: Mongo,
    reader: UnitOfWork,
    job: Document,
    batch: list[Any],
    skills: Mapping[str, Skill],
) -> int:
    district_id, import_id = job["district_id"], job["import_id"]
    schools = job.get("importer_schools")
    scope = "this district's roster" if schools is None else "your schools"
    rejections = [r for r in batch if isinstance(r, Rejection)]
    rows = [r for r in batch if isinstance(r, ResultRow)]
    students = await roster_store.schools_of_students(
        reader, district_id, {r.student_id for r in rows}, schools
    )
    latest_allowed = date.fromisoformat(job["today"]) + timedelta(days=1)
    candidates = []
    for row in rows:
        problems = result_problems(
            row, students=students, skills=skills, latest_allowed=latest_allowed, scope=scope
        )
        if problems:
            rejections += problems
        else:
            candidates.append(row)
    keys = {_key(r) for r in candidates}
    earlier = await job_store.staged(reader, district_id, import_id, RESULTS_FILE, keys)
    new: dict[str, Document] = {}
    for row in candidates:
        key = _key(row)
        first = new.get(key) or earlier.get(key)
        if first is None:
            new[key] = {
                "district_id": district_id,
                "import_id": import_id,
                "file": RESULTS_FILE,
                "sourced_id": key,
                "line": row.line,
                "state": "accepted",
                "source_file": row.file,
                "score_column": row.columns.score,
                "fields": {
                    "student_id": row.student_id,
                    "school_id": students[row.student_id],
                    "skill_code": row.skill_code,
                    "score": row.score,
                    "assessed_on": row.assessed_on.isoformat(),
                },
            }
            continue
        if not first.get("conflict") and first["fields"]["score"] == row.score:
            rejections.append(
                Rejection(row.file, row.line, None, f"duplicate of line {first['line']}")
            )
            continue
        first.update(state="refused", conflict=True, copies=[*first.get("copies", []), row.line])
        if key not in new:
            await job_store.set_staged(
                mongo.db,
                district_id,
                import_id,
                RESULTS_FILE,
                key,
                {"$set": {"state": "refused", "conflict": True}, "$push": {"copies": row.line}},
            )
    await job_store.stage(mongo.db, list(new.values()))
    return await job_store.add_rejections(mongo.db, district_id, import_id, rejections)


def _key(row: ResultRow) -> str:
    return f"{row.student_id}|{row.skill_code}|{row.assessed_on.isoformat()}"


async def apply_results(
    uow: UnitOfWork, job: Document, config: Config, page: list[Document]
) -> Step:
    """Chunk: record new and corrected results and publish each; the same score again is
    unchanged."""
    district_id = job["district_id"]
    rows = [d["fields"] for d in page]
    existing = await store.existing_results(uow, district_id, (r["student_id"] for r in rows))
    accepted: list[Document] = []
    for row in rows:
        before = existing.get((row["student_id"], row["skill_code"], row["assessed_on"]))
        if before is not None and before["score"] == row["score"]:
            continue
        day = date.fromisoformat(row["assessed_on"])
        doc = {
            **row,
            "result_id": result_id(district_id, row["student_id"], row["skill_code"], day),
        }
        accepted.append(doc)
        uow.publish(
            AssessmentResultRecorded(
                district_id=district_id,
                result_id=doc["result_id"],
                student_id=row["student_id"],
                school_id=row["school_id"],
                skill_code=row["skill_code"],
                score=row["score"],
                assessed_on=day,
            )
        )
    await store.upsert_results(uow, district_id, accepted)
    await touch(uow, job, TOUCHED_STUDENTS, (d["student_id"] for d in accepted))
    return Step(
        inc={
            "counts.accepted": len(accepted),
            "counts.unchanged": len(rows) - len(accepted),
            "progress.rows_applied": len(rows),
        },
    )


async def finish_results(
    uow: UnitOfWork, job: Document, config: Config, docs: list[Document]
) -> Step:
    """Chunk: the report, as a result import always answered."""
    counts = {name: job.get("counts", {}).get(name, 0) for name in ("accepted", "unchanged")}
    report = {"counts": counts, **await report_rejections(uow, job, config)}
    return Step(set_=report)


RESULT_PHASES: dict[str, Phase] = {
    "apply": Phase(
        apply_results, Source(IMPORT_ROWS, staged_rows(RESULTS_FILE), keep=in_state("accepted"))
    ),
    **TOUCHED_PHASES,
    "finish": Phase(finish_results),
}
