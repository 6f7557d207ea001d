"""Read models: a service's own copy of another service's aggregates, kept from its events.

Retries travel through the retry topic, so a consumer may see an aggregate's events out of
order. A read model therefore applies an upsert or a removal only when its event is newer
than what it holds, and keeps a removal as a tombstone (`removed: true`), so that a late
upsert cannot bring a removed classroom or student back. Every service keeps its copies of
the roster through this one class (docs/decisions/0005-platform-v2.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel

from aptt_platform.mongo import Document, UnitOfWork

VERSION_FIELD = "event_time"
REMOVED_FIELD = "removed"


@dataclass(frozen=True)
class Applied:
    """What an event did to the read model: written or not, and the document before it."""

    written: bool
    before: Document | None

    @property
    def was_live(self) -> bool:
        """The aggregate was known and not removed before this event."""
        return self.before is not None and not self.before.get(REMOVED_FIELD, False)


def is_newer(event_time: datetime | None, stored: datetime | None) -> bool:
    """An event without a time (never produced by the platform) always applies."""
    if event_time is None or stored is None:
        return True
    return event_time > stored


class ReadModel:
    """One collection of another service's aggregates of one kind, keyed by district and id."""

    def __init__(self, collection: str, id_field: str) -> None:
        self.collection = collection
        self.id_field = id_field

    def index(self) -> IndexModel:
        return IndexModel(
            [("district_id", ASCENDING), (self.id_field, ASCENDING)],
            unique=True,
            name=f"{self.id_field}_unique",
        )

    def key(self, district_id: str, aggregate_id: str) -> dict[str, str]:
        return {"district_id": district_id, self.id_field: aggregate_id}

    async def upsert(
        self,
        uow: UnitOfWork,
        district_id: str,
        aggregate_id: str,
        fields: Mapping[str, Any],
        *,
        version: datetime | None,
    ) -> Applied:
        """Keep the aggregate as `fields` say, unless a newer event is already applied."""
        return await self._apply(
            uow, district_id, aggregate_id, {**fields, REMOVED_FIELD: False}, version
        )

    async def remove(
        self,
        uow: UnitOfWork,
        district_id: str,
        aggregate_id: str,
        *,
        version: datetime | None,
        keep: Mapping[str, Any] | None = None,
    ) -> Applied:
        """Mark the aggregate removed (a tombstone), unless a newer event is already applied.

        `keep` are fields a tombstone still needs (its school, to scope an access check).
        """
        return await self._apply(
            uow, district_id, aggregate_id, {**(keep or {}), REMOVED_FIELD: True}, version
        )

    async def get(
        self, uow: UnitOfWork, district_id: str, aggregate_id: str, *, removed: bool = False
    ) -> Document | None:
        """The aggregate as kept; a removed one only when asked for."""
        doc = await uow.collection(self.collection).find_one(
            self.key(district_id, aggregate_id), session=uow.session
        )
        if doc is None or (doc.get(REMOVED_FIELD, False) and not removed):
            return None
        return doc

    def live(self, district_id: str, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A query for the aggregates that are not removed."""
        return {"district_id": district_id, REMOVED_FIELD: {"$ne": True}, **(query or {})}

    async def _apply(
        self,
        uow: UnitOfWork,
        district_id: str,
        aggregate_id: str,
        fields: Mapping[str, Any],
        version: datetime | None,
    ) -> Applied:
        if version is not None:
            # MongoDB keeps milliseconds: compare what would be stored, so an event applied
            # once reads as applied, not as newer than itself.
            version = version.replace(microsecond=version.microsecond // 1000 * 1000)
        key = self.key(district_id, aggregate_id)
        collection = uow.collection(self.collection)
        # Read, then write in the same snapshot transaction: a concurrent writer of the same
        # document conflicts and the driver runs one of the two again.
        before = await collection.find_one(key, session=uow.session)
        if before is not None and not is_newer(version, before.get(VERSION_FIELD)):
            return Applied(written=False, before=before)
        await collection.update_one(
            key, {"$set": {**fields, VERSION_FIELD: version}}, upsert=True, session=uow.session
        )
        return Applied(written=True, before=before)
