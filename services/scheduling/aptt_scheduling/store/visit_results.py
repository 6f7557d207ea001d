"""The latest assessment result per student and skill (a read model of
`aptt.data.assessments.v1`), kept only for home-visit coverage: which band each student's
family falls in, never shown per student."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from aptt_contracts.data import AssessmentResultRecorded
from aptt_platform.mongo import Document, UnitOfWork
from pymongo import ASCENDING, IndexModel

RESULTS = "latest_results"

RESULT_INDEXES: dict[str, Sequence[IndexModel]] = {
    RESULTS: [
        IndexModel(
            [(f, ASCENDING) for f in ("district_id", "skill_code", "student_id")],
            name="one_per_student_and_skill",
            unique=True,
        )
    ]
}


def _day(value: date) -> datetime:
    return datetime(value.year, value.month, value.day)


async def keep_latest(uow: UnitOfWork, event: AssessmentResultRecorded) -> None:
    """Keep the result if it is the student's latest on the skill (by date, then result id).

    One student's results share a partition key, so they are handled one after another;
    a retried older result that arrives late loses the comparison."""
    key = {
        "district_id": event.district_id,
        "skill_code": event.skill_code,
        "student_id": event.student_id,
    }
    kept = await uow.collection(RESULTS).find_one(key, session=uow.session)
    mine = (_day(event.assessed_on), event.result_id)
    if kept is not None and (kept["assessed_on"].replace(tzinfo=None), kept["result_id"]) >= mine:
        return
    await uow.collection(RESULTS).replace_one(
        key,
        {**key, "assessed_on": mine[0], "result_id": event.result_id, "score": event.score},
        upsert=True,
        session=uow.session,
    )


async def latest(
    uow: UnitOfWork, district_id: str, skill_code: str, student_ids: list[str]
) -> dict[str, Document]:
    cursor = uow.collection(RESULTS).find(
        {"district_id": district_id, "skill_code": skill_code, "student_id": {"$in": student_ids}},
        session=uow.session,
    )
    return {doc["student_id"]: doc async for doc in cursor}
