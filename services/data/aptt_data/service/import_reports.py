"""What every import job does once its rows are applied: the upcoming class reports of the
students and classrooms it touched, redrawn (two phases of their own), and its refused rows
and warnings, reported."""

from __future__ import annotations

from collections.abc import Iterable

from aptt_platform.mongo import Document, UnitOfWork

from aptt_data.service import Config
from aptt_data.service import reports as report_cases
from aptt_data.service.imports import Phase, Source, Step, staged_rows
from aptt_data.store import IMPORT_ROWS, find_in
from aptt_data.store import imports as store
from aptt_data.store import roster as roster_store

TOUCHED_STUDENTS = "~touched-students"
TOUCHED_CLASSROOMS = "~touched-classrooms"
REPORTS_PER_CHUNK = 50


async def touch(uow: UnitOfWork, job: Document, what: str, ids: Iterable[str]) -> None:
    """Remember students or classrooms whose upcoming class reports must be refreshed."""
    wanted = set(ids)
    if not wanted:
        return
    where = {"district_id": job["district_id"], "import_id": job["import_id"], "file": what}
    rows = uow.collection(IMPORT_ROWS)
    known = await find_in(
        rows, where, "sourced_id", wanted, projection={"sourced_id": 1}, session=uow.session
    )
    new = wanted - {doc["sourced_id"] for doc in known}
    if new:
        await rows.insert_many(
            [{**where, "sourced_id": item, "state": "touched"} for item in sorted(new)],
            ordered=False,
            session=uow.session,
        )


async def classrooms_of_touched_students(
    uow: UnitOfWork, job: Document, config: Config, docs: list[Document]
) -> Step:
    """Chunk: the classrooms of changed students join the classrooms to refresh."""
    ids = [doc["sourced_id"] for doc in docs]
    if ids:
        rooms = await roster_store.classrooms_of_students(uow, job["district_id"], ids)
        await touch(uow, job, TOUCHED_CLASSROOMS, rooms)
    return Step()


async def refresh_touched_reports(
    uow: UnitOfWork, job: Document, config: Config, docs: list[Document]
) -> Step:
    """Chunk: redraw the upcoming class reports of a few touched classrooms."""
    await report_cases.refresh_classrooms(
        uow,
        district_id=job["district_id"],
        classroom_ids=[doc["sourced_id"] for doc in docs],
        config=config,
    )
    return Step()


TOUCHED_PHASES = {
    "touched": Phase(
        classrooms_of_touched_students, Source(IMPORT_ROWS, staged_rows(TOUCHED_STUDENTS))
    ),
    "reports": Phase(
        refresh_touched_reports,
        Source(IMPORT_ROWS, staged_rows(TOUCHED_CLASSROOMS), size=REPORTS_PER_CHUNK),
    ),
}


async def report_rejections(uow: UnitOfWork, job: Document, config: Config) -> Document:
    shown, total = await store.rejections(
        uow, job["district_id"], job["import_id"], limit=config.max_rejections_reported
    )
    return {"rejected": shown, "rejected_count": total, "rejected_truncated": len(shown) < total}


async def report_warnings(uow: UnitOfWork, job: Document, config: Config) -> Document:
    """Values read leniently or left out, bounded like the refused rows."""
    shown, total = await store.warnings(
        uow, job["district_id"], job["import_id"], limit=config.max_rejections_reported
    )
    return {"warnings": shown, "warnings_count": total, "warnings_truncated": len(shown) < total}
