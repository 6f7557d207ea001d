"""Skills and assessment results: define skills, import results (a job), read a student's
results."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import IO, Any

from aptt_contracts.data import AssessmentResultRecorded, SkillDefined
from aptt_contracts.skills import BUILT_IN_SKILLS, Skill, season_of
from aptt_platform.auth import Principal
from aptt_platform.errors import Conflict, DomainError, Forbidden, NotFound
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
from aptt_data.domain.reports import band_of
from aptt_data.domain.skills import catalogue, skill_problems
from aptt_data.oneroster.csvfile import (
    FileRejected,
    Rejection,
    iter_lines,
    read_table,
    stream_table,
)
from aptt_data.oneroster.package import PackageError, open_package
from aptt_data.service import Config, access
from aptt_data.service import reports as report_cases
from aptt_data.service.imports import (
    TOUCHED_PHASES,
    TOUCHED_STUDENTS,
    ImportFailed,
    Phase,
    Source,
    Step,
    report_rejections,
    staged_rows,
    touch,
)
from aptt_data.store import IMPORT_ROWS
from aptt_data.store import assessments as store
from aptt_data.store import imports as job_store
from aptt_data.store import reports as reports_store
from aptt_data.store import roster as roster_store

ZIP_MAGIC = b"PK\x03\x04"


async def list_skills(uow: UnitOfWork, *, district_id: str) -> list[tuple[Skill, bool]]:
    """Every skill the district can use, with whether it is built in."""
    custom = await store.custom_skills(uow, district_id)
    return [(skill, code in BUILT_IN_SKILLS) for code, skill in catalogue(custom).items()]


async def define_skill(
    uow: UnitOfWork, *, district_id: str, skill: Skill, replace: bool, config: Config
) -> Skill:
    """Add (or, with `replace`, change) one of the district's own skills and publish it."""
    existing = await store.custom_skills(uow, district_id)
    problems = skill_problems(skill)
    if problems:
        raise DomainError("; ".join(problems), code="invalid-skill", problems=problems)
    if replace and skill.code not in existing:
        raise NotFound(f"no skill {skill.code} of this district")
    if not replace and skill.code in existing:
        raise Conflict(f"skill {skill.code} exists; PUT /v1/skills/{skill.code} to change it")
    await store.save_skill(uow, district_id, skill)
    uow.publish(
        SkillDefined(
            district_id=district_id,
            skill_code=skill.code,
            name=skill.name,
            unit=skill.unit,
            scale_min=skill.scale_min,
            scale_max=skill.scale_max,
            higher_is_better=skill.higher_is_better,
            benchmarks=list(skill.benchmarks),
        )
    )
    await report_cases.refresh_district(uow, district_id=district_id, config=config)
    return skill


# -- result imports (a job: service.imports) ----------------------------------------------

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
    return Step(set_={**report, "status": "done", "lease": None})


RESULT_PHASES: dict[str, Phase] = {
    "apply": Phase(apply_results, Source(IMPORT_ROWS, staged_rows(RESULTS_FILE, state="accepted"))),
    **TOUCHED_PHASES,
    "finish": Phase(finish_results),
}


async def student_results(
    uow: UnitOfWork,
    *,
    principal: Principal,
    student_id: str,
    skill_code: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """A student's results, newest first, each with its grade benchmark and band.
    Every read is recorded as a disclosure."""
    student = await access.student_for(uow, principal, student_id)
    district_id = principal.district_id
    docs = await store.student_results(
        uow, district_id, student_id, skill_code=skill_code, limit=limit, before=cursor
    )
    skills = catalogue(await store.custom_skills(uow, district_id))
    items = []
    for doc in docs:
        day = date.fromisoformat(doc["assessed_on"])
        skill = skills.get(doc["skill_code"])
        benchmark = skill.benchmark(student.get("grade"), season_of(day.month)) if skill else None
        band = None
        if skill is not None and benchmark:
            band = band_of(doc["score"], benchmark, higher_is_better=skill.higher_is_better)
        items.append(
            {
                "result_id": doc["result_id"],
                "skill_code": doc["skill_code"],
                "score": doc["score"],
                "assessed_on": doc["assessed_on"],
                "benchmark": benchmark,
                "band": band,
            }
        )
    await reports_store.record_disclosure(
        uow,
        district_id=district_id,
        student_id=student_id,
        actor_id=principal.subject,
        actor_roles=principal.roles,
        what="assessment-results",
    )
    last = docs[-1] if len(docs) == limit else None
    return {
        "student_id": student_id,
        "items": items,
        "next_cursor": f"{last['assessed_on']}|{last['skill_code']}" if last else None,
    }


async def disclosures(
    uow: UnitOfWork, *, principal: Principal, student_id: str, limit: int
) -> dict[str, Any]:
    """The record of who saw a student's data: for the family and for administrators."""
    if not principal.has_any("guardian", "district_admin", "school_admin"):
        raise Forbidden("the record of disclosures is for the family and administrators")
    await access.student_for(uow, principal, student_id)
    docs = await reports_store.disclosures(
        uow, principal.district_id, student_id, limit=limit, before=None
    )
    return {"student_id": student_id, "items": docs}
