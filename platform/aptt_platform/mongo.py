"""MongoDB access: one client per process and a unit of work per use case.

A unit of work runs the use case in a transaction; the events the use case publishes, and
the events recorded by the aggregates it touched (`uow.track`), are written to the `outbox`
collection in that same transaction, so state and events commit together or not at all.
After a commit that wrote events the relay is woken: no service wakes it by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from aptt_contracts.envelope import EventModel
from bson import ObjectId
from pymongo import ASCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from aptt_platform import events
from aptt_platform.errors import PayloadTooLarge
from aptt_platform.tracing import current_traceparent

Document = dict[str, Any]
P = ParamSpec("P")
T = TypeVar("T")

OUTBOX = "outbox"
OUTBOX_PARKED = "outbox_parked"
PROCESSED_EVENTS = "processed_events"
# An event carries ids, codes and numbers: far below Kafka's 1 MiB default record limit. A
# bigger one is a bug or unbounded input, refused before it can reach the outbox.
MAX_EVENT_BYTES = 256 * 1024
# Kept a little longer than the longest topic retention, so a redelivered record is still known.
PROCESSED_EVENTS_TTL_SECONDS = 45 * 24 * 3600
# The relay's checkpoint says what was published; records leave the outbox by age. A week is
# far beyond the OutboxStuck alert (5 minutes), so only a relay left broken for a week
# would lose records (docs/operations.md#apttoutboxstuck).
OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600


def utcnow() -> datetime:
    return datetime.now(UTC)


class Aggregate(Protocol):
    """A domain object that records the events of what happened to it (cosmicpython's
    `self.events`); the unit of work collects them when it commits."""

    events: list[EventModel]


C = TypeVar("C")


@dataclass
class UnitOfWork:
    """What a use case works with: the database, the transaction's session, its events."""

    db: AsyncDatabase[Document]
    session: AsyncClientSession
    events: list[EventModel] = field(default_factory=list)
    # The service's own configuration (ServiceDefinition.config), for handlers.
    config: object = None
    _seen: list[Aggregate] = field(default_factory=list)

    def publish(self, event: EventModel) -> None:
        """Record an event; it is written to the outbox when the transaction commits."""
        self.events.append(event)

    def track(self, aggregate: Aggregate) -> None:
        """The use case touched this aggregate: its recorded events go out on commit.

        Stores call it when they save an aggregate, so a use case never forwards events by hand.
        """
        if not any(seen is aggregate for seen in self._seen):
            self._seen.append(aggregate)

    def config_as(self, kind: type[C]) -> C:
        """The service's configuration, typed; a wiring mistake fails loudly here."""
        if not isinstance(self.config, kind):
            raise TypeError(f"the unit of work carries no {kind.__name__}")
        return self.config

    def collection(self, name: str) -> AsyncCollection[Document]:
        return self.db[name]

    def collect_new_events(self) -> list[EventModel]:
        for aggregate in self._seen:
            self.events.extend(aggregate.events)
            aggregate.events.clear()
        return self.events

    async def flush_events(self) -> int:
        """Write the collected events to the outbox; return how many."""
        pending = self.collect_new_events()
        if not pending:
            return 0
        traceparent = current_traceparent()
        now = utcnow()
        records = []
        for position, event in enumerate(pending):
            moment = now + timedelta(microseconds=position)
            headers, key, value = events.encode(event, traceparent=traceparent, time=moment)
            if len(value) > MAX_EVENT_BYTES:
                raise PayloadTooLarge(
                    f"a {event.event_type} event would be {len(value):,} bytes; "
                    f"events are limited to {MAX_EVENT_BYTES:,}",
                    code="event-too-large",
                )
            records.append(
                {
                    "_id": ObjectId(),
                    "event_id": headers["ce_id"],
                    "district_id": event.district_id,
                    "topic": event.topic,
                    "type": event.event_type,
                    "key": key,
                    "headers": headers,
                    "value": value.decode(),
                    # Never changed: the relay's checkpoint says what was published.
                    "status": "pending",
                    "created_at": now,
                }
            )
        await self.db[OUTBOX].insert_many(records, ordered=True, session=self.session)
        self.events.clear()
        return len(records)


