"""The sender: a background loop that opens due notices, dispatches due messages and sends
due deliveries through the providers.

At-least-once with the duplicate window kept small: a delivery is claimed with a lease
(`in_flight`), sent, and marked sent in one short transaction right after the provider
answered. A crash (or a failed write) between the provider's answer and that mark leaves the
delivery in flight; when its lease runs out it is claimed again as *uncertain*. An uncertain
SMS is first looked up at the provider (same number, same body, since the first claim) and
adopted instead of sent again; an uncertain email cannot be looked up over SMTP and is sent
again with the same Message-ID, so at most one duplicate per crash, which mail clients
usually fold (docs/decisions/0501-notify-delivery-pipeline.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aptt_platform import metrics
from aptt_platform.logging import get_logger
from aptt_platform.mongo import Document, Mongo, utcnow
from pymongo.errors import ConnectionFailure

from aptt_notify import store
from aptt_notify.domain.timing import QuietHours, SendTime, Timing, retry_delay, when_to_send
from aptt_notify.providers import Accepted, Email, MailProvider, ProviderError, SmsProvider
from aptt_notify.service import outcomes
from aptt_notify.service.dispatch import dispatch_message
from aptt_notify.service.notices import open_due_notice, settle_notice
from aptt_notify.service.policy import Policy

if TYPE_CHECKING:
    from aptt_platform.runtime import Runtime

    from aptt_notify.settings import Settings

log = get_logger(__name__)
OUTCOMES = ("sent", "failed", "deferred", "suppressed")
METRIC_CHANNELS = ("sms", "email", "inapp")
SHUTDOWN_FINISH_SECONDS = 10.0
QUARANTINE = timedelta(minutes=5)


class Sender:
    def __init__(
        self,
        *,
        mongo: Mongo,
        settings: Settings,
        policy: Policy,
        sms: SmsProvider,
        mail: MailProvider,
        wake_relay: Callable[[], None] | None = None,
    ) -> None:
        self.mongo = mongo
        self.settings = settings
        self.policy = policy
        self.sms = sms
        self.mail = mail
        self.app = settings.service_name
        self._wake_relay = wake_relay
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def count(self, channel: str, outcome: str, n: int = 1) -> None:
        metrics.MESSAGES_SENT.labels(self.app, channel, outcome).inc(n)

    def _counted(self, counts: Iterable[tuple[str, str]]) -> None:
        for channel, outcome in counts:
            self.count(channel, outcome)

    def _relay(self) -> None:
        if self._wake_relay is not None:
            self._wake_relay()

    async def run_forever(self) -> None:
        pause = self.settings.sender_poll_interval_seconds
        while True:
            try:
                busy = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The database or a provider is down: the work waits in the queues.
                log.warning("sender pass failed", error=f"{type(exc).__name__}: {exc}"[:300])
                busy = False
                await asyncio.sleep(min(pause * 10, 5.0))
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), pause)
                self._wake.clear()

    async def tick(self) -> bool:
        """One pass over the three queues; True when there was work (look again at once)."""
        now = utcnow()
        batch = self.settings.sender_batch_size
        opened = await store.due_notice_ids(self.mongo.db, now, batch)
        for notice_id in opened:
            async with self._quarantine(store.NOTICES, notice_id, "due_at"):
                await self.mongo.run(open_due_notice, notice_id, now=now, policy=self.policy)
        for notice_id in await store.settling_notice_ids(self.mongo.db, now, batch):
            async with self._quarantine(store.NOTICES, notice_id, "settle_at"):
                await self.mongo.run(settle_notice, notice_id, now=now, policy=self.policy)
        await store.close_finished_notices(self.mongo.db, now)
        due = await store.due_message_ids(self.mongo.db, utcnow(), batch)
        for message_id in due:
            async with self._quarantine(store.MESSAGES, message_id, "next_check_at"):
                counts = await self.mongo.run(
                    dispatch_message, message_id=message_id, now=utcnow(), policy=self.policy
                )
                self._counted(counts)
        if due:
            self._relay()
        sent = await self.send_due(batch)
        return bool(opened or len(due) == batch or sent == batch)

    @contextlib.asynccontextmanager
    async def _quarantine(self, collection: str, _id: str, due_field: str) -> AsyncIterator[None]:
        """One item that fails (a bug, bad data) is put aside for a while instead of
        blocking the queue behind it; an unreachable database stops the whole pass."""
        try:
            yield
        except (ConnectionFailure, asyncio.CancelledError):
            raise
        except Exception as exc:
            log.error(
                "queue item failed", collection=collection, item=_id, error=type(exc).__name__
            )
            later = utcnow() + QUARANTINE
            await self.mongo.db[collection].update_one(
                {"_id": _id}, {"$set": {due_field: later}, "$inc": {"errors": 1}}
            )

    async def send_due(self, limit: int) -> int:
        claimed: list[tuple[Document, str]] = []
        while len(claimed) < limit:
            token = uuid.uuid4().hex
            now = utcnow()
            lease = now + timedelta(seconds=self.settings.sender_lease_seconds)
            delivery = await store.claim_delivery(self.mongo.db, now, lease, token)
            if delivery is None:
                break
            claimed.append((delivery, token))
        if not claimed:
            return 0
        gate = asyncio.Semaphore(self.settings.sender_concurrency)

        async def one(delivery: Document, token: str) -> None:
            async with gate:
                try:
                    await self.send_one(delivery, token)
                except Exception as exc:
                    # Lease runs out and the delivery is tried again, as uncertain.
                    log.warning(
                        "delivery attempt did not finish",
                        delivery_id=delivery["_id"],
                        error=f"{type(exc).__name__}"[:100],
                    )

        sends = asyncio.ensure_future(asyncio.gather(*(one(d, t) for d, t in claimed)))
        try:
            await asyncio.shield(sends)
        except asyncio.CancelledError:
            # Shutting down: finish the sends in hand and record them, rather than leave
            # them in flight (each would be an uncertain send on the next start).
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sends, timeout=SHUTDOWN_FINISH_SECONDS)
            raise
        self._relay()
        return len(claimed)

    async def send_one(self, delivery: Document, token: str) -> None:
        """Send one claimed delivery (as it was before the claim) and record the outcome."""
        now = utcnow()
        attempt = int(delivery.get("attempts", 0)) + 1
        channel = delivery["channel"]
        if attempt > self.settings.send_max_attempts + 1:
            # Attempts that kept ending without an outcome (a crash each time): give up.
            await self._fail(delivery, token, "retries-exhausted", now)
            return
        if not delivery.get("reply"):
            waiting = self._must_wait(delivery, now)
            if waiting is not None:
                if waiting.timing is Timing.EXPIRED:
                    await self._fail(delivery, token, "expired", now)
                else:
                    await self.mongo.run(
                        outcomes.record_retry,
                        delivery=delivery,
                        token=token,
                        reason_code="quiet-hours",
                        at=waiting.at,
                        now=now,
                        tried=False,
                    )
                    self.count(channel, "deferred")
                return
            if channel == "sms" and await self.mongo.run(outcomes.is_opted_out, delivery["to"]):
                await self.mongo.run(
                    outcomes.record_suppressed,
                    delivery=delivery,
                    token=token,
                    reason_code="opted-out",
                    now=now,
                )
                self.count(channel, "suppressed")
                return
        if delivery.get("in_flight") and channel == "sms":
            # The last attempt ended without an outcome: did the provider take it?
            sid = await self._already_accepted(delivery)
            if sid is not None:
                await self._mark_sent(delivery, Accepted(sid), reconciled=True)
                return
        try:
            accepted = await self._send(delivery, now)
        except ProviderError as exc:
            await self._provider_failed(delivery, token, exc, attempt, now)
            return
        await self._mark_sent(delivery, accepted)

    def _must_wait(self, delivery: Document, now: datetime) -> SendTime | None:
        """Too late now, or (for a retry, which may come hours later) in quiet hours."""
        quiet = delivery.get("quiet_hours")
        retry = int(delivery.get("attempts", 0)) > 0
        decision = when_to_send(
            now=now,
            zone=self.policy.zone(delivery.get("zone")),
            quiet=QuietHours.parse(*quiet) if quiet and retry else None,
            expires_at=delivery.get("expires_at"),
        )
        return None if decision.timing is Timing.SEND else decision

    async def _already_accepted(self, delivery: Document) -> str | None:
        since = delivery.get("first_claimed_at") or delivery["created_at"]
        sid = await self.sms.find_sent(to=delivery["to"], body=delivery["body"], since=since)
        if sid is None:
            return None
        taken = await store.provider_id_taken(self.mongo.db, delivery["district_id"], sid)
        return None if taken else sid

    async def _send(self, delivery: Document, now: datetime) -> Accepted:
        if delivery["channel"] == "sms":
            return await self.sms.send(to=delivery["to"], body=delivery["body"])
        email = Email(
            to=delivery["to"],
            subject=delivery["subject"],
            text=delivery["text"],
            html=delivery["html"],
            language=delivery["language"],
            template=delivery["template"],
            idempotency_key=delivery["key"],
        )
        return await self.mail.send(email, now)

    async def _mark_sent(
        self, delivery: Document, accepted: Accepted, *, reconciled: bool = False
    ) -> None:
        """Kept as short as it can be: the window in which a crash means a second send."""
        recorded = await self.mongo.run(
            outcomes.record_sent,
            delivery=delivery,
            provider_id=accepted.provider_id,
            segments=accepted.segments,
            now=utcnow(),
            reconciled=reconciled,
        )
        if recorded:
            self.count(delivery["channel"], "sent")

    async def _provider_failed(
        self, delivery: Document, token: str, exc: ProviderError, attempt: int, now: datetime
    ) -> None:
        if exc.permanent or attempt >= self.settings.send_max_attempts:
            code = exc.code if exc.permanent else f"retries-exhausted-{exc.code}"
            await self._fail(delivery, token, code, now, unsubscribed=exc.unsubscribed)
            return
        log.info(
            "provider refused for now", channel=delivery["channel"], code=exc.code, attempt=attempt
        )
        delay = retry_delay(
            attempt,
            base_seconds=self.settings.send_retry_base_seconds,
            max_seconds=self.settings.send_retry_max_seconds,
        )
        await self.mongo.run(
            outcomes.record_retry,
            delivery=delivery,
            token=token,
            reason_code=exc.code,
            at=now + delay,
            now=now,
        )

    async def _fail(
        self,
        delivery: Document,
        token: str,
        code: str,
        now: datetime,
        *,
        unsubscribed: bool = False,
    ) -> None:
        log.warning("delivery failed", channel=delivery["channel"], code=code)
        recorded = await self.mongo.run(
            outcomes.record_failed,
            delivery=delivery,
            token=token,
            reason_code=code,
            now=now,
            unsubscribed=unsubscribed,
        )
        if recorded:
            self.count(delivery["channel"], "failed")


async def run_sender(runtime: Runtime) -> None:
    """ServiceDefinition.background entry: the sender of this process, if it has one."""
    sender: Sender | None = runtime.state.get("sender")
    if sender is None:
        return
    try:
        await sender.run_forever()
    finally:
        await sender.sms.close()
