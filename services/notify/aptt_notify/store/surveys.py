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
    SURVEY_SETS: [
        by_district("audience", "created_at", name="by_audience"),
        by_district("set_id", "version", name="by_set"),
    ],
    SURVEYS: [
        by_district("respondent_id", "status", name="by_respondent"),
        by_district("meeting_id", "audience", name="by_meeting"),
        # A cancelled or moved conference changes the surveys of its source still open.
        by_district("meeting_id", "status", name="by_source_status"),
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
        .sort("created_at", DESCENDING)
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


async def set_surveys_of_source(
    uow: UnitOfWork, district_id: str, source_id: str, states: list[str], fields: Document
) -> None:
    await uow.collection(SURVEYS).update_many(
        {"district_id": district_id, "meeting_id": source_id, "status": {"$in": states}},
        {"$set": fields, "$inc": {"version": 1}},
        session=uow.session,
    )


async def settings_of(uow: UnitOfWork, district_id: str) -> Document | None:
    return await uow.collection(SURVEY_SETTINGS).find_one({"_id": district_id}, session=uow.session)


async def put_settings(uow: UnitOfWork, district_id: str, fields: Document) -> None:
    await uow.collection(SURVEY_SETTINGS).update_one(
        {"_id": district_id},
        {"$set": {**fields, "district_id": district_id}},
        upsert=True,
        session=uow.session,
    )


async def latest_version(uow: UnitOfWork, district_id: str, set_id: str) -> int:
    cursor = (
        uow.collection(SURVEY_SETS)
        .find({"district_id": district_id, "set_id": set_id}, {"version": 1}, session=uow.session)
        .sort("version", DESCENDING)
        .limit(1)
    )
    found = await cursor.to_list()
    return int(found[0]["version"]) if found else 0


async def answer_counts(uow: UnitOfWork, match: Document, question_id: str) -> dict[int, int]:
    """How many respondents gave each value to one question, counted in the database."""
    cursor = await uow.collection(SURVEYS).aggregate(
        [
            {"$match": {**match, f"answers.{question_id}": {"$exists": True}}},
            {"$group": {"_id": f"$answers.{question_id}", "n": {"$sum": 1}}},
        ],
        session=uow.session,
    )
    return {int(d["_id"]): int(d["n"]) for d in await cursor.to_list()}


async def set_question_ids(uow: UnitOfWork, district_id: str, audience: str) -> set[str]:
    """Every question id of the district's own sets for the audience (a few documents)."""
    cursor = uow.collection(SURVEY_SETS).find(
        {"district_id": district_id, "audience": audience}, {"questions": 1}, session=uow.session
    )
    return {str(q["question_id"]) for doc in await cursor.to_list() for q in doc["questions"]}
