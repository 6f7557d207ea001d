"""The outbox relay: publishes committed outbox records to Kafka, in commit order, at least once.

The relay tails the outbox with a MongoDB change stream (transaction-log tailing, not
polling): the database hands it each committed record once, in commit order, and a pass
costs the records it reads, never the whole backlog. Published records are not written back
one by one; the relay keeps a checkpoint (the change stream's resume token) and records leave
the outbox by its TTL index. After a restart the relay resumes from its checkpoint, so a
record published just before a crash is published again: consumers drop the copy by its
`ce_id` (docs/decisions/0005-platform-v2.md).

Order is kept per key (aggregate), not across the whole outbox. A record that fails for a
passing reason is retried with backoff, and later records of its key wait behind it; other
keys flow. A record that can never be published (too large for the topic, refused by the
broker for good) is parked in `outbox_parked` with its reason, counted and alerted on, and
can be replayed (`aptt-outbox replay`). Only one relay per service publishes at a time (a
lease), so several replicas do not interleave one aggregate's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    UnknownTopicOrPartitionError,
)
from pymongo import ReturnDocument
from pymongo.asynchronous.change_stream import AsyncChangeStream
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

from aptt_platform import metrics
from aptt_platform.kafka import TopicKeeper
from aptt_platform.logging import get_logger
from aptt_platform.mongo import OUTBOX, OUTBOX_PARKED, Document, Mongo, UnitOfWork, utcnow
from aptt_platform.settings import ServiceSettings

log = get_logger(__name__)
LEASES = "leases"
RELAY_STATE = "relay_state"
CHECKPOINT_ID = "outbox-relay"
# Change-stream history the server no longer has: fall back to reading the outbox itself.
HISTORY_LOST = 286
# How far before the checkpoint a recovery scan starts: longer than any transaction lives.
RECOVERY_MARGIN = timedelta(minutes=5)


@dataclass
class _Pending:
    """One record read from the outbox and not yet settled (published or parked)."""

    record: Document
    token: Any
    attempts: int = 0
    not_before: float = 0.0
    first_failure: float | None = None
    settled: bool = False


@dataclass
class _Pass:
    """What one pass did, for the loop and for tests."""

    published: int = 0
    parked: int = 0
    failed: int = 0
    keys_waiting: set[str] = field(default_factory=set)


class OutboxRelay:
    def __init__(
        self,
        *,
        mongo: Mongo,
        producer: AIOKafkaProducer,
        settings: ServiceSettings,
        topics: TopicKeeper | None = None,
    ) -> None:
        self.mongo = mongo
        self.producer = producer
        self.settings = settings
        # Puts back topics a restarted local broker lost, before records wait for them.
        self.topics = topics
        self.app = settings.service_name
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Records read, in commit order, until the prefix of settled ones is checkpointed.
        self._window: deque[_Pending] = deque()
        self._checkpoint: Any = None
        self._checkpoint_time: datetime | None = None
        self._saved: Any = None
        # Event ids a recovery scan published: the stream may bring them again.
        self._recovered: set[str] = set()
        self._lease_until = 0.0
        self._measured_at = 0.0
        self._last_success = 0.0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.app}")

    def wake(self) -> None:
        """Kept for callers of the polling relay; the change stream needs no waking."""

    async def stop(self) -> None:
        """Publish what was read, save the checkpoint, hand the lease back."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    # -- the loop ---------------------------------------------------------------------

    async def _run(self) -> None:
        pause = 0.5
        while not self._stopping.is_set():
            try:
                if not await self._hold_lease():
                    await self._sleep(self.settings.relay_lease_seconds / 3)
                    continue
                await self._follow()
                pause = 0.5
            except (PyMongoError, KafkaError, OSError) as exc:
                log.warning("outbox relay paused", error=f"{type(exc).__name__}: {exc}"[:300])
                await self._sleep(pause)
                pause = min(pause * 2, 10.0)
        with contextlib.suppress(PyMongoError, KafkaError, OSError):
            await self._save_checkpoint()
            await self._release_lease()

    async def _follow(self) -> None:
        """Open the change stream at the checkpoint and publish what it brings."""
        await self._load_checkpoint()
        async with await self._open_stream() as stream:
            if self._checkpoint is None:
                # No checkpoint (first start, or history lost): what the outbox holds now may
                # never have been published. The stream was opened first, so nothing falls
                # between the scan and the stream; a record in both is published twice.
                await self._recover()
                if not self._window and stream.resume_token is not None:
                    self._checkpoint = stream.resume_token
            while True:
                stopping = self._stopping.is_set()
                if not await self._hold_lease():
                    return
                # Once more after the stop was asked for: what committed until now goes out.
                await self._read(stream, drain=stopping)
                if self._window:
                    await self._publish_window(final=stopping)
                await self._save_checkpoint()
                await self._measure()
                if stopping:
                    return
                waiting = [p.not_before for p in self._window if not p.settled]
                if waiting and min(waiting) > time.monotonic():
                    await self._sleep(min(waiting) - time.monotonic())

    async def _open_stream(self) -> AsyncChangeStream[Document]:
        pipeline = [{"$match": {"operationType": "insert"}}]
        options: dict[str, Any] = {
            "batch_size": self.settings.relay_batch_size,
            "max_await_time_ms": int(self.settings.relay_poll_interval_seconds * 1000),
        }
        if self._checkpoint is not None:
            options["resume_after"] = self._checkpoint
        try:
            return await self.mongo.db[OUTBOX].watch(pipeline, **options)
        except OperationFailure as exc:
            if exc.code != HISTORY_LOST or self._checkpoint is None:
                raise
            log.warning("outbox change history lost: recovering from the outbox itself")
            self._checkpoint = None
            options.pop("resume_after")
            return await self.mongo.db[OUTBOX].watch(pipeline, **options)

    async def _read(self, stream: AsyncChangeStream[Document], *, drain: bool = False) -> None:
        """Add what the stream has now to the window, up to a batch (and a bounded window)."""
        room = self.settings.relay_max_in_flight - len(self._window)
        wanted = room if drain else min(self.settings.relay_batch_size, room)
        read = 0
        while read < wanted:
            change = await stream.try_next()
            if change is None:
                break
            record = change["fullDocument"]
            if record["event_id"] in self._recovered:
                self._recovered.discard(record["event_id"])
                record = {**record, "recovered": True}
            self._window.append(
                _Pending(record=record, token=change["_id"], settled="recovered" in record)
            )
            read += 1

    async def _recover(self) -> None:
        """Queue every outbox record that may not have been published, oldest first."""
        state = await self.mongo.db[RELAY_STATE].find_one({"_id": CHECKPOINT_ID})
        since = (state or {}).get("published_through")
        query: dict[str, Any] = {"status": {"$ne": "published"}}
        if since is not None:
            query["created_at"] = {"$gte": since - RECOVERY_MARGIN}
        cursor = self.mongo.db[OUTBOX].find(query).sort("_id", 1)
        async for record in cursor:
            self._recovered.add(record["event_id"])
            self._window.append(_Pending(record=record, token=None))
            if len(self._window) >= self.settings.relay_batch_size:
                await self._publish_window()
        if self._window:
            await self._publish_window()

    # -- publishing -------------------------------------------------------------------

    async def _publish_window(self, *, final: bool = False) -> _Pass:
        """Send every due record of the window whose key has nothing waiting before it."""
        done = _Pass()
        now = time.monotonic()
        sending: list[tuple[_Pending, asyncio.Future[Any]]] = []
        for pending in self._window:
            if pending.settled:
                continue
            key = pending.record["key"]
            if key in done.keys_waiting or (pending.not_before > now and not final):
                done.keys_waiting.add(key)  # later records of this key keep their order
                continue
            sending.append((pending, await self._send(pending.record)))
        for pending, sent in sending:
            try:
                await sent
            except Exception as exc:
                await self._failed(pending, exc, done)
                continue
            pending.settled = True
            done.published += 1
            self._last_success = time.monotonic()
            metrics.EVENTS_PUBLISHED.labels(
                self.app, pending.record["topic"], pending.record["type"]
            ).inc()
        self._advance()
        return done

    async def _send(self, record: Document) -> asyncio.Future[Any]:
        try:
            sent: asyncio.Future[Any] = await self.producer.send(
                record["topic"],
                value=record["value"].encode(),
                key=record["key"].encode(),
                headers=[(k, v.encode()) for k, v in record["headers"].items()],
            )
            return sent
        except Exception as exc:
            failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            failed.set_exception(exc)
            return failed

    async def _failed(self, pending: _Pending, exc: BaseException, done: _Pass) -> None:
        pending.attempts += 1
        if self.topics is not None and isinstance(
            exc, (UnknownTopicOrPartitionError, KafkaTimeoutError)
        ):
            with contextlib.suppress(KafkaError, TimeoutError, OSError):
                await self.topics.heal()
        metrics.OUTBOX_PUBLISH_FAILURES.labels(self.app).inc()
        now = time.monotonic()
        pending.first_failure = pending.first_failure or now
        # Parked: an error the broker will give again (too large, no such topic, refused),
        # or a record that keeps failing while the broker takes other records.
        broker_works = self._last_success > pending.first_failure
        if is_permanent(exc) or (
            pending.attempts >= self.settings.relay_park_after_attempts and broker_works
        ):
            await park(self.mongo, pending.record, reason=_reason(exc))
            pending.settled = True
            done.parked += 1
            metrics.OUTBOX_PARKED.labels(self.app).inc()
            log.error(
                "outbox record parked",
                event_id=pending.record["event_id"],
                topic=pending.record["topic"],
                error=type(exc).__name__,
            )
            return
        delay = min(2.0 ** min(pending.attempts, 16) * 0.1, self.settings.relay_backoff_max_seconds)
        pending.not_before = now + delay
        done.failed += 1
        done.keys_waiting.add(pending.record["key"])
        log.warning(
            "outbox publish failed",
            event_id=pending.record["event_id"],
            topic=pending.record["topic"],
            attempts=pending.attempts,
            error=type(exc).__name__,
        )

    def _advance(self) -> None:
        """Move the checkpoint over the settled records at the front of the window."""
        while self._window and self._window[0].settled:
            settled = self._window.popleft()
            if settled.token is not None:
                self._checkpoint = settled.token
            self._checkpoint_time = settled.record.get("created_at") or self._checkpoint_time

    # -- checkpoint, lease, metrics ---------------------------------------------------

    async def _load_checkpoint(self) -> None:
        state = await self.mongo.db[RELAY_STATE].find_one({"_id": CHECKPOINT_ID})
        self._window.clear()
        self._recovered.clear()
        self._checkpoint = self._saved = (state or {}).get("resume_token")
        self._checkpoint_time = (state or {}).get("published_through")

    async def _save_checkpoint(self) -> None:
        if self._checkpoint is None or self._checkpoint == self._saved:
            return
        await self.mongo.db[RELAY_STATE].update_one(
            {"_id": CHECKPOINT_ID},
            {
                "$set": {
                    "resume_token": self._checkpoint,
                    "published_through": self._checkpoint_time,
                    "saved_at": utcnow(),
                    "owner": self.owner,
                }
            },
            upsert=True,
        )
        self._saved = self._checkpoint

    async def _measure(self) -> None:
        """Backlog gauges, once a second; the count is bounded, the hot path never counts."""
        if time.monotonic() - self._measured_at < 1.0:
            return
        self._measured_at = time.monotonic()
        unsettled = [p for p in self._window if not p.settled]
        oldest = min((p.record["created_at"] for p in unsettled), default=None)
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        metrics.OUTBOX_BACKLOG.labels(self.app).set(len(unsettled))
        metrics.OUTBOX_OLDEST_AGE.labels(self.app).set(max(age, 0.0))
        parked = await self.mongo.db[OUTBOX_PARKED].estimated_document_count()
        metrics.OUTBOX_PARKED_NOW.labels(self.app).set(parked)

    async def _hold_lease(self) -> bool:
        now = time.monotonic()
        lease = self.settings.relay_lease_seconds
        if self._lease_until - now > lease * 2 / 3:
            return True  # renewed recently: one write per third of a lease, not per pass
        moment = utcnow()
        try:
            await self.mongo.db[LEASES].find_one_and_update(
                {
                    "_id": "outbox-relay",
                    "$or": [{"owner": self.owner}, {"expires_at": {"$lt": moment}}],
                },
                {"$set": {"owner": self.owner, "expires_at": moment + timedelta(seconds=lease)}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            self._lease_until = 0.0
            return False  # another replica holds the lease
        self._lease_until = now + lease
        return True

    async def _release_lease(self) -> None:
        self._lease_until = 0.0
        await self.mongo.db[LEASES].delete_one({"_id": "outbox-relay", "owner": self.owner})

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), max(seconds, 0.01))


