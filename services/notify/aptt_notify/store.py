"""The notify service's collections, their indexes and queries.

Read models (schools, classrooms, students, guardians, meetings, skills) come from events;
guardians also hold the preferences a guardian sets in the app. Work moves through three
queues: notices (what to tell an audience, and when), messages (one per guardian, the inbox
item) and deliveries (one per message and channel, what the sender sends). The unique keys of
messages and deliveries are the idempotency keys that make "never twice" a database rule.

Every index starts with district_id, except the queue indexes the sender scans across
districts and the SMS number book, which belongs to a phone number, not to a district
(docs/decisions/0501-notify-delivery-pipeline.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from aptt_platform.mongo import Document, UnitOfWork
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

SCHOOLS = "schools"
CLASSROOMS = "classrooms"
STUDENTS = "students"
GUARDIANS = "guardians"
MEETINGS = "meetings"
SKILLS = "skills"
NOTICES = "notices"
MESSAGES = "messages"
DELIVERIES = "deliveries"
RATE_BUCKETS = "rate_buckets"
SMS_NUMBERS = "sms_numbers"


def _by_district(*keys: str, unique: bool = False, name: str) -> IndexModel:
    fields = [("district_id", ASCENDING), *((k, ASCENDING) for k in keys)]
    return IndexModel(fields, unique=unique, name=name)


INDEXES: dict[str, Sequence[IndexModel]] = {
    SCHOOLS: [_by_district("school_id", unique=True, name="school")],
    CLASSROOMS: [
        _by_district("classroom_id", unique=True, name="classroom"),
        _by_district("student_ids", name="by_student"),
    ],
    STUDENTS: [
        _by_district("student_id", unique=True, name="student"),
        _by_district("guardian_ids", name="by_guardian"),
    ],
    GUARDIANS: [_by_district("guardian_id", unique=True, name="guardian")],
    MEETINGS: [_by_district("meeting_id", unique=True, name="meeting")],
    SKILLS: [_by_district("skill_code", unique=True, name="skill")],
    NOTICES: [
        _by_district("meeting_id", "status", name="by_meeting"),
        _by_district("audience.classroom_id", "status", name="by_classroom"),
        _by_district("audience.student_id", "status", name="by_student"),
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
        IndexModel(
            [("settle_at", ASCENDING)],
            name="settle_queue",
            partialFilterExpression={"settle_at": {"$type": "date"}},
        ),
    ],
    MESSAGES: [
        _by_district("key", unique=True, name="idempotency_key"),
        IndexModel(
            [("district_id", ASCENDING), ("recipient_id", ASCENDING), ("visible_at", DESCENDING)],
            name="inbox",
        ),
        _by_district("meeting_id", "template", name="by_meeting"),
        _by_district("recipient_id", "status", name="by_recipient_status"),
        _by_district("school_id", "status", name="by_school_status"),
        IndexModel(
            [("next_check_at", ASCENDING)],
            name="pending_queue",
            partialFilterExpression={"status": "pending"},
        ),
    ],
    DELIVERIES: [
        _by_district("key", unique=True, name="idempotency_key"),
        _by_district("message_id", name="by_message"),
        _by_district("provider_id", name="by_provider_id"),
        IndexModel(
            [("next_attempt_at", ASCENDING)],
            name="pending_queue",
            partialFilterExpression={"status": "pending"},
        ),
    ],
    RATE_BUCKETS: [
        _by_district("scope", "hour", name="bucket"),
        IndexModel([("expires_at", ASCENDING)], name="expiry", expireAfterSeconds=0),
    ],
    SMS_NUMBERS: [],  # keyed by the E.164 number itself (_id)
}


def doc_id(district_id: str, *parts: str) -> str:
    return ":".join((district_id, *parts))


# -- read models ---------------------------------------------------------------------------


async def upsert(uow: UnitOfWork, collection: str, _id: str, fields: Document) -> None:
    await uow.collection(collection).update_one(
        {"_id": _id}, {"$set": fields}, upsert=True, session=uow.session
    )


async def delete(uow: UnitOfWork, collection: str, _id: str) -> None:
    await uow.collection(collection).delete_one({"_id": _id}, session=uow.session)


async def get(uow: UnitOfWork, collection: str, _id: str) -> Document | None:
    return await uow.collection(collection).find_one({"_id": _id}, session=uow.session)


async def guardians_of_students(
    uow: UnitOfWork, district_id: str, student_ids: Iterable[str]
) -> set[str]:
    cursor = uow.collection(STUDENTS).find(
        {"district_id": district_id, "student_id": {"$in": list(student_ids)}},
        {"guardian_ids": 1},
        session=uow.session,
    )
    return {g for doc in await cursor.to_list() for g in doc.get("guardian_ids", [])}


async def classrooms_of_student(uow: UnitOfWork, district_id: str, student_id: str) -> list[str]:
    cursor = uow.collection(CLASSROOMS).find(
        {"district_id": district_id, "student_ids": student_id},
        {"classroom_id": 1},
        session=uow.session,
    )
    return [doc["classroom_id"] for doc in await cursor.to_list()]


# -- notices -------------------------------------------------------------------------------


async def insert_notice(uow: UnitOfWork, notice: Document) -> bool:
    """Insert a notice unless one with its id exists; True when it is new."""
    result = await uow.collection(NOTICES).update_one(
        {"_id": notice["_id"]}, {"$setOnInsert": notice}, upsert=True, session=uow.session
    )
    return result.upserted_id is not None


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
        .find({"settle_at": {"$type": "date", "$lte": now}}, {"_id": 1})
        .sort("settle_at", ASCENDING)
        .limit(limit)
    )
    return [doc["_id"] for doc in await cursor.to_list()]


async def await_document(
    uow: UnitOfWork, collection: str, district_id: str, id_field: str, value: str, now: datetime
) -> None:
    """Write to the document a message waits for, existing or not yet. The event that brings
    it writes the same document, so the two transactions cannot both miss each other: one
    of them hits a write conflict and runs again, seeing the other's result."""
    await uow.collection(collection).update_one(
        {"_id": doc_id(district_id, value)},
        {
            "$set": {"awaited_at": now},
            "$setOnInsert": {"district_id": district_id, id_field: value},
        },
        upsert=True,
        session=uow.session,
    )


