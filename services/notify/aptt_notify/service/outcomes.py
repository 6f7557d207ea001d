"""What the sender records after a provider answered: sent, failed, try again, suppressed.

Each is one short transaction that also writes the delivery event to the outbox. Attempts
hold a lease (a token on the delivery); an outcome is recorded only while the lease is
ours, except "sent", which is true whoever holds the lease.
"""

from __future__ import annotations

from datetime import datetime

from aptt_contracts.notify import MessageFailed, MessageSent
from aptt_platform.mongo import Document, UnitOfWork

from aptt_notify import store

SENT, FAILED, PENDING, SUPPRESSED = "sent", "failed", "pending", "suppressed"


async def record_sent(
    uow: UnitOfWork,
    *,
    delivery: Document,
    provider_id: str,
    segments: int | None,
    now: datetime,
    reconciled: bool = False,
) -> bool:
    fields: Document = {
        "status": SENT,
        "provider_id": provider_id,
        "sent_at": now,
        "in_flight": False,
        "reconciled": reconciled,
    }
    if segments is not None:
        fields["segments"] = segments
    result = await uow.collection(store.DELIVERIES).update_one(
        {"_id": delivery["_id"], "status": PENDING}, {"$set": fields}, session=uow.session
    )
    if result.modified_count != 1:
        return False
    if delivery.get("message_id"):
        await store.reveal_message(uow, delivery["message_id"], now)
        uow.publish(
            MessageSent(
                district_id=delivery["district_id"],
                message_id=delivery["message_id"],
                recipient_id=delivery["recipient_id"],
                channel=delivery["channel"],
                template=delivery["template"],
                language=delivery["language"],
                source_event_id=delivery["source_event_id"],
            )
        )
    return True


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


async def record_failed(
    uow: UnitOfWork,
    *,
    delivery: Document,
    token: str,
    reason_code: str,
    now: datetime,
    unsubscribed: bool = False,
) -> bool:
    """A permanent failure. The carrier saying the number unsubscribed counts as a STOP."""
    done = await store.finish_delivery(
        uow, delivery["_id"], token, {"status": FAILED, "error_code": reason_code, "failed_at": now}
    )
    if not done:
        return False
    if unsubscribed:
        await store.set_sms_number(
            uow, delivery["to"], {"opted_out": True, "changed_at": now, "source": reason_code}
        )
    if delivery.get("message_id"):
        await store.reveal_message(uow, delivery["message_id"], now)
        uow.publish(_failed_event(delivery, reason_code))
    return True


async def record_retry(
    uow: UnitOfWork,
    *,
    delivery: Document,
    token: str,
    reason_code: str,
    at: datetime,
    now: datetime,
    tried: bool = True,
) -> bool:
    """Try again at `at`. A provider that failed for now was still tried: the guardian sees
    the message (pending) in the app meanwhile; a retry held for quiet hours was not."""
    done = await store.finish_delivery(
        uow, delivery["_id"], token, {"next_attempt_at": at, "error_code": reason_code}
    )
    if done and tried and delivery.get("message_id"):
        await store.reveal_message(uow, delivery["message_id"], now)
    return done


async def record_suppressed(
    uow: UnitOfWork, *, delivery: Document, token: str, reason_code: str, now: datetime
) -> bool:
    """The number texted STOP after the message was planned: it is not sent."""
    done = await store.finish_delivery(
        uow, delivery["_id"], token, {"status": SUPPRESSED, "error_code": reason_code}
    )
    if done and delivery.get("message_id"):
        await store.reveal_message(uow, delivery["message_id"], now)
    return done


async def is_opted_out(uow: UnitOfWork, phone: str) -> bool:
    return bool(await store.opted_out_numbers(uow, [phone]))
