"""Incoming kindergarten families, from the data service's restricted kindergarten topic."""

from __future__ import annotations

from collections.abc import Sequence

from aptt_platform.mongo import Document, UnitOfWork
from aptt_platform.readmodel import ReadModel
from pymongo import ASCENDING, IndexModel

from aptt_notify.store.collections import LOCKS
from aptt_notify.store.roster import guardians

INCOMING_FAMILIES = "incoming_families"
incoming_families = ReadModel(INCOMING_FAMILIES, "family_id")
INDEXES: dict[str, Sequence[IndexModel]] = {
    INCOMING_FAMILIES: [
        incoming_families.index(),
        # A roster contact finds the incoming family it may be (matching at enrollment).
        IndexModel([("district_id", ASCENDING), ("phones", ASCENDING)], name="by_phone"),
        IndexModel([("district_id", ASCENDING), ("emails", ASCENDING)], name="by_email"),
    ]
}


def guardian_id(family_id: str, n: int) -> str:
    """The recipient id of an incoming family's guardian, until the SIS gives them one."""
    return f"kg-{family_id}-{n}"


# One document per district: its countdown sequence, when it changed ours.
SEQUENCES = "countdown_sequences"
INDEXES[SEQUENCES] = [
    IndexModel([("district_id", ASCENDING)], name="district", unique=True),
]


async def lock_sequence(uow: UnitOfWork, district_id: str) -> None:
    """A family entered reads the sequence; a changed sequence reads the families. Side by
    side, each would miss the other's write and the family would miss the district's own
    steps; both write this document, so one conflicts and runs again, seeing the other."""
    await uow.collection(LOCKS).update_one(
        {"_id": f"{district_id}:countdown"},
        {"$inc": {"version": 1}, "$set": {"district_id": district_id}},
        upsert=True,
        session=uow.session,
    )


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


# Families or guardians sharing one phone or email: a household, rarely more.
MAX_AT_ONE_CONTACT = 50


async def families_reached_at(
    uow: UnitOfWork, district_id: str, *, phone: str | None, email: str | None
) -> list[Document]:
    """Unmatched incoming families with a guardian at this phone or email (two queries: an
    `$or` would scan the collection)."""
    found: dict[str, Document] = {}
    for field, value in (("phones", phone), ("emails", email)):
        if not value:
            continue
        # Matched families are left out here: beside the contact index the condition would
        # make SecantusDB scan the collection (docs/platform.md, Storage).
        for doc in await incoming_families.find_live(
            uow, district_id, {field: value}, limit=MAX_AT_ONE_CONTACT
        ):
            if "matched_student_id" not in doc:
                found[doc["family_id"]] = doc
    return list(found.values())


async def mark_matched(
    uow: UnitOfWork, district_id: str, family_id: str, *, student_id: str, guardian_id: str
) -> None:
    await uow.collection(INCOMING_FAMILIES).update_one(
        incoming_families.key(district_id, family_id),
        {"$set": {"matched_student_id": student_id, "matched_guardian_id": guardian_id}},
        session=uow.session,
    )


async def roster_guardians_at(
    uow: UnitOfWork, district_id: str, *, phones: list[str], emails: list[str]
) -> list[Document]:
    """Roster guardians (not an incoming family's) at these phones or emails."""
    found: dict[str, Document] = {}
    for field, values in (("contact.phone", phones), ("contact.email", emails)):
        if not values:
            continue
        for doc in await guardians.find_live(
            uow, district_id, {field: {"$in": values}}, limit=MAX_AT_ONE_CONTACT * len(values)
        ):
            if "incoming_family_id" not in doc:  # as in families_reached_at
                found[doc["guardian_id"]] = doc
    return list(found.values())
