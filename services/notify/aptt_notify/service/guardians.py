"""A guardian's own view: their preferences and their in-app inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aptt_platform.errors import NotFound
from aptt_platform.mongo import Document, UnitOfWork, utcnow

from aptt_notify import store
from aptt_notify.domain.model import (
    Channel,
    MessageStatus,
    default_channels,
    effective_language,
    inbox_status,
)
from aptt_notify.domain.timing import QuietHours
from aptt_notify.service.context import contact_of, load_context, preferences_of, render_message

KEEP = object()  # a field the guardian did not send: left as it is


@dataclass(frozen=True)
class EffectivePreferences:
    language: str
    channels: list[Channel]
    quiet_hours: QuietHours | None


async def _effective(uow: UnitOfWork, guardian: Document | None) -> EffectivePreferences:
    preferences = preferences_of(guardian)
    contact = contact_of(guardian)
    opted_out = bool(
        contact and contact.phone and await store.limits.opted_out_numbers(uow, [contact.phone])
    )
    channels = (
        preferences.channels
        if preferences.channels is not None
        else default_channels(contact, sms_opted_out=opted_out)
    )
    return EffectivePreferences(
        language=effective_language(preferences, contact, None),
        channels=list(channels),
        quiet_hours=preferences.effective_quiet_hours(),
    )


async def get_preferences(
    uow: UnitOfWork, *, district_id: str, guardian_id: str
) -> EffectivePreferences:
    """What applies now: the guardian's choices, else what their contacts and defaults give."""
    guardian = await store.roster.guardians.get(uow, district_id, guardian_id)
    return await _effective(uow, guardian)


async def set_preferences(
    uow: UnitOfWork,
    *,
    district_id: str,
    guardian_id: str,
    language: Any = KEEP,
    channels: Any = KEEP,
    quiet_hours: Any = KEEP,
) -> EffectivePreferences:
    """Record the guardian's choices; a field not sent keeps its value, null quiet hours
    means none. Works before the guardian's contacts have arrived."""
    fields: Document = {}
    if language is not KEEP:
        fields["preferences.language"] = language
    if channels is not KEEP:
        fields["preferences.channels"] = channels
    if quiet_hours is not KEEP:
        fields["preferences.quiet_hours_set"] = True
        fields["preferences.quiet_hours"] = (
            dict(zip(("start", "end"), quiet_hours.as_strings(), strict=True))
            if quiet_hours is not None
            else None
        )
    if fields:
        await store.roster.set_guardian_preferences(uow, district_id, guardian_id, fields)
    # Messages waiting out the old quiet hours are looked at again under the new ones.
    waiting = await store.messages.pending_message_ids(
        uow,
        {
            "district_id": district_id,
            "recipient_id": guardian_id,
            "status": MessageStatus.PENDING.value,
        },
        wait_reasons=["quiet-hours"],
    )
    if waiting:
        await store.messages.set_messages(
            uow,
            {
                "_id": {"$in": waiting},
                "status": MessageStatus.PENDING.value,
                "wait_reason": "quiet-hours",
            },
            {"next_check_at": utcnow()},
        )
    return await _effective(uow, await store.roster.guardians.get(uow, district_id, guardian_id))


@dataclass(frozen=True)
class InboxItem:
    message_id: str
    template: str
    language: str
    channels: list[str]
    text: str
    created_at: datetime
    status: str


async def inbox_items(uow: UnitOfWork, messages: list[Document]) -> list[InboxItem]:
    """Messages as the guardian reads them; one not sent yet is worded as it stands now."""
    if not messages:
        return []
    statuses = await store.deliveries.delivery_statuses(
        uow, messages[0]["district_id"], [m["_id"] for m in messages]
    )
    items = []
    for message in messages:
        text, language = message.get("text"), message.get("language")
        if text is None or language is None:
            rendered = render_message(message, await load_context(uow, message))
            text, language = rendered.short, rendered.language
        items.append(
            InboxItem(
                message_id=message["_id"],
                template=message["template"],
                language=language,
                channels=list(message.get("channels") or []),
                text=text,
                created_at=message["visible_at"],
                status=inbox_status(message["status"], statuses.get(message["_id"], [])),
            )
        )
    return items


async def inbox_message(
    uow: UnitOfWork,
    *,
    district_id: str,
    guardian_id: str,
    message_id: str,
    now: datetime,
) -> InboxItem:
    found = await store.messages.messages(
        uow,
        {
            "_id": message_id,
            "district_id": district_id,
            "recipient_id": guardian_id,
            "visible_at": {"$lte": now},
            "status": {"$ne": MessageStatus.DROPPED.value},
        },
    )
    if not found:
        raise NotFound("no such message in your inbox")
    [item] = await inbox_items(uow, found)
    return item


async def inbox_page(
    uow: UnitOfWork,
    *,
    district_id: str,
    guardian_id: str,
    now: datetime,
    after: tuple[datetime, str] | None,
    limit: int,
) -> tuple[list[InboxItem], bool]:
    """Newest first; also says whether there are more after this page."""
    found = await store.messages.inbox_page(
        uow,
        district_id=district_id,
        recipient_id=guardian_id,
        now=now,
        after=after,
        limit=limit + 1,
    )
    return await inbox_items(uow, found[:limit]), len(found) > limit
