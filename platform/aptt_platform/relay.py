"""The outbox relay: publishes committed outbox records to Kafka, in order, at least once.

Only one relay per service publishes at a time (a lease in MongoDB), so several replicas of
a service do not interleave one aggregate's events. A record that fails stays pending and is
retried with backoff, for ever: a failure shows in metrics and alerts, never as a lost event.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from aptt_platform import metrics
from aptt_platform.logging import get_logger
from aptt_platform.mongo import OUTBOX, Mongo, utcnow
from aptt_platform.settings import ServiceSettings

log = get_logger(__name__)
LEASES = "leases"
NOT_PUBLISHED = {"$in": ["pending", "failed"]}
# After this many attempts a record is marked failed (for alerts); it is still retried.
FAILED_AFTER_ATTEMPTS = 5


class OutboxRelay:
    def __init__(
        self, *, mongo: Mongo, producer: AIOKafkaProducer, settings: ServiceSettings
    ) -> None:
        self.mongo = mongo
        self.producer = producer
        self.settings = settings
        self.app = settings.service_name
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._measured_at = 0.0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.app}")

    def wake(self) -> None:
        """Publish soon: a use case just committed events."""
        self._wake.set()

    async def stop(self) -> None:
        """Flush what is pending (within the lease), then stop."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            await self._task
        if await self._hold_lease():
            await self.publish_pending()
            await self._release_lease()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            published = 0
            try:
                if await self._hold_lease():
                    published = await self.publish_pending()
                # Two queries: once a second is plenty for a gauge scraped every ~30 s.
                if time.monotonic() - self._measured_at >= 1.0:
                    await self.update_backlog_metrics()
                    self._measured_at = time.monotonic()
            except PyMongoError as exc:
                log.warning("outbox relay cannot reach the database", error=str(exc))
            if published == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._wake.wait(), self.settings.relay_poll_interval_seconds
                    )
                self._wake.clear()

    async def publish_pending(self) -> int:
        """Publish one batch in outbox order; return how many records were published."""
        outbox = self.mongo.db[OUTBOX]
        cursor = outbox.find({"status": NOT_PUBLISHED}).sort("_id", ASCENDING)
        batch = await cursor.limit(self.settings.relay_batch_size).to_list()
        if not batch:
            return 0
        if batch[0]["next_attempt_at"] > utcnow():
            return 0  # the head is backing off; later records wait to keep their order
        sends = [await self._send(record) for record in batch]
        published_ids = []
        for record, send in zip(batch, sends, strict=True):
            try:
                await send
            except Exception as exc:
                await self._record_failure(record, exc)
                break
            published_ids.append(record["_id"])
            metrics.EVENTS_PUBLISHED.labels(self.app, record["topic"], record["type"]).inc()
        if published_ids:
            await outbox.update_many(
                {"_id": {"$in": published_ids}},
                {"$set": {"status": "published", "published_at": utcnow(), "last_error": None}},
            )
        return len(published_ids)

    async def _send(self, record: dict[str, Any]) -> asyncio.Future[Any]:
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

    async def _record_failure(self, record: dict[str, Any], exc: BaseException) -> None:
        attempts = record["attempts"] + 1
        delay = min(2.0 ** min(attempts, 16) * 0.1, self.settings.relay_backoff_max_seconds)
        metrics.OUTBOX_PUBLISH_FAILURES.labels(self.app).inc()
        log.warning(
            "outbox publish failed",
            event_id=record["event_id"],
            topic=record["topic"],
            attempts=attempts,
            error=type(exc).__name__,
        )
        await self.mongo.db[OUTBOX].update_one(
            {"_id": record["_id"]},
            {
                "$set": {
                    "attempts": attempts,
                    "last_error": f"{type(exc).__name__}: {exc}"[:500],
                    "next_attempt_at": utcnow() + timedelta(seconds=delay),
                    "status": "failed" if attempts >= FAILED_AFTER_ATTEMPTS else "pending",
                }
            },
        )

    async def update_backlog_metrics(self) -> None:
        outbox = self.mongo.db[OUTBOX]
        backlog = await outbox.count_documents({"status": NOT_PUBLISHED})
        oldest = await outbox.find_one({"status": NOT_PUBLISHED}, sort=[("_id", ASCENDING)])
        age = (utcnow() - oldest["created_at"]).total_seconds() if oldest else 0.0
        metrics.OUTBOX_BACKLOG.labels(self.app).set(backlog)
        metrics.OUTBOX_OLDEST_AGE.labels(self.app).set(max(age, 0.0))

    async def _hold_lease(self) -> bool:
        now = utcnow()
        try:
            await self.mongo.db[LEASES].find_one_and_update(
                {
                    "_id": "outbox-relay",
                    "$or": [{"owner": self.owner}, {"expires_at": {"$lt": now}}],
                },
                {
                    "$set": {
                        "owner": self.owner,
                        "expires_at": now + timedelta(seconds=self.settings.relay_lease_seconds),
                    }
                },
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return False  # another replica holds the lease
        return True

    async def _release_lease(self) -> None:
        await self.mongo.db[LEASES].delete_one({"_id": "outbox-relay", "owner": self.owner})
