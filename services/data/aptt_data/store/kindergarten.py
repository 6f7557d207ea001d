"""Incoming kindergarten families (countdown to kindergarten), one document per family."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from aptt_platform.mongo import Document, UnitOfWork, utcnow
from pymongo import ASCENDING, IndexModel, ReplaceOne

from aptt_data.domain.kindergarten import IncomingFamily, IncomingGuardian
from aptt_data.store import find_in

INCOMING_FAMILIES = "incoming_families"
INDEXES: dict[str, Sequence[IndexModel]] = {
    INCOMING_FAMILIES: [
        IndexModel(
            [("district_id", ASCENDING), ("family_id", ASCENDING)], name="family", unique=True
        ),
        IndexModel([("district_id", ASCENDING), ("school_id", ASCENDING)], name="by_school"),
    ]
}
# What a change compares: the family's own fields, not when or by whom it was written.
FAMILY_FIELDS = ("school_id", "child_first_name", "birth_date", "guardians")


def to_document(district_id: str, family: IncomingFamily) -> Document:
    return {
        "district_id": district_id,
        "family_id": family.family_id,
        "school_id": family.school_id,
        "child_first_name": family.child_first_name,
        "birth_date": family.birth_date.isoformat(),
        "guardians": [
            {"given_name": g.given_name, "phone": g.phone, "email": g.email, "language": g.language}
            for g in family.guardians
        ],
    }


def from_document(doc: Document) -> IncomingFamily:
    return IncomingFamily(
        family_id=doc["family_id"],
        school_id=doc["school_id"],
        child_first_name=doc["child_first_name"],
        birth_date=date.fromisoformat(doc["birth_date"]),
        guardians=tuple(IncomingGuardian(**g) for g in doc["guardians"]),
    )


def same(doc: Document, new: Document) -> bool:
    return all(doc.get(k) == new.get(k) for k in FAMILY_FIELDS)


async def get(uow: UnitOfWork, district_id: str, family_id: str) -> Document | None:
    return await uow.collection(INCOMING_FAMILIES).find_one(
        {"district_id": district_id, "family_id": family_id}, session=uow.session
    )


async def get_many(uow: UnitOfWork, district_id: str, family_ids: Iterable[str]) -> list[Document]:
    return await find_in(
        uow.collection(INCOMING_FAMILIES),
        {"district_id": district_id},
        "family_id",
        family_ids,
        session=uow.session,
    )


async def insert(uow: UnitOfWork, doc: Document, *, by: str) -> None:
    """Raises DuplicateKeyError when the district already has the family."""
    now = utcnow()
    stamped = {**doc, "created_at": now, "updated_at": now, "updated_by": by}
    await uow.collection(INCOMING_FAMILIES).insert_one(stamped, session=uow.session)


async def save_many(uow: UnitOfWork, docs: Sequence[Document], *, by: str) -> None:
    if not docs:
        return
    now = utcnow()
    writes: list[ReplaceOne[dict[str, Any]]] = [
        ReplaceOne(
            {"district_id": d["district_id"], "family_id": d["family_id"]},
            {**d, "created_at": d.get("created_at", now), "updated_at": now, "updated_by": by},
            upsert=True,
        )
        for d in docs
    ]
    await uow.collection(INCOMING_FAMILIES).bulk_write(writes, session=uow.session)


async def delete(uow: UnitOfWork, district_id: str, family_id: str) -> bool:
    answer = await uow.collection(INCOMING_FAMILIES).delete_one(
        {"district_id": district_id, "family_id": family_id}, session=uow.session
    )
    return answer.deleted_count == 1


async def of_school(
    uow: UnitOfWork, district_id: str, school_id: str, *, after: str | None, limit: int
) -> list[Document]:
    """A school's incoming families by reference, from just after `after` (a few hundred at
    most: the sort is over one school's)."""
    query: Document = {"district_id": district_id, "school_id": school_id}
    if after:
        query["family_id"] = {"$gt": after}
    cursor = (
        uow.collection(INCOMING_FAMILIES)
        .find(query, session=uow.session)
        .sort("family_id", ASCENDING)
        .limit(limit)
    )
    return await cursor.to_list()
