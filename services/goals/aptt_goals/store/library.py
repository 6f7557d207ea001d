"""The district's own activities, and the record of disclosures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from aptt_platform.mongo import Document, UnitOfWork, utcnow
from pymongo import ASCENDING

from aptt_goals.domain import (
    LibraryActivity,
)
from aptt_goals.store.common import (
    ACTIVITIES,
    DISCLOSURES,
)


def _activity(doc: Document) -> LibraryActivity:
    return LibraryActivity(
        code=doc["code"],
        skill_code=doc["skill_code"],
        grades=tuple(doc["grades"]),
        title=doc["title"],
        instructions=doc["instructions"],
        times=doc.get("times"),
        per=doc.get("per"),
        minutes=doc.get("minutes"),
        source="district",
        created_by=doc.get("created_by"),
    )


async def insert_activity(uow: UnitOfWork, district_id: str, activity: LibraryActivity) -> None:
    doc = asdict(activity)
    doc.update(district_id=district_id, grades=list(activity.grades), created_at=utcnow())
    await uow.collection(ACTIVITIES).insert_one(doc, session=uow.session)


async def activities_by_code(
    uow: UnitOfWork, district_id: str, codes: Sequence[str]
) -> list[LibraryActivity]:
    docs = uow.collection(ACTIVITIES).find(
        {"district_id": district_id, "code": {"$in": list(codes)}}, session=uow.session
    )
    return [_activity(doc) async for doc in docs]


async def list_activities(
    uow: UnitOfWork,
    district_id: str,
    *,
    skill_code: str | None,
    grade: int | None,
    lang: str | None,
    after: str | None,
    limit: int,
) -> list[LibraryActivity]:
    """A district's own activities in code order, after the code `after`."""
    query: Document = {"district_id": district_id}
    if skill_code is not None:
        query["skill_code"] = skill_code
    if grade is not None:
        query["grades"] = grade
    if lang is not None:
        query[f"instructions.{lang}"] = {"$exists": True}
        query[f"title.{lang}"] = {"$exists": True}
    if after:
        query["code"] = {"$gt": after}
    docs = uow.collection(ACTIVITIES).find(query, session=uow.session).sort("code", ASCENDING)
    return [_activity(doc) async for doc in docs.limit(limit)]


async def record_disclosure(
    uow: UnitOfWork,
    district_id: str,
    *,
    student_ids: Sequence[str],
    viewer_id: str,
    roles: Sequence[str],
    what: str,
) -> None:
    """Who looked at which student's goals, when: the record FERPA asks schools to keep."""
    if not student_ids:
        return
    at = utcnow()
    await uow.collection(DISCLOSURES).insert_many(
        [
            {
                "district_id": district_id,
                "student_id": s,
                "viewer_id": viewer_id,
                "roles": sorted(roles),
                "what": what,
                "at": at,
            }
            for s in student_ids
        ],
        session=uow.session,
    )
