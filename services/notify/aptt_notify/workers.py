"""The notify service's background loop, the sender: it opens due notices, dispatches due
messages and sends due deliveries through the providers.

Sending is done in batches (docs/decisions/0505): one query and one bulk write claim up to
`sender_batch_size` due deliveries for a lease; they are sent concurrently, each channel
within its provider's rate (`sms_rate_per_second`, `email_rate_per_second`) and its number
of connections (`sms_concurrency`, `email_concurrency`); outcomes are recorded by group
commit: what finished while the last write ran goes into the next one, one transaction
for all of them. So the window between the provider accepting a message and the mark that
it was sent stays about one short transaction long, as it was when each send had its own.

At-least-once, with the duplicate window counted (docs/decisions/0501): a delivery whose
outcome was never recorded (a crash, a failed write) stays in flight until its lease runs
out and is then claimed again as *uncertain* (`uncertain_attempts` counts it). An uncertain
SMS is first looked up at the provider and adopted instead of sent again; an uncertain email
cannot be looked up over SMTP and is sent again with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta

from aptt_platform import metrics
from aptt_platform.logging import get_logger
from aptt_platform.mongo import Contended, Document, Mongo, utcnow
from aptt_platform.runtime import Runtime
from pymongo.errors import ConnectionFailure

from aptt_notify import store
from aptt_notify.providers import (
    Accepted,
    CalendarInvite,
    Email,
    MailConfig,
    MailProvider,
    ProviderError,
    SmsConfig,
    SmsProvider,
)
from aptt_notify.service import outcomes
from aptt_notify.service.dispatch import Count, dispatch_message, dispatch_messages
from aptt_notify.service.notices import open_due_notice, settle_notice
from aptt_notify.service.outcomes import Kind, Outcome, Retries
from aptt_notify.settings import Config, Settings
from aptt_notify.store.deliveries import Claimed

log = get_logger(__name__)
OUTCOMES = ("sent", "failed", "deferred", "suppressed")
METRIC_CHANNELS = ("sms", "email", "inapp")
QUARANTINE = timedelta(minutes=5)
# Messages dispatched in one transaction: one commit for many, still a short transaction.
DISPATCH_GROUP = 50


class RateLimiter:
    """At most `rate` sends a second with a burst of a tenth of a second's worth; waiters
    take their turn in order. Per process: several workers share the provider's rate by
    each being given its part (docs/decisions/0505)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate / 10)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


class ChannelGate:
    """A channel's limits: so many sends at once, so many a second."""

    def __init__(self, rate: float, concurrency: int) -> None:
        self.limiter = RateLimiter(rate)
        self.slots = asyncio.Semaphore(concurrency)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        async with self.slots:
            await self.limiter.acquire()
            yield


class Recorder:
    """Group commit of outcomes: one write at a time, each taking all that is waiting."""

    def __init__(self, write: Callable[[list[Outcome]], Awaitable[None]]) -> None:
        self._write = write
        self._pending: list[Outcome] = []
        self._more = asyncio.Event()
        self._closed = False

    def add(self, outcome: Outcome) -> None:
        self._pending.append(outcome)
        self._more.set()

    def close(self) -> None:
        self._closed = True
        self._more.set()

    async def run(self) -> None:
        """Until closed and every outcome added before closing is written."""
        while True:
            if not self._pending:
                if self._closed:
                    return
                await self._more.wait()
                self._more.clear()
                continue
            group, self._pending = self._pending, []
            await self._write(group)


def providers(settings: Settings) -> tuple[SmsProvider, MailProvider]:
    sms = SmsProvider(
        SmsConfig(
            api_url=settings.sms_api_url,
            account_sid=settings.sms_account_sid,
            auth_token=settings.sms_auth_token.get_secret_value(),
            sender=settings.sms_from,
            messaging_service_sid=settings.sms_messaging_service_sid,
            timeout_seconds=settings.sms_timeout_seconds,
            concurrency=settings.sms_concurrency,
        )
    )
    mail = MailProvider(
        MailConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            tls=settings.smtp_tls,
            timeout_seconds=settings.smtp_timeout_seconds,
            pool_size=settings.email_concurrency,
            messages_per_connection=settings.smtp_messages_per_connection,
        )
    )
    return sms, mail


