"""Skills of a district and assessment results (dates stored as ISO strings: they sort)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from aptt_contracts.skills import Skill
from aptt_platform.mongo import Document, UnitOfWork, utcnow
from pymongo import DESCENDING, UpdateOne

from aptt_data.domain.skills import skill_from_document
from aptt_data.store import RESULTS, SKILLS, find_in


async def custom_skills(uow: UnitOfWork, district_id: str) -> dict[str, Skill]:
    cursor = uow.collection(SKILLS).find({"district_id": district_id}, session=uow.session)
    return {doc["code"]: skill_from_document(doc) async for doc in cursor}


async def get_skill(uow: UnitOfWork, district_id: str, code: str) -> Skill | None:
    doc = await uow.collection(SKILLS).find_one(
        {"district_id": district_id, "code": code}, session=uow.session
    )
    return skill_from_document(doc) if doc else None


async def save_skill(uow: UnitOfWork, district_id: str, skill: Skill) -> None:
    await uow.collection(SKILLS).update_one(
        {"district_id": district_id, "code": skill.code},
        {"$set": {**skill.model_dump(mode="json"), "updated_at": utcnow()}},
        upsert=True,
        session=uow.session,
    )


async def existing_results(
    uow: UnitOfWork, district_id: str, student_ids: Iterable[str]
) -> dict[tuple[str, str, str], Document]:
    found = await find_in(
        uow.collection(RESULTS),
        {"district_id": district_id},
        "student_id",
        student_ids,
        session=uow.session,
    )
    return {(d["student_id"], d["skill_code"], d["assessed_on"]): d for d in found}


async def upsert_results(uow: UnitOfWork, district_id: str, docs: list[Document]) -> None:
    if not docs:
        return
    now = utcnow()
    writes = [
        UpdateOne(
            {
                "district_id": district_id,
                "student_id": d["student_id"],
                "skill_code": d["skill_code"],
                "assessed_on": d["assessed_on"],
            },
            {"$set": {**d, "district_id": district_id, "recorded_at": now}},
            upsert=True,
        )
        for d in docs
    ]
    await uow.collection(RESULTS).bulk_write(writes, ordered=False, session=uow.session)


async def latest_scores(
    uow: UnitOfWork,
    district_id: str,
    student_ids: Iterable[str],
    skill_code: str,
    *,
    on_or_before: date,
) -> dict[str, tuple[float, date]]:
    """Each student's most recent score on a skill up to a date.

    One query a student: with the students' `$in` beside the date range the database would
    read the whole collection, and without the range every result of the students."""
    latest: dict[str, tuple[float, date]] = {}
    for student_id in dict.fromkeys(student_ids):
        doc = await uow.collection(RESULTS).find_one(
            {
                "district_id": district_id,
                "student_id": student_id,
                "skill_code": skill_code,
                "assessed_on": {"$lte": on_or_before.isoformat()},
            },
            {"score": 1, "assessed_on": 1},
            sort=[("assessed_on", DESCENDING)],
            session=uow.session,
        )
        if doc is not None:
            latest[student_id] = (doc["score"], date.fromisoformat(doc["assessed_on"]))
    return latest


async def student_results(
    uow: UnitOfWork,
    district_id: str,
    student_id: str,
    *,
    skill_code: str | None,
    limit: int,
    before: str | None,
) -> list[Document]:
    """Newest first; `before` is the cursor: `assessed_on|skill_code` of the last one seen."""
    query: dict[str, Any] = {"district_id": district_id, "student_id": student_id}
    if skill_code:
        query["skill_code"] = skill_code
    if before:
        day, _, code = before.partition("|")
        query["$or"] = [
            {"assessed_on": {"$lt": day}},
            {"assessed_on": day, "skill_code": {"$lt": code}},
        ]
    cursor = (
        uow.collection(RESULTS)
        .find(query, {"_id": 0, "district_id": 0}, session=uow.session)
        .sort([("assessed_on", DESCENDING), ("skill_code", DESCENDING)])
        .limit(limit)
    )
    return await cursor.to_list()
