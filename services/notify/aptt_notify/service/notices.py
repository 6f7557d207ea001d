"""Notices: what to tell an audience and when, expanded into one message per guardian.

A notice is expanded when it falls due and again whenever the roster behind its audience
changes, until its fan-out window closes, so an event that arrives before the classroom,
the students or their guardians are known loses nobody (docs/decisions/0500). Expanding twice
is harmless: a message's key (source event, recipient, template) is unique.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from aptt_platform.mongo import Document, UnitOfWork

from aptt_notify import store
from aptt_notify.domain.model import MessageStatus, Template
from aptt_notify.settings import Config

SCHEDULED, OPEN, CLOSED, CANCELLED = "scheduled", "open", "closed", "cancelled"


def classroom_audience(classroom_id: str) -> Document:
    return {"kind": "classroom", "classroom_id": classroom_id}


def student_audience(student_id: str, also: Iterable[str] = ()) -> Document:
    return {"kind": "student", "student_id": student_id, "guardian_ids": sorted(set(also))}


def guardians_audience(guardian_ids: Iterable[str]) -> Document:
    return {"kind": "guardians", "guardian_ids": sorted(set(guardian_ids))}


def told_audience(meeting_id: str) -> Document:
    """Guardians who were told about the meeting: a change or cancellation goes to them."""
    return {"kind": "told", "meeting_id": meeting_id}


async def create_notice(
    uow: UnitOfWork,
    *,
    district_id: str,
    source_event_id: str,
    template: Template,
    audience: Document,
    params: dict[str, Any],
    due_at: datetime,
    now: datetime,
    fanout_until: datetime,
    expires_at: datetime | None = None,
    school_id: str | None = None,
    meeting_id: str | None = None,
    student_id: str | None = None,
    notice_key: str | None = None,
    known: Document | None = None,
) -> None:
    """Record a notice, expanding it at once when due. `notice_key` names what the notice is
    about when a later event may say the same thing again (default: the event itself);
    `known` is what the audience was told before a change (docs/decisions/0542)."""
    notice_id = store.doc_id(district_id, notice_key or source_event_id, str(template))
    notice: Document = {
        "_id": notice_id,
        "district_id": district_id,
        "source_event_id": source_event_id,
        "template": str(template),
        "audience": audience,
        "params": params,
        "school_id": school_id,
        "meeting_id": meeting_id,
        "student_id": student_id,
        "due_at": due_at,
        "expires_at": expires_at,
        "fanout_until": max(fanout_until, due_at),
        "status": SCHEDULED,
        "created_at": now,
    }
    if known is not None:
        notice["known"] = known
    if not await store.notices.insert_notice(uow, notice):
        return
    if due_at <= now:
        await open_notice(uow, notice, now=now)


async def open_notice(uow: UnitOfWork, notice: Document, *, now: datetime) -> int:
    """The notice is due: give every guardian of its audience a message."""
    status = OPEN if notice["fanout_until"] > now else CLOSED
    await store.notices.set_notices(uow, {"_id": notice["_id"]}, {"status": status})
    return await expand(uow, notice, now=now)


async def open_due_notice(uow: UnitOfWork, notice_id: str, *, now: datetime) -> int:
    """The sender opens a notice that fell due (a reminder). A roster event handled at the
    same moment cannot see this notice open yet, nor this expansion its roster change, so
    the notice is expanded once more when it has settled (`settle_notice`)."""
    notice = await store.notices.get_notice(uow, notice_id)
    if notice is None or notice["status"] != SCHEDULED or notice["due_at"] > now:
        return 0
    expanded = await open_notice(uow, notice, now=now)
    settle_at = now + uow.config_as(Config).settle_delay
    await store.notices.set_notices(uow, {"_id": notice_id}, {"settle_at": settle_at})
    return expanded


async def settle_notice(uow: UnitOfWork, notice_id: str, *, now: datetime) -> int:
    notice = await store.notices.get_notice(uow, notice_id)
    if notice is None or notice.get("settle_at") is None or notice["settle_at"] > now:
        return 0
    await store.notices.set_notices(uow, {"_id": notice_id}, {"settle_at": None})
    if notice["status"] not in (OPEN, CLOSED):
        return 0
    return await expand(uow, notice, now=now)


async def expand(uow: UnitOfWork, notice: Document, *, now: datetime) -> int:
    await store.notices.lock_audiences(uow, notice["district_id"])
    recipients = await audience_of(uow, notice)
    config = uow.config_as(Config)
    messages = [new_message(notice, guardian_id, now, config) for guardian_id in sorted(recipients)]
    return await store.messages.insert_messages(uow, messages)


async def audience_of(uow: UnitOfWork, notice: Document) -> set[str]:
    district_id = notice["district_id"]
    audience = notice["audience"]
    kind = audience["kind"]
    if kind == "classroom":
        return await store.roster.classroom_guardians(uow, district_id, audience["classroom_id"])
    if kind == "student":
        found = await store.roster.guardians_of_students(uow, district_id, [audience["student_id"]])
        return found | set(audience.get("guardian_ids", []))
    if kind == "guardians":
        return set(audience["guardian_ids"])
    if kind == "unbooked":
        return await store.conferences.unbooked_guardians(uow, district_id, audience)
    return await told_guardians(
        uow, district_id, audience["meeting_id"], Template.MEETING_INVITATION
    )


async def told_guardians(
    uow: UnitOfWork, district_id: str, meeting_id: str, template: Template
) -> set[str]:
    """Guardians whom a message of `template` about the meeting reached, or who can read it
    in the app: a change is news only to them."""
    sent = await store.messages.messages(
        uow,
        {"district_id": district_id, "meeting_id": meeting_id, "template": str(template)},
        {"recipient_id": 1, "status": 1},
    )
    # The status is checked here: beside the meeting's index it would make a scan.
    told = {MessageStatus.DISPATCHED.value, MessageStatus.SUPPRESSED.value}
    return {m["recipient_id"] for m in sent if m["status"] in told}


def message_key(source_event_id: str, recipient_id: str, template: str) -> str:
    return f"{source_event_id}|{recipient_id}|{template}"


def new_message(notice: Document, recipient_id: str, now: datetime, config: Config) -> Document:
    message_id = uuid.uuid4().hex
    return {
        "_id": message_id,
        "district_id": notice["district_id"],
        "key": message_key(notice["source_event_id"], recipient_id, notice["template"]),
        "notice_id": notice["_id"],
        "source_event_id": notice["source_event_id"],
        "template": notice["template"],
        "recipient_id": recipient_id,
        "audience": notice["audience"],
        "school_id": notice.get("school_id"),
        "meeting_id": notice.get("meeting_id"),
        "student_id": notice.get("student_id"),
        "params": notice["params"],
        # Shown in the inbox once it goes out, or once it is clear it cannot (0500).
        "visible_at": None,
        "expires_at": notice.get("expires_at") or now + config.message_max_wait,
        "status": MessageStatus.PENDING.value,
        "next_check_at": now,
        "wait_reason": None,
        "language": None,
        "text": None,
        "channels": [],
        "created_at": now,
    }


async def expand_open_notices(
    uow: UnitOfWork, district_id: str, audiences: Iterable[dict[str, Any]], *, now: datetime
) -> int:
    """The roster behind some audiences changed: give newly reached guardians their message.

    Each audience (`{"audience.classroom_id": ...}`) is read on its own index, and the open
    window checked here: an `$or`, a `$ne` or a field beside the index is a collection scan
    on the database (docs/platform.md)."""
    await store.notices.lock_audiences(uow, district_id)
    found: dict[str, Document] = {}
    for audience in audiences:
        for notice in await store.notices.notices(uow, {"district_id": district_id, **audience}):
            found.setdefault(notice["_id"], notice)
    total = 0
    for notice in found.values():
        if notice["status"] != OPEN or notice["audience"].get("kind") == "told":
            continue
        if notice.get("fanout_until") is None or notice["fanout_until"] <= now:
            continue
        total += await expand(uow, notice, now=now)
    return total


async def cancel_notices(
    uow: UnitOfWork, district_id: str, meeting_id: str, templates: Iterable[Template]
) -> None:
    """Stop notices about a meeting and drop their messages that have not gone out.

    The meeting's notices and messages are read on its index; the writes name them by `_id`
    and keep the status condition, so a message sent meanwhile is not dropped."""
    names = {str(t) for t in templates}
    meeting = {"district_id": district_id, "meeting_id": meeting_id}
    notice_ids = [
        n["_id"] for n in await store.notices.notices(uow, meeting) if n["template"] in names
    ]
    if notice_ids:
        await store.notices.set_notices(
            uow,
            {"_id": {"$in": notice_ids}, "status": {"$in": [SCHEDULED, OPEN]}},
            {"status": CANCELLED},
        )
    message_ids = await store.messages.pending_message_ids(
        uow, {**meeting, "template": {"$in": sorted(names)}}
    )
    if message_ids:
        await store.messages.set_messages(
            uow,
            {"_id": {"$in": message_ids}, "status": MessageStatus.PENDING.value},
            {"status": MessageStatus.DROPPED.value},
        )