class Sender:
    def __init__(
        self, *, mongo: Mongo, settings: Settings, sms: SmsProvider, mail: MailProvider
    ) -> None:
        self.mongo = mongo
        self.settings = settings
        self.config: Config = settings.config()
        self.sms = sms
        self.mail = mail
        self.app = settings.service_name
        # Who holds a claim, for an operator reading the deliveries collection.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.retries = Retries(
            max_attempts=settings.send_max_attempts,
            base_seconds=settings.send_retry_base_seconds,
            max_seconds=settings.send_retry_max_seconds,
        )
        self.gates = {
            "sms": ChannelGate(settings.sms_rate_per_second, settings.sms_concurrency),
            "email": ChannelGate(settings.email_rate_per_second, settings.email_concurrency),
        }
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def count(self, channel: str, outcome: str, n: int = 1) -> None:
        metrics.MESSAGES_SENT.labels(self.app, channel, outcome).inc(n)

    def _counted(self, counts: Iterable[Count]) -> None:
        for channel, outcome in counts:
            self.count(channel, outcome)

    async def run_forever(self) -> None:
        pause = self.settings.sender_poll_interval_seconds
        while True:
            try:
                busy = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The database or a provider is down: the work waits in the queues. Only the
                # type: a provider's message may quote a recipient's address.
                log.warning("sender pass failed", error=type(exc).__name__)
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
        opened = await store.notices.due_notice_ids(self.mongo.db, now, batch)
        for notice_id in opened:
            async with self._quarantine(store.NOTICES, notice_id, "due_at"):
                await self.mongo.run(open_due_notice, notice_id, now=now)
        for notice_id in await store.notices.settling_notice_ids(self.mongo.db, now, batch):
            async with self._quarantine(store.NOTICES, notice_id, "settle_at"):
                await self.mongo.run(settle_notice, notice_id, now=now)
        await store.notices.close_finished_notices(self.mongo.db, now)
        due = await store.messages.due_message_ids(self.mongo.db, utcnow(), DISPATCH_GROUP)
        if due:
            await self.dispatch(due)
        # One group dispatched, one batch sent, and again: the first families hear while
        # the rest of a large fan-out is still being dispatched.
        sent = await self.send_due()
        return bool(opened or len(due) == DISPATCH_GROUP or sent == batch)

    async def dispatch(self, message_ids: Sequence[str]) -> None:
        """A group of due messages in one transaction; if that fails, one at a time, so only
        the message at fault is put aside. A write conflict is tried once, not retried: a
        message held by a killed sender's open transaction waits for a later pass, and the
        others go on (docs/decisions/0019)."""
        try:
            counts = await self.mongo.run_contended(
                dispatch_messages, message_ids=message_ids, now=utcnow()
            )
        except (ConnectionFailure, asyncio.CancelledError):
            raise
        except Exception:
            for message_id in message_ids:
                with contextlib.suppress(Contended):
                    async with self._quarantine(store.MESSAGES, message_id, "next_check_at"):
                        self._counted(
                            await self.mongo.run_contended(
                                dispatch_message, message_id=message_id, now=utcnow()
                            )
                        )
            return
        self._counted(counts)

    @contextlib.asynccontextmanager
    async def _quarantine(self, collection: str, _id: str, due_field: str) -> AsyncIterator[None]:
        """One item that fails (a bug, bad data) is put aside for a while instead of
        blocking the queue behind it; an unreachable database stops the whole pass."""
        try:
            yield
        except (ConnectionFailure, Contended, asyncio.CancelledError):
            raise
        except Exception as exc:
            log.error(
                "queue item failed", collection=collection, item=_id, error=type(exc).__name__
            )
            later = utcnow() + QUARANTINE
            await self.mongo.db[collection].update_one(
                {"_id": _id}, {"$set": {due_field: later}, "$inc": {"errors": 1}}
            )

    async def send_due(self) -> int:
        """Claim a batch of due deliveries, send them, record what came of each."""
        now = utcnow()
        claimed = await self.claim(now)
        if not claimed:
            return 0
        recorder = Recorder(self.record)
        recording = asyncio.create_task(recorder.run())
        to_send = []
        for attempt, decided in zip(claimed, await self._decide(claimed, now), strict=True):
            if decided is None:
                to_send.append(attempt)
            else:
                recorder.add(decided)
        sends = asyncio.ensure_future(
            asyncio.gather(*(self.attempt(attempt, recorder) for attempt in to_send))
        )
        try:
            await asyncio.shield(sends)
        except asyncio.CancelledError:
            # Shutting down: finish the sends in hand and record them, rather than leave
            # them in flight (each would be an uncertain send on the next start).
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(
                    self._finish(sends, recorder, recording),
                    self.settings.sender_shutdown_grace_seconds,
                )
            recording.cancel()
            raise
        await self._finish(sends, recorder, recording)
        return len(claimed)

    async def claim(self, now: datetime) -> list[Claimed]:
        """Claim a batch of due deliveries in one transaction. If it meets a write conflict
        (another worker's claim, or the open transaction of a sender killed while recording
        outcomes, which the database ends only after its transaction lifetime), claim them
        one at a time and leave the held ones for a later pass (docs/decisions/0019)."""
        candidates = await store.deliveries.due_deliveries(
            self.mongo.db, now=now, limit=self.settings.sender_batch_size
        )
        lease_until = now + timedelta(seconds=self.settings.sender_lease_seconds)

        async def take(batch: Sequence[Document]) -> list[Claimed]:
            return await self.mongo.run_contended(
                store.deliveries.claim, batch, now=now, lease_until=lease_until, owner=self.owner
            )

        try:
            return await take(candidates)
        except Contended:
            pass
        claimed: list[Claimed] = []
        held = 0
        for candidate in candidates:
            try:
                claimed += await take([candidate])
            except Contended:
                held += 1
        log.info("deliveries held by another transaction left for later", deliveries=held)
        return claimed

    async def _finish(
        self, sends: Awaitable[object], recorder: Recorder, recording: asyncio.Task[None]
    ) -> None:
        await sends
        recorder.close()
        await recording

    async def _decide(self, claimed: Sequence[Claimed], now: datetime) -> list[Outcome | None]:
        """What can be decided without the provider: too late, quiet hours, STOP."""
        phones = [
            c.delivery["to"]
            for c in claimed
            if c.delivery["channel"] == "sms" and not c.delivery.get("reply")
        ]
        stopped = await self.mongo.run(outcomes.opted_out_numbers, phones) if phones else set()
        decided: list[Outcome | None] = []
        for attempt in claimed:
            outcome = outcomes.before_sending(attempt, now, self.config, self.retries)
            delivery = attempt.delivery
            if outcome is None and not delivery.get("reply") and delivery["to"] in stopped:
                outcome = outcomes.opted_out(attempt, now)
            decided.append(outcome)
        return decided

    async def attempt(self, claimed: Claimed, recorder: Recorder) -> None:
        """Send one claimed delivery; its outcome goes to the recorder."""
        delivery = claimed.delivery
        try:
            if delivery.get("in_flight") and delivery["channel"] == "sms":
                # The last attempt ended without an outcome: did the provider take it?
                sid = await self._already_accepted(delivery)
                if sid is not None:
                    recorder.add(
                        Outcome(claimed, Kind.SENT, utcnow(), provider_id=sid, reconciled=True)
                    )
                    return
            async with self.gates[delivery["channel"]].turn():
                accepted = await self._send(delivery, utcnow())
        except ProviderError as exc:
            if delivery.get("in_flight") and delivery["channel"] == "sms" and not exc.permanent:
                # The lookup or the send failed for now: still uncertain, so the lease runs
                # out and the next attempt looks again, rather than sending blind.
                log.info("uncertain SMS left for its lease", code=exc.code)
                return
            recorder.add(
                outcomes.provider_refused(
                    claimed,
                    utcnow(),
                    self.retries,
                    code=exc.code,
                    permanent=exc.permanent,
                    unsubscribed=exc.unsubscribed,
                )
            )
            return
        except Exception as exc:
            # The lease runs out and the delivery is tried again, as uncertain.
            log.warning(
                "delivery attempt did not finish",
                delivery_id=delivery["_id"],
                error=type(exc).__name__[:100],
            )
            return
        recorder.add(
            Outcome(
                claimed,
                Kind.SENT,
                utcnow(),
                provider_id=accepted.provider_id,
                segments=accepted.segments,
            )
        )

    async def record(self, group: list[Outcome]) -> None:
        """One transaction for a group of outcomes; metrics are counted after it commits.
        If it fails the deliveries stay in flight and are claimed again after their lease."""
        try:
            recorded = await self.mongo.run(outcomes.record_outcomes, outcomes=group)
        except Exception as exc:
            log.warning(
                "outcomes not recorded; tried again after their lease",
                deliveries=len(group),
                error=type(exc).__name__,
            )
            return
        for outcome in recorded:
            if outcome.kind is Kind.FAILED:
                log.warning("delivery failed", channel=outcome.channel, code=outcome.reason_code)
            metric = outcome.metric
            if metric is not None:
                self.count(outcome.channel, metric)

    async def _already_accepted(self, delivery: Document) -> str | None:
        since = delivery.get("first_claimed_at") or delivery["created_at"]
        sid = await self.sms.find_sent(to=delivery["to"], body=delivery["body"], since=since)
        if sid is None:
            return None
        taken = await store.deliveries.provider_ids_taken(
            self.mongo.db, delivery["district_id"], [sid]
        )
        return None if sid in taken else sid

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
            calendar=CalendarInvite.from_document(delivery["calendar"])
            if delivery.get("calendar")
            else None,
        )
        return await self.mail.send(email, now)

    async def close(self) -> None:
        await self.sms.close()
        await self.mail.close()


async def start_sender(runtime: Runtime) -> None:
    """ServiceDefinition.on_connected: a worker pod gets a sender; an API pod does not."""
    settings = runtime.settings
    assert isinstance(settings, Settings)
    if not settings.background_enabled:
        return
    sms, mail = providers(settings)
    runtime.state["sender"] = Sender(mongo=runtime.mongo, settings=settings, sms=sms, mail=mail)


async def run_sender(runtime: Runtime) -> None:
    """ServiceDefinition.background entry: the sender of this process, if it has one."""
    sender: Sender | None = runtime.state.get("sender")
    if sender is None:
        return
    try:
        await sender.run_forever()
    finally:
        await sender.close()
