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

from pymongo import ASCENDING, IndexModel, UpdateOne

from aptt_platform.mongo import Document, UnitOfWork

VERSION_FIELD = "event_time"  # the event's time, as MongoDB keeps it (milliseconds)
EXACT_VERSION_FIELD = "event_version"  # the same, in microseconds since the epoch
REMOVED_FIELD = "removed"


@dataclass(frozen=True)
class Change:
    """One event's change to a read model: an upsert of `fields`, or a removal (`fields` None,
    with `keep` the fields a tombstone still needs)."""

    district_id: str
    aggregate_id: str
    version: datetime | None
    fields: Mapping[str, Any] | None
    keep: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Applied:
    """What an event did to the read model: written or not, and the document before it."""

    written: bool
    before: Document | None

    @property
    def was_live(self) -> bool:
        """The aggregate was known and not removed before this event."""
        return self.before is not None and not self.before.get(REMOVED_FIELD, False)


def is_newer(event_time: datetime | None, stored: Document) -> bool:
    """Whether an event of `event_time` is newer than what `stored` reflects.

    Compared to the microsecond where both are known (two events of one transaction are a
    microsecond apart), else to the millisecond MongoDB keeps. An event without a time (never
    produced by the platform) always applies.
    """
    if event_time is None:
        return True
    exact = stored.get(EXACT_VERSION_FIELD)
    if isinstance(exact, int):
        return _micros(event_time) > exact
    kept = stored.get(VERSION_FIELD)
    if kept is None:
        return True
    return bool(_to_millis(event_time) > kept)


def _micros(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def _exact(version: datetime | None) -> int | None:
    return _micros(version) if version is not None else None


def _to_millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class ReadModel:
    """One collection of another service's aggregates of one kind, keyed by district and id."""

    def __init__(self, collection: str, id_field: str) -> None:
        self.collection = collection
        self.id_field = id_field

    def index(self, name: str | None = None) -> IndexModel:
        """The unique index of the read model. Without a name MongoDB names it from its keys
        (`district_id_1_student_id_1`), as the collections created before this class have."""
        keys = [("district_id", ASCENDING), (self.id_field, ASCENDING)]
        if name is None:
            return IndexModel(keys, unique=True)
        return IndexModel(keys, unique=True, name=name)

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

    async def apply_many(self, uow: UnitOfWork, changes: list[Change]) -> list[Applied]:
        """Apply a run of changes in few round trips (a read per 200 ids, one bulk write), with
        the same rule as one at a time: each applies only when newer than what is kept."""
        if not changes:
            return []
        keys = {(c.district_id, c.aggregate_id) for c in changes}
        by_district: dict[str, list[str]] = {}
        for district_id, aggregate_id in keys:
            by_district.setdefault(district_id, []).append(aggregate_id)
        collection = uow.collection(self.collection)
        kept: dict[tuple[str, str], Document] = {}
        # One query per district and a bounded id list each: SecantusDB plans an `$or` of
        # them as a scan of the whole collection (39 s for 500 ids among 20,000 documents).
        for district_id, ids in by_district.items():
            for start in range(0, len(ids), 200):
                query = {
                    "district_id": district_id,
                    self.id_field: {"$in": ids[start : start + 200]},
                }
                async for doc in collection.find(query, session=uow.session):
                    kept[(district_id, doc[self.id_field])] = doc
        applied: list[Applied] = []
        writes: dict[tuple[str, str], dict[str, Any]] = {}
        for change in changes:
            key = (change.district_id, change.aggregate_id)
            before = kept.get(key)
            if before is not None and not is_newer(change.version, before):
                applied.append(Applied(written=False, before=before))
                continue
            values = self._values(change.fields, change.keep, change.version)
            # A later change of the same aggregate in the run replaces an earlier one's write.
            writes[key] = {**writes.get(key, {}), **values}
            kept[key] = {**(before or {}), **values, "district_id": key[0], self.id_field: key[1]}
            applied.append(Applied(written=True, before=before))
        if writes:
            await collection.bulk_write(
                [
                    UpdateOne(self.key(*key), {"$set": values}, upsert=True)
                    for key, values in writes.items()
                ],
                ordered=False,
                session=uow.session,
            )
        return applied

    @staticmethod
    def _values(
        fields: Mapping[str, Any] | None, keep: Mapping[str, Any] | None, version: datetime | None
    ) -> dict[str, Any]:
        removed = fields is None
        return {
            **((keep or {}) if removed else (fields or {})),
            REMOVED_FIELD: removed,
            VERSION_FIELD: version,
            EXACT_VERSION_FIELD: _exact(version),
        }

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

    async def find_live(
        self,
        uow: UnitOfWork,
        district_id: str,
        query: Mapping[str, Any] | None = None,
        *,
        limit: int,
        projection: Mapping[str, Any] | None = None,
        sort: str | None = None,
    ) -> list[Document]:
        """The aggregates of `query` that are not removed, at most `limit` (tombstones count
        toward the bound, which is a safety bound, not a page).

        Tombstones are left out here, not in the query: SecantusDB plans any query with a
        field outside the index it would use, `$ne` included, as a collection scan, and the
        read models are the largest collections of the services that keep them.
        """
        fields = None if projection is None else {**projection, REMOVED_FIELD: 1}
        cursor = uow.collection(self.collection).find(
            {"district_id": district_id, **(query or {})}, fields, session=uow.session
        )
        if sort is not None:
            cursor = cursor.sort(sort)
        docs = await cursor.limit(limit).to_list()
        return [doc for doc in docs if not doc.get(REMOVED_FIELD, False)]

    async def _apply(
        self,
        uow: UnitOfWork,
        district_id: str,
        aggregate_id: str,
        fields: Mapping[str, Any],
        version: datetime | None,
    ) -> Applied:
        key = self.key(district_id, aggregate_id)
        collection = uow.collection(self.collection)
        # Read, then write in the same snapshot transaction: a concurrent writer of the same
        # document conflicts and the driver runs one of the two again.
        before = await collection.find_one(key, session=uow.session)
        if before is not None and not is_newer(version, before):
            return Applied(written=False, before=before)
        await collection.update_one(
            key,
            {"$set": {**fields, VERSION_FIELD: version, EXACT_VERSION_FIELD: _exact(version)}},
            upsert=True,
            session=uow.session,
        )
        return Applied(written=True, before=before)
