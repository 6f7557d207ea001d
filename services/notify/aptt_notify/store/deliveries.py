"""Deliveries: one per message and channel, what the sender sends. The key (source event,
guardian, template, channel) is unique: it is the idempotency key of the send.

The sender claims due deliveries in batches: one query for the candidates and one bulk write,
in a transaction, that takes each of them for a lease (a token, the worker's name,
`next_attempt_at` moved to the lease's end), on the condition that nobody took it since it
was read. A worker that dies leaves its claims to run out; the next claim after the lease
takes them again, and sees `in_flight` set: the last attempt ended without a recorded
outcome (docs/decisions/0501, 0505).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aptt_platform.mongo import Document, UnitOfWork
from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from aptt_notify.store.collections import DELIVERIES, by_district

INDEXES: dict[str, Sequence[IndexModel]] = {
    DELIVERIES: [
        by_district("key", unique=True, name="idempotency_key"),
        by_district("message_id", name="by_message"),
        by_district("provider_id", name="by_provider_id"),
        IndexModel(
            [("next_attempt_at", ASCENDING)],
            name="pending_queue",
            partialFilterExpression={"status": "pending"},
        ),
    ],
}


@dataclass(frozen=True)
class Claimed:
    """A delivery as it was before this claim, and the lease token the claim holds."""

    delivery: Document
    token: str


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


async def due_deliveries(
    db: AsyncDatabase[Document], *, now: datetime, limit: int
) -> list[Document]:
    """Up to `limit` due deliveries, oldest first: the candidates of a claim."""
    return (
        await db[DELIVERIES]
        .find({"status": "pending", "next_attempt_at": {"$lte": now}})
        .sort("next_attempt_at", ASCENDING)
        .limit(limit)
        .to_list()
    )


async def claim(
    uow: UnitOfWork,
    candidates: Sequence[Document],
    *,
    now: datetime,
    lease_until: datetime,
    owner: str,
) -> list[Claimed]:
    """Take these candidates until `lease_until`, in the unit of work's transaction.

    Each is taken only if its attempt count is still the one read, so two workers racing
    for the same delivery cannot both hold it (every claim increments the count). In a
    transaction because a plain write to a delivery that a killed sender's open transaction
    still holds waits, inside the database, until that transaction ends; a transaction's
    write meets the conflict at once (docs/decisions/0019)."""
    if not candidates:
        return []
    token = uuid.uuid4().hex
    await uow.collection(DELIVERIES).bulk_write(
        [
            UpdateOne(
                {
                    "_id": d["_id"],
                    "status": "pending",
                    "attempts": d.get("attempts", 0),
                    "next_attempt_at": {"$lte": now},
                },
                {
                    "$set": {
                        "next_attempt_at": lease_until,
                        "lease": token,
                        "owner": owner,
                        "in_flight": True,
                    },
                    # An attempt before this one that left no outcome: the counted window.
                    "$inc": {"attempts": 1, "uncertain_attempts": int(bool(d.get("in_flight")))},
                    "$min": {"first_claimed_at": now},
                },
            )
            for d in candidates
        ],
        ordered=False,
        session=uow.session,
    )
    taken = {
        doc["_id"]
        for doc in await uow.collection(DELIVERIES)
        .find(
            {"_id": {"$in": [d["_id"] for d in candidates]}, "lease": token},
            {"_id": 1},
            session=uow.session,
        )
        .to_list()
    }
    return [Claimed(d, token) for d in candidates if d["_id"] in taken]


async def current_leases(uow: UnitOfWork, delivery_ids: Sequence[str]) -> dict[str, Document]:
    """Status and lease of these deliveries, read in the transaction that records outcomes."""
    cursor = uow.collection(DELIVERIES).find(
        {"_id": {"$in": list(delivery_ids)}}, {"status": 1, "lease": 1}, session=uow.session
    )
    return {doc["_id"]: doc for doc in await cursor.to_list()}


async def write_outcomes(uow: UnitOfWork, updates: Sequence[tuple[Document, Document]]) -> None:
    """(filter, fields) per delivery, in one bulk write; every outcome ends the attempt."""
    if updates:
        await uow.collection(DELIVERIES).bulk_write(
            [
                UpdateOne(where, {"$set": {**fields, "in_flight": False}})
                for where, fields in updates
            ],
            ordered=False,
            session=uow.session,
        )


async def provider_ids_taken(
    db: AsyncDatabase[Document], district_id: str, provider_ids: Sequence[str]
) -> set[str]:
    cursor = db[DELIVERIES].find(
        {"district_id": district_id, "provider_id": {"$in": list(provider_ids)}},
        {"provider_id": 1},
    )
    return {doc["provider_id"] for doc in await cursor.to_list()}
