"""Messages: one per guardian and notice, the inbox item. The key (source event, guardian,
template) is unique: expanding a notice twice is harmless."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aptt_platform.mongo import Document, UnitOfWork
from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from aptt_notify.store.collections import MESSAGES, by_district

INDEXES: dict[str, Sequence[IndexModel]] = {
    MESSAGES: [
        by_district("key", unique=True, name="idempotency_key"),
        IndexModel(
            [("district_id", ASCENDING), ("recipient_id", ASCENDING), ("visible_at", DESCENDING)],
            name="inbox",
        ),
        by_district("meeting_id", "template", name="by_meeting"),
        by_district("recipient_id", "status", name="by_recipient_status"),
        by_district("school_id", "status", name="by_school_status"),
        IndexModel(
            [("next_check_at", ASCENDING)],
            name="pending_queue",
            partialFilterExpression={"status": "pending"},
        ),
    ],
}


async def insert_messages(uow: UnitOfWork, messages: Sequence[Document]) -> int:
    """Insert messages whose idempotency key is new; the others stay as they are."""
    if not messages:
        return 0
    result = await uow.collection(MESSAGES).bulk_write(
        [
            UpdateOne(
                {"district_id": m["district_id"], "key": m["key"]},
                {"$setOnInsert": m},
                upsert=True,
            )
            for m in messages
        ],
        ordered=False,
        session=uow.session,
    )
    return result.upserted_count


async def get_message(uow: UnitOfWork, message_id: str) -> Document | None:
    return await uow.collection(MESSAGES).find_one({"_id": message_id}, session=uow.session)


async def messages(
    uow: UnitOfWork, query: Document, projection: Document | None = None
) -> list[Document]:
    return await uow.collection(MESSAGES).find(query, projection, session=uow.session).to_list()


async def update_message(uow: UnitOfWork, message_id: str, fields: Document) -> None:
    await uow.collection(MESSAGES).update_one(
        {"_id": message_id}, {"$set": fields}, session=uow.session
    )


async def reveal_messages(uow: UnitOfWork, message_ids: Sequence[str], now: datetime) -> None:
    """Show the messages in their guardians' inboxes from now on (the first time counts)."""
    if message_ids:
        await uow.collection(MESSAGES).update_many(
            {"_id": {"$in": list(message_ids)}, "visible_at": None},
            {"$set": {"visible_at": now}},
            session=uow.session,
        )


async def reveal_message(uow: UnitOfWork, message_id: str, now: datetime) -> None:
    await reveal_messages(uow, [message_id], now)


async def set_messages(uow: UnitOfWork, query: Document, fields: Document) -> int:
    result = await uow.collection(MESSAGES).update_many(
        query, {"$set": fields}, session=uow.session
    )
    return result.modified_count


async def due_message_ids(db: AsyncDatabase[Document], now: datetime, limit: int) -> list[str]:
    cursor = (
        db[MESSAGES]
        .find({"status": "pending", "next_check_at": {"$lte": now}}, {"_id": 1})
        .sort("next_check_at", ASCENDING)
        .limit(limit)
    )
    return [doc["_id"] for doc in await cursor.to_list()]


async def inbox_page(
    uow: UnitOfWork,
    *,
    district_id: str,
    recipient_id: str,
    now: datetime,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Document]:
    query: Document = {
        "district_id": district_id,
        "recipient_id": recipient_id,
        "visible_at": {"$lte": now},
        "status": {"$ne": "dropped"},
    }
    if after is not None:
        at, message_id = after
        query["$or"] = [
            {"visible_at": {"$lt": at}},
            {"visible_at": at, "_id": {"$lt": message_id}},
        ]
    cursor = (
        uow.collection(MESSAGES)
        .find(query, session=uow.session)
        .sort([("visible_at", DESCENDING), ("_id", DESCENDING)])
        .limit(limit)
    )
    return await cursor.to_list()
