"""What an attempt to deliver comes to, decided and recorded: sent, failed, try again later,
suppressed.

The sender (workers.py) claims deliveries, asks `before_sending` whether each may go now,
sends the ones that may, and hands every outcome to `record_outcomes`, which writes a whole
group of them in one short transaction with their `MessageSent`/`MessageFailed` events. An
outcome is recorded only while the attempt's lease is still the one that made it, except
"sent", which is true whoever holds the lease (docs/decisions/0501, 0505).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from aptt_contracts.notify import MessageFailed, MessageSent
from aptt_platform.mongo import Document, UnitOfWork

from aptt_notify import store
from aptt_notify.domain.timing import QuietHours, Timing, retry_delay, when_to_send
from aptt_notify.settings import Config
from aptt_notify.store.deliveries import Claimed

SENT, FAILED, PENDING, SUPPRESSED = "sent", "failed", "pending", "suppressed"


class Kind(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    RETRY = "retry"
    SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class Outcome:
    claimed: Claimed
    kind: Kind
    now: datetime
    provider_id: str | None = None
    segments: int | None = None
    reconciled: bool = False
    reason_code: str | None = None
    retry_at: datetime | None = None
    # A retry after the provider was tried shows the message (pending) in the app; one held
    # for quiet hours was not tried.
    tried: bool = True
    unsubscribed: bool = False

    @property
    def delivery(self) -> Document:
        return self.claimed.delivery

    @property
    def channel(self) -> str:
        return str(self.delivery["channel"])

    @property
    def metric(self) -> str | None:
        """The outcome as aptt_messages_sent_total counts it: a retry held for quiet hours is
        deferred; one after a provider error is not counted until it ends."""
        if self.kind is Kind.RETRY:
            return None if self.tried else "deferred"
        return str(self.kind)


@dataclass(frozen=True)
class Retries:
    max_attempts: int
    base_seconds: float
    max_seconds: float


def before_sending(
    claimed: Claimed, now: datetime, config: Config, retries: Retries
) -> Outcome | None:
    """An outcome without asking the provider, or None: send it now.

    Attempts that kept ending without an outcome (a crash each time) give up; a message past
    its deadline fails as expired; a retry (it may come hours later) waits out quiet hours."""
    delivery = claimed.delivery
    if int(delivery.get("attempts", 0)) + 1 > retries.max_attempts + 1:
        return Outcome(claimed, Kind.FAILED, now, reason_code="retries-exhausted")
    if delivery.get("reply"):
        return None
    quiet = delivery.get("quiet_hours")
    retry = int(delivery.get("attempts", 0)) > 0
    decision = when_to_send(
        now=now,
        zone=config.zone(delivery.get("zone")),
        quiet=QuietHours.parse(*quiet) if quiet and retry else None,
        expires_at=delivery.get("expires_at"),
    )
    if decision.timing is Timing.EXPIRED:
        return Outcome(claimed, Kind.FAILED, now, reason_code="expired")
    if decision.timing is Timing.DEFER:
        return Outcome(
            claimed, Kind.RETRY, now, reason_code="quiet-hours", retry_at=decision.at, tried=False
        )
    return None


def opted_out(claimed: Claimed, now: datetime) -> Outcome:
    """The number texted STOP after the message was planned: it is not sent."""
    return Outcome(claimed, Kind.SUPPRESSED, now, reason_code="opted-out")


def provider_refused(
    claimed: Claimed,
    now: datetime,
    retries: Retries,
    *,
    code: str,
    permanent: bool,
    unsubscribed: bool,
) -> Outcome:
    attempt = int(claimed.delivery.get("attempts", 0)) + 1
    if permanent or attempt >= retries.max_attempts:
        reason = code if permanent else f"retries-exhausted-{code}"
        return Outcome(claimed, Kind.FAILED, now, reason_code=reason, unsubscribed=unsubscribed)
    delay = retry_delay(attempt, base_seconds=retries.base_seconds, max_seconds=retries.max_seconds)
    return Outcome(claimed, Kind.RETRY, now, reason_code=code, retry_at=now + delay)


async def opted_out_numbers(uow: UnitOfWork, phones: Sequence[str]) -> set[str]:
    return await store.limits.opted_out_numbers(uow, phones)


async def record_outcomes(uow: UnitOfWork, *, outcomes: Sequence[Outcome]) -> list[Outcome]:
    """Write a group of outcomes and their events in this one transaction; returns those
    that were recorded (an attempt whose lease another worker took since is not)."""
    current = await store.deliveries.current_leases(uow, [o.delivery["_id"] for o in outcomes])
    recorded: list[Outcome] = []
    updates: list[tuple[Document, Document]] = []
    shown: list[str] = []
    for outcome in outcomes:
        delivery = outcome.delivery
        now_held = current.get(delivery["_id"])
        if now_held is None or now_held.get("status") != PENDING:
            continue
        where: Document = {"_id": delivery["_id"], "status": PENDING}
        if outcome.kind is not Kind.SENT:
            if now_held.get("lease") != outcome.claimed.token:
                continue
            where["lease"] = outcome.claimed.token
        updates.append((where, _fields(outcome)))
        recorded.append(outcome)
        message_id = delivery.get("message_id")
        if outcome.unsubscribed:
            # The carrier saying the number unsubscribed counts as a STOP.
            await store.limits.set_sms_number(
                uow,
                delivery["to"],
                {"opted_out": True, "changed_at": outcome.now, "source": outcome.reason_code},
            )
        if not message_id:
            continue  # a reply to STOP/START/HELP: it belongs to a number, not a guardian
        if outcome.kind is not Kind.RETRY or outcome.tried:
            shown.append(message_id)
        if outcome.kind is Kind.SENT:
            uow.publish(_sent_event(delivery))
        elif outcome.kind is Kind.FAILED:
            uow.publish(_failed_event(delivery, outcome.reason_code or "failed"))
    await store.deliveries.write_outcomes(uow, updates)
    if shown:
        await store.messages.reveal_messages(uow, shown, max(o.now for o in recorded))
    return recorded


def _fields(outcome: Outcome) -> Document:
    if outcome.kind is Kind.SENT:
        fields: Document = {
            "status": SENT,
            "provider_id": outcome.provider_id,
            "sent_at": outcome.now,
            "reconciled": outcome.reconciled,
        }
        if outcome.segments is not None:
            fields["segments"] = outcome.segments
        return fields
    if outcome.kind is Kind.FAILED:
        return {"status": FAILED, "error_code": outcome.reason_code, "failed_at": outcome.now}
    if outcome.kind is Kind.SUPPRESSED:
        return {"status": SUPPRESSED, "error_code": outcome.reason_code}
    return {"next_attempt_at": outcome.retry_at, "error_code": outcome.reason_code}


def _sent_event(delivery: Document) -> MessageSent:
    return MessageSent(
        district_id=delivery["district_id"],
        message_id=delivery["message_id"],
        recipient_id=delivery["recipient_id"],
        channel=delivery["channel"],
        template=delivery["template"],
        language=delivery["language"],
        source_event_id=delivery["source_event_id"],
    )


def _failed_event(delivery: Document, reason_code: str) -> MessageFailed:
    return MessageFailed(
        district_id=delivery["district_id"],
        message_id=delivery["message_id"],
        recipient_id=delivery["recipient_id"],
        channel=delivery["channel"],
        template=delivery["template"],
        reason_code=reason_code,
        source_event_id=delivery["source_event_id"],
    )
