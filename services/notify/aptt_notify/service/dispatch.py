"""A due message, checked and turned into deliveries.

Run by the sender loop, a group of messages per transaction. It waits for contacts or the school
when they are not known yet, waits out quiet hours and rate limits, drops what is no longer
true (a cancelled meeting, a guardian no longer linked), gives up when too late, and
otherwise writes one delivery per channel, whose unique key is the idempotency key
(source event, recipient, template, channel). Metrics are returned, not counted here,
because the driver may run a transaction more than once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from aptt_contracts.notify import MessageFailed, MessageSent
from aptt_platform.mongo import Document, UnitOfWork
from aptt_platform.sms import count_segments

from aptt_notify import store
from aptt_notify.domain.model import Channel, MessageStatus, Template, plan_channels
from aptt_notify.domain.timing import Timing, hour_bucket, next_hour, when_to_send
from aptt_notify.i18n import Rendered
from aptt_notify.service.context import MessageContext, Shared, load_context, render_message
from aptt_notify.settings import Config

Count = tuple[str, str]  # (channel, outcome) of aptt_messages_sent_total


async def dispatch_messages(
    uow: UnitOfWork, *, message_ids: Sequence[str], now: datetime
) -> list[Count]:
    """Several due messages in one transaction: one commit for the group, not one each."""
    counts: list[Count] = []
    shared = Shared()
    for message_id in message_ids:
        counts += await dispatch_message(uow, message_id=message_id, now=now, shared=shared)
    return counts


async def dispatch_message(
    uow: UnitOfWork, *, message_id: str, now: datetime, shared: Shared | None = None
) -> list[Count]:
    shared = shared or Shared()
    config = uow.config_as(Config)
    message = await store.messages.get_message(uow, message_id)
    if message is None or message["status"] != MessageStatus.PENDING:
        return []
    if message["next_check_at"] > now:
        return []
    context = await load_context(uow, message, shared)
    if not await _still_meant_for(uow, message, context, shared):
        await store.messages.update_message(
            uow, message_id, {"status": MessageStatus.DROPPED.value}
        )
        return []
    if now >= message["expires_at"]:
        return await _expire(uow, message, now, reason=message.get("wait_reason") or "expired")
    district_id = message["district_id"]
    if context.contact is None:
        await store.roster.await_document(
            uow, store.roster.guardians, district_id, message["recipient_id"], now
        )
        return await _wait(uow, message, "contact", now, config)
    if context.school is None:
        if context.school_id is None and message.get("student_id"):
            await store.roster.await_document(
                uow, store.roster.students, district_id, message["student_id"], now
            )
        if context.school_id is not None:
            # Remember which school it waits for, so that school's event wakes it.
            await store.messages.update_message(uow, message_id, {"school_id": context.school_id})
            await store.roster.await_document(
                uow, store.roster.schools, district_id, context.school_id, now
            )
        return await _wait(uow, message, "school", now, config)

    plan = plan_channels(context.preferences, context.contact, sms_opted_out=context.sms_opted_out)
    rendered = render_message(message, context)
    seen = {"language": rendered.language, "text": rendered.short}
    if plan.inbox_only and context.preferences.channels == ():
        return await _in_app_only(uow, message, seen, now)
    if plan.inbox_only:
        await store.messages.update_message(
            uow,
            message_id,
            {**seen, "status": MessageStatus.SUPPRESSED.value, "suppressed": plan.reasons},
        )
        await store.messages.reveal_message(uow, message_id, now)
        return [(c, "suppressed") for c in plan.suppressed] or [("inapp", "suppressed")]

    timing = when_to_send(
        now=now,
        zone=context.zone,
        quiet=context.preferences.effective_quiet_hours(),
        expires_at=message["expires_at"],
    )
    if timing.timing is Timing.EXPIRED:
        return await _expire(uow, message, now, reason="quiet-hours")
    if timing.timing is Timing.DEFER:
        return await _defer(uow, message, plan.send, until=timing.at, reason="quiet-hours")
    if not await _within_rate_limits(uow, message, now, config):
        return await _defer(uow, message, plan.send, until=next_hour(now), reason="rate-limit")

    deliveries = [new_delivery(message, channel, rendered, context, now) for channel in plan.send]
    await store.deliveries.insert_deliveries(uow, deliveries)
    await store.messages.update_message(
        uow,
        message_id,
        {
            **seen,
            "status": MessageStatus.DISPATCHED.value,
            "channels": list(plan.send),
            "suppressed": plan.reasons,
            "dispatched_at": now,
            "wait_reason": None,
        },
    )
    return [(c, "suppressed") for c in plan.suppressed]


async def _in_app_only(
    uow: UnitOfWork, message: Document, seen: Document, now: datetime
) -> list[Count]:
    """The guardian chose the app alone: the inbox is the channel, and it makes no sound,
    so neither quiet hours nor rate limits hold it back."""
    await store.messages.update_message(
        uow,
        message["_id"],
        {
            **seen,
            "status": MessageStatus.DISPATCHED.value,
            "channels": ["inapp"],
            "dispatched_at": now,
            "wait_reason": None,
        },
    )
    await store.messages.reveal_message(uow, message["_id"], now)
    uow.publish(
        MessageSent(
            district_id=message["district_id"],
            message_id=message["_id"],
            recipient_id=message["recipient_id"],
            channel="inapp",
            template=message["template"],
            language=seen["language"],
            source_event_id=message["source_event_id"],
        )
    )
    return [("inapp", "sent")]


async def _still_meant_for(
    uow: UnitOfWork, message: Document, context: MessageContext, shared: Shared
) -> bool:
    """Privacy first: a guardian unlinked from the student meanwhile gets nothing about them."""
    meeting = context.meeting
    if (
        meeting is not None
        and meeting.get("cancelled")
        and message["template"] != Template.MEETING_CANCELLED
    ):
        return False
    audience = message.get("audience") or {}
    district_id = message["district_id"]
    recipient = message["recipient_id"]
    if audience.get("kind") == "classroom":
        classroom_id = audience["classroom_id"]
        guardians = await shared.get(
            ("classroom", district_id, classroom_id),
            lambda: store.roster.classroom_guardians(uow, district_id, classroom_id),
        )
        return recipient in guardians
    if audience.get("kind") == "student":
        if recipient in audience.get("guardian_ids", []):
            return True
        linked = await store.roster.guardians_of_students(
            uow, district_id, [audience["student_id"]]
        )
        return recipient in linked
    if audience.get("kind") == "guardians":
        # The list may have changed since (a private number republished for new guardians).
        notice = await store.notices.get_notice(uow, message["notice_id"])
        return notice is None or recipient in notice["audience"].get("guardian_ids", [])
    if audience.get("kind") == "unbooked":
        # The family may have booked since the nudge was planned.
        unbooked = await shared.get(
            ("unbooked", district_id, audience["classroom_id"], audience["window_id"]),
            lambda: store.conferences.unbooked_guardians(uow, district_id, audience),
        )
        return recipient in unbooked
    return True


async def _wait(
    uow: UnitOfWork, message: Document, reason: str, now: datetime, config: Config
) -> list[Count]:
    # Woken early by the contact or school event; the recheck is a safety net.
    until = min(now + config.recheck_interval, message["expires_at"])
    await store.messages.update_message(
        uow, message["_id"], {"next_check_at": until, "wait_reason": reason}
    )
    return []


async def _defer(
    uow: UnitOfWork,
    message: Document,
    channels: tuple[Channel, ...],
    *,
    until: datetime,
    reason: str,
) -> list[Count]:
    await store.messages.update_message(
        uow, message["_id"], {"next_check_at": until, "wait_reason": reason}
    )
    return [(c, "deferred") for c in channels]


async def _expire(uow: UnitOfWork, message: Document, now: datetime, *, reason: str) -> list[Count]:
    """Too late to be useful (the meeting began) or nobody to reach: the inbox keeps it."""
    await store.messages.update_message(
        uow, message["_id"], {"status": MessageStatus.EXPIRED.value, "wait_reason": reason}
    )
    await store.messages.reveal_message(uow, message["_id"], now)
    uow.publish(
        MessageFailed(
            district_id=message["district_id"],
            message_id=message["_id"],
            recipient_id=message["recipient_id"],
            channel="inapp",
            template=message["template"],
            reason_code=f"expired-{reason}" if reason != "expired" else "expired",
            source_event_id=message["source_event_id"],
        )
    )
    return [("inapp", "suppressed")]


async def _within_rate_limits(
    uow: UnitOfWork, message: Document, now: datetime, config: Config
) -> bool:
    """Caps per guardian and per district per clock hour, so a bug cannot flood families.

    Read, then count: two dispatches racing on one bucket write the same document, and the
    transaction that loses the write conflict is run again and sees the new count."""
    district_id = message["district_id"]
    hour = hour_bucket(now)
    buckets: list[Document] = [
        {
            "_id": store.doc_id(district_id, "recipient", message["recipient_id"], hour),
            "scope": "recipient",
            "cap": config.recipient_per_hour,
        },
        {
            "_id": store.doc_id(district_id, "district", hour),
            "scope": "district",
            "cap": config.district_per_hour,
        },
    ]
    counts = await store.limits.bucket_counts(uow, [b["_id"] for b in buckets])
    if any(counts.get(b["_id"], 0) >= b["cap"] for b in buckets):
        return False
    expires_at = next_hour(now) + timedelta(hours=1)
    await store.limits.count_in_buckets(
        uow,
        [
            {
                "_id": b["_id"],
                "district_id": district_id,
                "scope": b["scope"],
                "hour": hour,
                "expires_at": expires_at,
            }
            for b in buckets
        ],
    )
    return True


def new_delivery(
    message: Document, channel: Channel, rendered: Rendered, context: MessageContext, now: datetime
) -> Document:
    assert context.contact is not None
    quiet = context.preferences.effective_quiet_hours()
    delivery: Document = {
        "_id": uuid.uuid4().hex,
        "district_id": message["district_id"],
        "key": f"{message['key']}|{channel}",
        "message_id": message["_id"],
        "recipient_id": message["recipient_id"],
        "source_event_id": message["source_event_id"],
        "template": message["template"],
        "channel": channel,
        "language": rendered.language,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "in_flight": False,
        "expires_at": message["expires_at"],
        "zone": context.zone.key,
        "quiet_hours": list(quiet.as_strings()) if quiet else None,
        "created_at": now,
    }
    if channel == "sms":
        segments = count_segments(rendered.short)
        delivery |= {
            "to": context.contact.phone,
            "body": rendered.short,
            "segments": segments.count,
            "encoding": segments.encoding,
        }
    else:
        delivery |= {
            "to": context.contact.email,
            "subject": rendered.subject,
            "text": rendered.text,
            "html": rendered.html,
        }
        calendar = message["params"].get("calendar")
        if calendar:
            # The calendar's title is the event's own (a countdown event's) or the email's
            # subject, in the family's language.
            delivery["calendar"] = {**calendar, "summary": rendered.summary or rendered.subject}
            if rendered.location:
                delivery["calendar"]["location"] = rendered.location
    return delivery
