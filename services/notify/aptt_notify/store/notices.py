"""Notices: what to tell an audience, and when (docs/decisions/0500)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aptt_platform.mongo import Document, UnitOfWork
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from aptt_notify.store.collections import LOCKS, NOTICES, by_district

INDEXES: dict[str, Sequence[IndexModel]] = {
    NOTICES: [
        by_district("meeting_id", "status", name="by_meeting"),
        by_district("audience.classroom_id", "status", name="by_classroom"),
        by_district("audience.student_id", "status", name="by_student"),
        by_district("school_id", "status", name="by_school"),
        IndexModel(
            [("due_at", ASCENDING)],
            name="scheduled_queue",
            partialFilterExpression={"status": "scheduled"},
        ),
        IndexModel(
            [("fanout_until", ASCENDING)],
            name="open_queue",
            partialFilterExpression={"status": "open"},
        ),
        # Not partial: the database plans a range on a partial index as a collection scan.
        # A settled notice's `settle_at` is null, outside any range of dates.
        IndexModel([("settle_at", ASCENDING)], name="settle_due"),
    ],
}


async def insert_notice(uow: UnitOfWork, notice: Document) -> bool:
    """Insert a notice unless one with its id exists; True when it is new."""
    result = await uow.collection(NOTICES).update_one(
        {"_id": notice["_id"]}, {"$setOnInsert": notice}, upsert=True, session=uow.session
    )
    return result.upserted_id is not None


async def get_notice(uow: UnitOfWork, notice_id: str) -> Document | None:
    return await uow.collection(NOTICES).find_one({"_id": notice_id}, session=uow.session)


async def notices(uow: UnitOfWork, query: Document) -> list[Document]:
    return await uow.collection(NOTICES).find(query, session=uow.session).to_list()


async def set_notices(uow: UnitOfWork, query: Document, fields: Document) -> None:
    await uow.collection(NOTICES).update_many(query, {"$set": fields}, session=uow.session)


async def due_notice_ids(db: AsyncDatabase[Document], now: datetime, limit: int) -> list[str]:
    cursor = (
        db[NOTICES]
        .find({"status": "scheduled", "due_at": {"$lte": now}}, {"_id": 1})
        .sort("due_at", ASCENDING)
        .limit(limit)
    )
    return [doc["_id"] for doc in await cursor.to_list()]


async def settling_notice_ids(db: AsyncDatabase[Document], now: datetime, limit: int) -> list[str]:
    cursor = (
        db[NOTICES]
        .find({"settle_at": {"$lte": now}}, {"_id": 1})
        .sort("settle_at", ASCENDING)
        .limit(limit)
    )
    return [doc["_id"] for doc in await cursor.to_list()]


async def close_finished_notices(db: AsyncDatabase[Document], now: datetime) -> None:
    await db[NOTICES].update_many(
        {"status": "open", "fanout_until": {"$lte": now}}, {"$set": {"status": "closed"}}
    )


async def lock_audiences(uow: UnitOfWork, district_id: str) -> None:
    """Write the district's audience lock. Expanding a notice reads the roster; a roster
    event reads the open notices; in two transactions side by side (two partitions, two
    replicas) each would miss the other's write and a family would hear nothing. Both write
    this one document, so one of them conflicts and runs again, seeing the other."""
    await uow.collection(LOCKS).update_one(
        {"_id": f"{district_id}:audiences"},
        {"$inc": {"version": 1}, "$set": {"district_id": district_id}},
        upsert=True,
        session=uow.session,
    )
