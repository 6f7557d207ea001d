"""Class reports and the disclosure record."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from aptt_platform.mongo import Document, UnitOfWork, utcnow
from pymongo import DESCENDING

from aptt_data.store import CLASS_REPORTS, DISCLOSURES, MEETINGS


async def get_report(uow: UnitOfWork, district_id: str, meeting_id: str) -> Document | None:
    return await uow.collection(CLASS_REPORTS).find_one(
        {"district_id": district_id, "meeting_id": meeting_id}, session=uow.session
    )


async def set_meeting_skill(
    uow: UnitOfWork, district_id: str, meeting_id: str, skill_code: str
) -> None:
    await uow.collection(MEETINGS.collection).update_one(
        MEETINGS.key(district_id, meeting_id),
        {"$set": {"skill_code": skill_code}},
        session=uow.session,
    )


async def save_report(uow: UnitOfWork, doc: Document) -> None:
    await uow.collection(CLASS_REPORTS).replace_one(
        {"district_id": doc["district_id"], "meeting_id": doc["meeting_id"]},
        {k: v for k, v in doc.items() if k != "_id"},
        upsert=True,
        session=uow.session,
    )


async def upcoming_reports(
    uow: UnitOfWork,
    district_id: str,
    *,
    now: datetime,
    classroom_ids: Iterable[str] | None = None,
    school_id: str | None = None,
) -> list[Document]:
    """Reports of meetings not started yet: their charts still follow new data.

    Read on (district, classroom) or (district, school) and the start; the status is
    checked here, beside the index it would make the query a collection scan."""
    query: dict[str, Any] = {"district_id": district_id, "starts_at": {"$gt": now}}
    if classroom_ids is not None:
        query["classroom_id"] = {"$in": list(classroom_ids)}
        query.pop("starts_at")  # an `$in` beside a range is a scan: checked below
    if school_id is not None:
        query["school_id"] = school_id
    found = await uow.collection(CLASS_REPORTS).find(query, session=uow.session).to_list()
    return [d for d in found if d.get("status") == "scheduled" and d["starts_at"] > now]


async def previous_report(
    uow: UnitOfWork, district_id: str, *, classroom_id: str, skill_code: str, before: datetime
) -> Document | None:
    """The classroom's last report on the same skill before a meeting (cancelled ones aside)."""
    cursor = (
        uow.collection(CLASS_REPORTS)
        .find(
            {
                "district_id": district_id,
                "classroom_id": classroom_id,
                "skill_code": skill_code,
                "starts_at": {"$lt": before},
            },
            session=uow.session,
        )
        .sort("starts_at", DESCENDING)
    )
    async for doc in cursor:
        if doc.get("status") == "scheduled":
            return doc
    return None


async def record_disclosure(
    uow: UnitOfWork,
    *,
    district_id: str,
    student_id: str,
    actor_id: str,
    actor_roles: Iterable[str],
    what: str,
    meeting_id: str | None = None,
) -> None:
    """FERPA record of disclosures: who saw which student's data, when (ids only)."""
    await uow.collection(DISCLOSURES).insert_one(
        {
            "district_id": district_id,
            "student_id": student_id,
            "actor_id": actor_id,
            "actor_roles": sorted(actor_roles),
            "what": what,
            "meeting_id": meeting_id,
            "at": utcnow(),
        },
        session=uow.session,
    )


async def disclosures(
    uow: UnitOfWork, district_id: str, student_id: str, *, limit: int, before: datetime | None
) -> list[Document]:
    query: dict[str, Any] = {"district_id": district_id, "student_id": student_id}
    if before is not None:
        query["at"] = {"$lt": before}
    cursor = (
        uow.collection(DISCLOSURES)
        .find(query, {"_id": 0, "district_id": 0}, session=uow.session)
        .sort("at", DESCENDING)
        .limit(limit)
    )
    return await cursor.to_list()
