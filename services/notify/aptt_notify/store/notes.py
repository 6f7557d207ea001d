"""Personal notes, the tokens that rate-limit them, and personal contacts (reach).

A note's id is the client's (or the server's) idempotency key. Rate limits are numbered
tokens, one document per note per window, unique by (window, number): no counter document
that every note would update (docs/decisions/0511). A personal contact is one document per
(kind, source, student): a note, a team meeting attended, later a conference booked or a home
visit, so reach is a query on a narrow index (docs/decisions/0512).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aptt_platform.mongo import Document, UnitOfWork
from pymongo import ASCENDING, IndexModel

from aptt_notify.store.collections import by_district, doc_id

NOTES = "notes"
NOTE_TOKENS = "note_tokens"
PERSONAL_CONTACTS = "personal_contacts"

INDEXES: dict[str, Sequence[IndexModel]] = {
    NOTES: [by_district("student_id", "created_at", name="by_student")],
    NOTE_TOKENS: [
        by_district("window", name="by_window"),
        IndexModel([("expires_at", ASCENDING)], name="expiry", expireAfterSeconds=0),
    ],
    PERSONAL_CONTACTS: [
        by_district("student_id", "at", name="by_student"),
        by_district("school_id", "at", name="by_school"),
    ],
}


async def get_note(uow: UnitOfWork, district_id: str, note_id: str) -> Document | None:
    return await uow.collection(NOTES).find_one(
        {"_id": doc_id(district_id, note_id)}, session=uow.session
    )


async def insert_note(uow: UnitOfWork, note: Document) -> None:
    await uow.collection(NOTES).insert_one(note, session=uow.session)


async def tokens_taken(uow: UnitOfWork, district_id: str, window: str) -> int:
    return await uow.collection(NOTE_TOKENS).count_documents(
        {"district_id": district_id, "window": window}, session=uow.session
    )


async def take_token(
    uow: UnitOfWork, district_id: str, window: str, number: int, expires_at: datetime
) -> None:
    """Two notes taking the same number at once write the same document: one transaction
    conflicts, runs again and counts the other's token."""
    await uow.collection(NOTE_TOKENS).insert_one(
        {
            "_id": doc_id(district_id, window, str(number)),
            "district_id": district_id,
            "window": window,
            "expires_at": expires_at,
        },
        session=uow.session,
    )


async def record_contact(uow: UnitOfWork, contact: Document) -> None:
    """Once per (kind, source, student): a replayed event changes nothing."""
    await uow.collection(PERSONAL_CONTACTS).update_one(
        {"_id": contact["_id"]}, {"$setOnInsert": contact}, upsert=True, session=uow.session
    )


async def contacts_since(
    uow: UnitOfWork, district_id: str, student_ids: Sequence[str], since: datetime
) -> list[Document]:
    cursor = uow.collection(PERSONAL_CONTACTS).find(
        {
            "district_id": district_id,
            "student_id": {"$in": list(student_ids)},
            "at": {"$gte": since},
        },
        {"student_id": 1, "at": 1, "kind": 1},
        session=uow.session,
    )
    return await cursor.to_list()
