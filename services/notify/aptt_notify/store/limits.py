"""Hourly rate buckets, and the SMS number book (opt-outs and reply language per E.164
number, not per district: the number belongs to a person, docs/decisions/0504)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aptt_platform.mongo import Document, UnitOfWork
from pymongo import ASCENDING, IndexModel

from aptt_notify.store.collections import RATE_BUCKETS, SMS_NUMBERS, by_district

INDEXES: dict[str, Sequence[IndexModel]] = {
    RATE_BUCKETS: [
        by_district("scope", "hour", name="bucket"),
        IndexModel([("expires_at", ASCENDING)], name="expiry", expireAfterSeconds=0),
    ],
    SMS_NUMBERS: [],  # keyed by the E.164 number itself (_id)
}


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
