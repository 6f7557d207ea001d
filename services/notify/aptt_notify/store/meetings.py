"""The meetings read model: versioned by the event it reflects, a cancellation is final."""

from __future__ import annotations

from collections.abc import Sequence

from aptt_platform.mongo import Document, UnitOfWork
from pymongo import IndexModel

from aptt_notify.store.collections import MEETINGS, by_district, doc_id

INDEXES: dict[str, Sequence[IndexModel]] = {
    MEETINGS: [by_district("meeting_id", unique=True, name="meeting")],
}


async def get_meeting(uow: UnitOfWork, district_id: str, meeting_id: str) -> Document | None:
    return await uow.collection(MEETINGS).find_one(
        {"_id": doc_id(district_id, meeting_id)}, session=uow.session
    )


async def put_meeting(uow: UnitOfWork, district_id: str, meeting_id: str, fields: Document) -> None:
    await uow.collection(MEETINGS).update_one(
        {"_id": doc_id(district_id, meeting_id)},
        {"$set": {**fields, "district_id": district_id, "meeting_id": meeting_id}},
        upsert=True,
        session=uow.session,
    )