class Contended(Exception):
    """The first attempt of a unit of work met a write conflict (see `Mongo.run_contended`)."""


# A commit waits at most this long (then the driver retries it as a transient error): no
# transaction of ours runs longer than a few seconds, so a longer wait is a stuck one. The
# transaction a killed process left open is the server's to end: docs/operations.md,
# "Transactions left open".
MAX_COMMIT_TIME_MS = 10_000


class Mongo:
    """The service's database, and the runner of units of work."""

    def __init__(self, url: str, database: str, *, config: object = None) -> None:
        self.client: AsyncMongoClient[Document] = AsyncMongoClient(
            url, tz_aware=True, serverSelectionTimeoutMS=5_000, connectTimeoutMS=5_000
        )
        self.db: AsyncDatabase[Document] = self.client.get_database(database)
        self.config = config
        # Called after a commit that wrote outbox records (the runtime wakes its relay).
        self.on_events_committed: Callable[[], None] | None = None

    async def run(
        self,
        use_case: Callable[Concatenate[UnitOfWork, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run `use_case(uow, ...)` in a transaction; events go to the outbox in it too.

        The driver re-runs the callback on transient errors (write conflicts), so a use case
        must not have side effects outside the database.
        """

        written = 0

        async def attempt(session: AsyncClientSession) -> T:
            nonlocal written
            uow = UnitOfWork(db=self.db, session=session, config=self.config)
            result = await use_case(uow, *args, **kwargs)
            written = await uow.flush_events()
            return result

        async with self.client.start_session() as session:
            result = await session.with_transaction(
                attempt,
                read_concern=ReadConcern("snapshot"),
                write_concern=WriteConcern("majority"),
                max_commit_time_ms=MAX_COMMIT_TIME_MS,
            )
        if written and self.on_events_committed is not None:
            self.on_events_committed()
        return result

    async def run_contended(
        self,
        use_case: Callable[Concatenate[UnitOfWork, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Like `run`, but one attempt only: a write conflict raises `Contended`.

        Concurrent transactions that write one document retry each other out (six of them took
        44 attempts on the local server); a caller running several at once retries the losers
        one after another instead.
        """
        attempts = 0

        async def once(uow: UnitOfWork, /, *a: P.args, **k: P.kwargs) -> T:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                raise Contended
            return await use_case(uow, *a, **k)

        return await self.run(once, *args, **kwargs)

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def ensure_indexes(self, indexes: dict[str, Sequence[IndexModel]]) -> None:
        for collection, models in {**PLATFORM_INDEXES, **indexes}.items():
            if models:
                await self.db[collection].create_indexes(list(models))

    async def close(self) -> None:
        await self.client.close()


# Platform collections are keyed by event, not by district: they are bookkeeping, never
# queried per district (docs/decisions/0003-outbox-and-dedupe.md).
PLATFORM_INDEXES: dict[str, Sequence[IndexModel]] = {
    OUTBOX: [
        IndexModel(
            [("created_at", ASCENDING)],
            name="outbox_expiry",
            expireAfterSeconds=OUTBOX_RETENTION_SECONDS,
        ),
    ],
    OUTBOX_PARKED: [IndexModel([("event_id", ASCENDING)], name="parked_event")],
    PROCESSED_EVENTS: [
        IndexModel(
            [("processed_at", ASCENDING)],
            name="processed_expiry",
            expireAfterSeconds=PROCESSED_EVENTS_TTL_SECONDS,
        ),
    ],
}


async def batched(items: AsyncIterable[T], size: int) -> AsyncIterator[list[T]]:
    """`items` (a cursor, usually) in lists of `size`, the last one shorter: a bulk write per
    list instead of one per document, and never the whole cursor in memory."""
    batch: list[T] = []
    async for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