def is_permanent(exc: BaseException) -> bool:
    """Errors the broker would give again for this record, however often it is sent."""
    if isinstance(exc, MessageSizeTooLargeError):
        return True
    return isinstance(exc, KafkaError) and not exc.retriable


async def park(mongo: Mongo, record: Document, *, reason: str) -> None:
    """Keep a record that cannot be published, with why, for an operator to replay."""
    parked = {**record, "status": "parked", "reason": reason, "parked_at": utcnow()}
    with contextlib.suppress(DuplicateKeyError):  # parked already, before a restart
        await mongo.db[OUTBOX_PARKED].insert_one(parked)


async def list_parked(mongo: Mongo, *, limit: int = 1000) -> list[Document]:
    """Parked records, oldest first, without their payloads (they may be personal)."""
    cursor = mongo.db[OUTBOX_PARKED].find({}, {"value": 0, "headers": 0}).limit(limit)
    return sorted(await cursor.to_list(), key=lambda r: r["parked_at"])


async def replay_parked(mongo: Mongo, *, event_ids: list[str] | None = None) -> int:
    """Put parked records back in the outbox, as new records with the same event id (so a
    consumer that saw it once drops it); return how many."""
    query: dict[str, Any] = {"event_id": {"$in": event_ids}} if event_ids else {}
    replayed = 0
    async for record in mongo.db[OUTBOX_PARKED].find(query):
        await mongo.run(_unpark, record)
        replayed += 1
    return replayed


async def _unpark(uow: UnitOfWork, record: Document) -> None:
    fresh = {k: v for k, v in record.items() if k not in ("_id", "reason", "parked_at")}
    fresh.update(status="pending", created_at=utcnow())
    await uow.collection(OUTBOX).insert_one(fresh, session=uow.session)
    await uow.collection(OUTBOX_PARKED).delete_one({"_id": record["_id"]}, session=uow.session)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
