"""Conversations between a student's teachers and one guardian, and their entries (family
replies by SMS or email, teachers' answers). Free text about a child: kept here only, never
in an event or a log (docs/decisions/0513)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aptt_platform.mongo import Document, UnitOfWork
from pymongo import DESCENDING, IndexModel

from aptt_notify.store.collections import by_district

CONVERSATIONS = "conversations"
ENTRIES = "conversation_entries"
# Which district an email address belongs to (its latest contact), keyed by the lowercased
# address: a reply by email names no district, as a text names none (0513, 0504).
EMAIL_ADDRESSES = "email_addresses"

INDEXES: dict[str, Sequence[IndexModel]] = {
    CONVERSATIONS: [by_district("teacher_ids", "last_at", name="by_teacher")],
    ENTRIES: [
        by_district("conversation_id", "at", name="by_conversation"),
        by_district("key", unique=True, name="idempotency_key"),
    ],
    EMAIL_ADDRESSES: [],
}


async def email_district(uow: UnitOfWork, address: str) -> str | None:
    found = await uow.collection(EMAIL_ADDRESSES).find_one(
        {"_id": address.strip().lower()}, session=uow.session
    )
    return found.get("district_id") if found else None


async def set_email_district(uow: UnitOfWork, address: str, district_id: str) -> None:
    await uow.collection(EMAIL_ADDRESSES).update_one(
        {"_id": address.strip().lower()},
        {"$set": {"district_id": district_id}},
        upsert=True,
        session=uow.session,
    )


async def touch_conversation(
    uow: UnitOfWork, conversation: Document, teacher_ids: Sequence[str], at: datetime
) -> None:
    """Create the conversation or bring it to the top; its teachers accumulate."""
    fixed = {k: v for k, v in conversation.items() if k not in ("last_at", "teacher_ids")}
    await uow.collection(CONVERSATIONS).update_one(
        {"_id": conversation["_id"]},
        {
            "$setOnInsert": fixed,
            "$max": {"last_at": at},
            "$addToSet": {"teacher_ids": {"$each": list(teacher_ids)}},
        },
        upsert=True,
        session=uow.session,
    )


async def get_conversation(uow: UnitOfWork, conversation_id: str) -> Document | None:
    return await uow.collection(CONVERSATIONS).find_one(
        {"_id": conversation_id}, session=uow.session
    )


async def conversations_of_teacher(
    uow: UnitOfWork, district_id: str, teacher_id: str, limit: int
) -> list[Document]:
    cursor = (
        uow.collection(CONVERSATIONS)
        .find({"district_id": district_id, "teacher_ids": teacher_id}, session=uow.session)
        .sort("last_at", DESCENDING)
        .limit(limit)
    )
    return await cursor.to_list()


async def add_entry(uow: UnitOfWork, entry: Document) -> bool:
    """False when an entry with this key exists (a webhook the provider retried)."""
    result = await uow.collection(ENTRIES).update_one(
        {"district_id": entry["district_id"], "key": entry["key"]},
        {"$setOnInsert": entry},
        upsert=True,
        session=uow.session,
    )
    return result.upserted_id is not None


async def entries(
    uow: UnitOfWork, district_id: str, conversation_id: str, limit: int
) -> list[Document]:
    cursor = (
        uow.collection(ENTRIES)
        .find({"district_id": district_id, "conversation_id": conversation_id}, session=uow.session)
        .sort("at", DESCENDING)
        .limit(limit)
    )
    return await cursor.to_list()