async def close_finished_notices(db: AsyncDatabase[Document], now: datetime) -> None:
    await db[NOTICES].update_many(
        {"status": "open", "fanout_until": {"$lte": now}}, {"$set": {"status": "closed"}}
    )


# -- messages ------------------------------------------------------------------------------


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


async def messages(
    uow: UnitOfWork, query: Document, projection: Document | None = None
) -> list[Document]:
    return await uow.collection(MESSAGES).find(query, projection, session=uow.session).to_list()


async def update_message(uow: UnitOfWork, message_id: str, fields: Document) -> None:
    await uow.collection(MESSAGES).update_one(
        {"_id": message_id}, {"$set": fields}, session=uow.session
    )


async def reveal_message(uow: UnitOfWork, message_id: str, now: datetime) -> None:
    """Show the message in the guardian's inbox from now on (once: the first time counts)."""
    await uow.collection(MESSAGES).update_one(
        {"_id": message_id, "visible_at": None}, {"$set": {"visible_at": now}}, session=uow.session
    )


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


# -- deliveries ----------------------------------------------------------------------------


async def insert_deliveries(uow: UnitOfWork, deliveries: Sequence[Document]) -> int:
    if not deliveries:
        return 0
    result = await uow.collection(DELIVERIES).bulk_write(
        [
            UpdateOne(
                {"district_id": d["district_id"], "key": d["key"]},
                {"$setOnInsert": d},
                upsert=True,
            )
            for d in deliveries
        ],
        ordered=False,
        session=uow.session,
    )
    return result.upserted_count


async def delivery_statuses(
    uow: UnitOfWork, district_id: str, message_ids: Sequence[str]
) -> dict[str, list[str]]:
    cursor = uow.collection(DELIVERIES).find(
        {"district_id": district_id, "message_id": {"$in": list(message_ids)}},
        {"message_id": 1, "status": 1},
        session=uow.session,
    )
    found: dict[str, list[str]] = {}
    for doc in await cursor.to_list():
        found.setdefault(doc["message_id"], []).append(doc["status"])
    return found


async def claim_delivery(
    db: AsyncDatabase[Document], now: datetime, lease_until: datetime, token: str
) -> Document | None:
    """Take one due delivery for `lease_until`; returns it as it was before the claim, so
    `in_flight` tells whether an earlier attempt ended without a recorded outcome."""
    return await db[DELIVERIES].find_one_and_update(
        {"status": "pending", "next_attempt_at": {"$lte": now}},
        {
            "$set": {"next_attempt_at": lease_until, "lease": token, "in_flight": True},
            "$inc": {"attempts": 1},
            "$min": {"first_claimed_at": now},
        },
        sort=[("next_attempt_at", ASCENDING)],
        return_document=ReturnDocument.BEFORE,
    )


async def finish_delivery(uow: UnitOfWork, delivery_id: str, token: str, fields: Document) -> bool:
    """Record an attempt's outcome, if the lease is still ours."""
    result = await uow.collection(DELIVERIES).update_one(
        {"_id": delivery_id, "lease": token},
        {"$set": {**fields, "in_flight": False}},
        session=uow.session,
    )
    return result.modified_count == 1


async def provider_id_taken(
    db: AsyncDatabase[Document], district_id: str, provider_id: str
) -> bool:
    return (
        await db[DELIVERIES].find_one(
            {"district_id": district_id, "provider_id": provider_id}, {"_id": 1}
        )
        is not None
    )


# -- rate limits and SMS numbers ------------------------------------------------------------


async def bucket_counts(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, int]:
    cursor = uow.collection(RATE_BUCKETS).find({"_id": {"$in": list(ids)}}, session=uow.session)
    return {doc["_id"]: int(doc.get("count", 0)) for doc in await cursor.to_list()}


async def count_in_buckets(uow: UnitOfWork, buckets: Sequence[Document]) -> None:
    for bucket in buckets:
        await uow.collection(RATE_BUCKETS).update_one(
            {"_id": bucket["_id"]},
            {
                "$inc": {"count": 1},
                "$setOnInsert": {k: v for k, v in bucket.items() if k != "_id"},
            },
            upsert=True,
            session=uow.session,
        )


async def sms_number(uow: UnitOfWork, phone: str) -> Document | None:
    return await uow.collection(SMS_NUMBERS).find_one({"_id": phone}, session=uow.session)


async def opted_out_numbers(uow: UnitOfWork, phones: Iterable[str]) -> set[str]:
    cursor = uow.collection(SMS_NUMBERS).find(
        {"_id": {"$in": list(phones)}, "opted_out": True}, {"_id": 1}, session=uow.session
    )
    return {doc["_id"] for doc in await cursor.to_list()}


async def set_sms_number(uow: UnitOfWork, phone: str, fields: Document) -> None:
    await uow.collection(SMS_NUMBERS).update_one(
        {"_id": phone}, {"$set": fields}, upsert=True, session=uow.session
    )
