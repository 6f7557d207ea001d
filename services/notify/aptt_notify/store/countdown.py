"""Incoming kindergarten families, from the data service's restricted kindergarten topic."""

from __future__ import annotations

from collections.abc import Sequence

from aptt_platform.mongo import Document, UnitOfWork
from aptt_platform.readmodel import ReadModel
from pymongo import ASCENDING, IndexModel

INCOMING_FAMILIES = "incoming_families"
incoming_families = ReadModel(INCOMING_FAMILIES, "family_id")
INDEXES: dict[str, Sequence[IndexModel]] = {INCOMING_FAMILIES: [incoming_families.index()]}


def guardian_id(family_id: str, n: int) -> str:
    """The recipient id of an incoming family's guardian, until the SIS gives them one."""
    return f"kg-{family_id}-{n}"


# One document per district: its countdown sequence, when it changed ours.
SEQUENCES = "countdown_sequences"
INDEXES[SEQUENCES] = [
    IndexModel([("district_id", ASCENDING)], name="district", unique=True),
]


async def get_sequence(uow: UnitOfWork, district_id: str) -> Document | None:
    return await uow.collection(SEQUENCES).find_one(
        {"district_id": district_id}, {"_id": 0}, session=uow.session
    )


async def set_sequence(uow: UnitOfWork, district_id: str, fields: Document) -> None:
    await uow.collection(SEQUENCES).replace_one(
        {"district_id": district_id},
        {"district_id": district_id, **fields},
        upsert=True,
        session=uow.session,
    )
