"""Survey question sets (built-in and district-written, versioned), one survey per
respondent per meeting with its answers, and each district's survey settings
(docs/decisions/0514). Comments are free text: kept here only."""

from __future__ import annotations

from collections.abc import Sequence

from aptt_platform.mongo import Document, UnitOfWork
from pymongo import DESCENDING, IndexModel

from aptt_notify.store.collections import by_district

SURVEY_SETS = "survey_sets"
SURVEYS = "surveys"
SURVEY_SETTINGS = "survey_settings"

INDEXES: dict[str, Sequence[IndexModel]] = {
    SURVEY_SETS: [by_district("audience", "version", name="by_audience")],
    SURVEYS: [
        by_district("respondent_id", "status", name="by_respondent"),
        by_district("meeting_id", "audience", name="by_meeting"),
        by_district("classroom_id", "audience", name="by_classroom"),
        by_district("school_id", "audience", name="by_school"),
        by_district("audience", "status", name="by_audience"),
    ],
    SURVEY_SETTINGS: [],  # one document per district, keyed by it
}


async def latest_set(uow: UnitOfWork, district_id: str, audience: str) -> Document | None:
    cursor = (
        uow.collection(SURVEY_SETS)
        .find({"district_id": district_id, "audience": audience}, session=uow.session)
        .sort("version", DESCENDING)
        .limit(1)
    )
    found = await cursor.to_list()
    return found[0] if found else None


async def insert_set(uow: UnitOfWork, question_set: Document) -> None:
    await uow.collection(SURVEY_SETS).insert_one(question_set, session=uow.session)


async def insert_survey(uow: UnitOfWork, survey: Document) -> bool:
    result = await uow.collection(SURVEYS).update_one(
        {"_id": survey["_id"]}, {"$setOnInsert": survey}, upsert=True, session=uow.session
    )
    return result.upserted_id is not None


async def get_survey(uow: UnitOfWork, survey_id: str) -> Document | None:
    return await uow.collection(SURVEYS).find_one({"_id": survey_id}, session=uow.session)


async def surveys(uow: UnitOfWork, query: Document, limit: int = 1000) -> list[Document]:
    cursor = uow.collection(SURVEYS).find(query, session=uow.session).limit(limit)
    return await cursor.to_list()


async def set_survey(uow: UnitOfWork, survey_id: str, version: int, fields: Document) -> bool:
    """Conditional on the version read, so two answers to one question cannot both count."""
    result = await uow.collection(SURVEYS).update_one(
        {"_id": survey_id, "version": version},
        {"$set": fields, "$inc": {"version": 1}},
        session=uow.session,
    )
    return result.modified_count == 1


async def settings_of(uow: UnitOfWork, district_id: str) -> Document | None:
    return await uow.collection(SURVEY_SETTINGS).find_one({"_id": district_id}, session=uow.session)


async def put_settings(uow: UnitOfWork, district_id: str, fields: Document) -> None:
    await uow.collection(SURVEY_SETTINGS).update_one(
        {"_id": district_id},
        {"$set": {**fields, "district_id": district_id}},
        upsert=True,
        session=uow.session,
    )
