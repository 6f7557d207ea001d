"""Messages: one per guardian and notice, the inbox item. The key (source event, guardian,
template) is unique: expanding a notice twice is harmless."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
        by_district("student_id", "status", name="by_student_status"),
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


async def pending_message_ids(
    uow: UnitOfWork, query: Document, *, wait_reasons: Iterable[str | None] | None = None
) -> list[str]:
    """Ids of the pending messages `query` finds on one index, status and wait reason
    checked here (beside the index they would make the query a collection scan)."""
    found = await (
        uow.collection(MESSAGES)
        .find(query, {"status": 1, "wait_reason": 1}, session=uow.session)
        .to_list()
    )
    reasons = None if wait_reasons is None else set(wait_reasons)
    return [
        doc["_id"]
        for doc in found
        if doc.get("status") == "pending" and (reasons is None or doc.get("wait_reason") in reasons)
    ]


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
    """The guardian's messages shown by `now`, newest first, after the cursor `after`.

    Read on the inbox index alone: the dropped ones and the cursor's tie on `visible_at`
    are left out here, since a `$ne` or an `$or` makes the query a collection scan."""
    bound = now if after is None else min(now, after[0])
    query: Document = {
        "district_id": district_id,
        "recipient_id": recipient_id,
        "visible_at": {"$lte": bound},
    }
    cursor = (
        uow.collection(MESSAGES)
        .find(query, session=uow.session)
        .sort([("visible_at", DESCENDING), ("_id", DESCENDING)])
        .batch_size(limit + 1)
    )
    page: list[Document] = []
    async for doc in cursor:
        if doc.get("status") == "dropped":
            continue
        if after is not None and doc["visible_at"] == after[0] and doc["_id"] >= after[1]:
            continue
        page.append(doc)
        if len(page) >= limit:
            break
    await cursor.close()
    return page
