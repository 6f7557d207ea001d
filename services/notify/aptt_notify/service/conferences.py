"""Conference events turned into notices for families: sign-up open, the confirmation with
an invitation for the calendar, reminders, moves, cancellations, the nudge before sign-up
closes and a waitlist offer (docs/decisions/0530). Only ids, codes and times come in; the
place, the video link and a teacher's note never leave scheduling."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aptt_contracts.scheduling import (
    ConferenceAvailabilityChanged,
    ConferenceAvailabilityPublished,
    ConferenceBookingCancelled,
    ConferenceBookingMade,
    ConferenceBookingMoved,
    WaitlistOffered,
)
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import Document, UnitOfWork, utcnow
from aptt_platform.readmodel import REMOVED_FIELD

from aptt_notify import store
from aptt_notify.domain.model import Template
from aptt_notify.service import followups
from aptt_notify.service.changes import Change, tell_of_change
from aptt_notify.service.notices import (
    SCHEDULED,
    cancel_notices,
    classroom_audience,
    create_notice,
    guardians_audience,
    told_guardians,
)
from aptt_notify.service.reach import record_personal_contact
from aptt_notify.settings import Config

AvailabilityEvent = ConferenceAvailabilityPublished | ConferenceAvailabilityChanged
BookingEvent = ConferenceBookingMade | ConferenceBookingMoved | ConferenceBookingCancelled

CONFERENCE_BOOKED = "conference-booked"
# Notices of one booking carry its id as `meeting_id`, so a move or cancel stops those due.
CONFIRMATION = Template.CONFERENCE_CONFIRMED
BEFORE_THE_CONFERENCE = (
    CONFIRMATION,
    Template.CONFERENCE_MOVED,
    Template.CONFERENCE_REMINDER_1D,
    Template.CONFERENCE_REMINDER_2H,
)
REMINDERS = (Template.CONFERENCE_REMINDER_1D, Template.CONFERENCE_REMINDER_2H)


def unbooked_audience(classroom_id: str, window_id: str) -> Document:
    """Guardians of the classroom's students who have no booking in the window."""
    return {"kind": "unbooked", "classroom_id": classroom_id, "window_id": window_id}


def _window_key(event: AvailabilityEvent) -> str:
    return f"conference-window:{event.window_id}:{event.classroom_id}"


async def on_availability(uow: UnitOfWork, event: AvailabilityEvent, meta: ReceivedEvent) -> None:
    """Sign-up open once per window and classroom, however often the hours change; the
    nudge follows the sign-up's close time as it stands."""
    config = uow.config_as(Config)
    now = utcnow()
    closes_at, opens_at = event.signup_closes_at, event.signup_opens_at
    if closes_at <= now:
        return
    link = config.conference_signup_link.format(availability_id=event.availability_id)
    params: dict[str, Any] = {"link": link, "closes_at": closes_at}
    window_key = _window_key(event)
    signup_key = f"{window_key}:signup"
    # The sign-up's dates may change: the notice follows them (its due time matters only
    # while it waits to open).
    signup_id = store.doc_id(meta.district_id, signup_key, str(Template.CONFERENCE_SIGNUP_OPEN))
    await store.notices.set_notices(
        uow,
        {"_id": signup_id},
        {"due_at": max(now, opens_at), "expires_at": closes_at, "fanout_until": closes_at},
    )
    await create_notice(
        uow,
        district_id=meta.district_id,
        source_event_id=signup_key,
        template=Template.CONFERENCE_SIGNUP_OPEN,
        audience=classroom_audience(event.classroom_id),
        params=params,
        due_at=max(now, opens_at),
        now=now,
        fanout_until=closes_at,
        expires_at=closes_at,
        school_id=event.school_id,
    )
    await _plan_nudge(uow, event, meta, params, now)


async def _plan_nudge(
    uow: UnitOfWork,
    event: AvailabilityEvent,
    meta: ReceivedEvent,
    params: dict[str, Any],
    now: datetime,
) -> None:
    config = uow.config_as(Config)
    window_key = _window_key(event)
    nudge_key = f"{window_key}:nudge:{event.signup_closes_at.isoformat()}"
    nudge_id = store.doc_id(meta.district_id, nudge_key, str(Template.CONFERENCE_NUDGE))
    planned = await store.notices.notices(
        uow, {"district_id": meta.district_id, "meeting_id": window_key, "status": SCHEDULED}
    )
    moved = [n["_id"] for n in planned if n["_id"] != nudge_id]
    if moved:  # the sign-up's close time changed: the nudge follows it
        await store.notices.set_notices(uow, {"_id": {"$in": moved}}, {"status": "cancelled"})
    due_at = event.signup_closes_at - config.conference_nudge_before_close
    if due_at <= max(now, event.signup_opens_at):
        return
    await create_notice(
        uow,
        district_id=meta.district_id,
        source_event_id=nudge_key,
        template=Template.CONFERENCE_NUDGE,
        audience=unbooked_audience(event.classroom_id, event.window_id),
        params=params,
        due_at=due_at,
        now=now,
        fanout_until=due_at,
        expires_at=event.signup_closes_at,
        school_id=event.school_id,
        meeting_id=window_key,
    )


def _booking_params(event: BookingEvent, method: str) -> dict[str, Any]:
    return {
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "student_led": event.student_led,
        "interpreter_language": event.interpreter_language,
        "reason_code": getattr(event, "reason_code", None),
        "calendar": {
            "uid": f"conference-{event.booking_id}",
            "sequence": event.sequence,
            "method": method,
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
        },
    }


async def on_booking(uow: UnitOfWork, event: BookingEvent, meta: ReceivedEvent) -> None:
    now = utcnow()
    district_id = meta.district_id
    fields = {
        "window_id": event.window_id,
        "classroom_id": event.classroom_id,
        "student_id": event.student_id,
        "school_id": event.school_id,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
    }
    cancelled = isinstance(event, ConferenceBookingCancelled)
    model = store.conferences.bookings
    if cancelled:
        applied = await model.remove(
            uow, district_id, event.booking_id, version=meta.time, keep=fields
        )
    else:
        kept = await model.get(uow, district_id, event.booking_id, removed=True)
        if kept is not None and kept.get(REMOVED_FIELD):
            return  # a cancellation is final: scheduling moves no cancelled booking (0310)
        applied = await model.upsert(uow, district_id, event.booking_id, fields, version=meta.time)
    if not applied.written:
        return  # a newer event of this booking was handled: its message tells the truth
    params = _booking_params(event, "CANCEL" if cancelled else "REQUEST")
    if isinstance(event, ConferenceBookingMade):
        await record_personal_contact(
            uow,
            district_id=district_id,
            student_id=event.student_id,
            kind=CONFERENCE_BOOKED,
            source_id=event.booking_id,
            at=meta.time or now,
            school_id=event.school_id,
        )
        await _notify_guardian(
            uow, event, meta, Template.CONFERENCE_CONFIRMED, params, due_at=now, now=now
        )
    elif isinstance(event, ConferenceBookingMoved):
        told = await told_guardians(uow, district_id, event.booking_id, CONFIRMATION)
        await cancel_notices(uow, district_id, event.booking_id, (CONFIRMATION, *REMINDERS))
        if told:
            await _tell_of_move(uow, event, meta, params, before=applied.before, now=now)
        else:
            # The confirmation has not gone out (quiet hours): a move of a booking the family
            # never heard of is its confirmation, with the time as it stands now.
            await _notify_guardian(uow, event, meta, CONFIRMATION, params, due_at=now, now=now)
    else:
        # A cancel stops the move notices still waiting too: the family hears only this.
        await cancel_notices(uow, district_id, event.booking_id, BEFORE_THE_CONFERENCE)
        await _notify_guardian(
            uow, event, meta, Template.CONFERENCE_CANCELLED, params, due_at=now, now=now
        )
    await followups.survey_conference(uow, event, meta)
    if cancelled:
        return
    leads = uow.config_as(Config).conference_reminders
    for reminder, lead in zip(REMINDERS, leads, strict=True):
        due_at = event.starts_at - lead
        if due_at > now:
            reminder_params = {k: v for k, v in params.items() if k != "calendar"}
            await _notify_guardian(
                uow, event, meta, reminder, reminder_params, due_at=due_at, now=now
            )


async def _tell_of_move(
    uow: UnitOfWork,
    event: ConferenceBookingMoved,
    meta: ReceivedEvent,
    params: dict[str, Any],
    *,
    before: Document | None,
    now: datetime,
) -> None:
    """Moves of one booking within the change window reach the family as one notice, with
    the last time and the last SEQUENCE, the way a meeting's changes do (0542)."""
    if event.starts_at <= now:
        return
    # What the family knew before this move. A booking the read model kept without its end
    # (before it kept one) is never taken as moved back: the family is told.
    known = {"starts_at": event.previous_starts_at, "ends_at": (before or {}).get("ends_at")}
    change = Change(
        district_id=meta.district_id,
        source_event_id=meta.id,
        subject_id=event.booking_id,
        template=Template.CONFERENCE_MOVED,
        audience=guardians_audience([event.guardian_id]),
        starts_at=event.starts_at,
        state={"starts_at": event.starts_at, "ends_at": event.ends_at},
        known=known,
        params=params,
        school_id=event.school_id,
        student_id=event.student_id,
        fanout=uow.config_as(Config).recipient_wait,
        supersede=True,
    )
    await tell_of_change(uow, change, now=now)


async def _notify_guardian(
    uow: UnitOfWork,
    event: BookingEvent,
    meta: ReceivedEvent,
    template: Template,
    params: dict[str, Any],
    *,
    due_at: datetime,
    now: datetime,
) -> None:
    await create_notice(
        uow,
        district_id=meta.district_id,
        source_event_id=meta.id,
        template=template,
        audience=guardians_audience([event.guardian_id]),
        params=params,
        due_at=due_at,
        now=now,
        fanout_until=due_at + uow.config_as(Config).recipient_wait,
        expires_at=event.starts_at,
        school_id=event.school_id,
        student_id=event.student_id,
        meeting_id=event.booking_id,
    )


async def on_waitlist_offer(uow: UnitOfWork, event: WaitlistOffered, meta: ReceivedEvent) -> None:
    """A slot is held for the family until `hold_expires_at`; after that the offer is moot."""
    now = utcnow()
    await create_notice(
        uow,
        district_id=meta.district_id,
        source_event_id=meta.id,
        template=Template.CONFERENCE_WAITLIST_OFFER,
        audience=guardians_audience([event.guardian_id]),
        params={"starts_at": event.starts_at, "hold_expires_at": event.hold_expires_at},
        due_at=now,
        now=now,
        fanout_until=event.hold_expires_at,
        expires_at=event.hold_expires_at,
        school_id=event.school_id,
        student_id=event.student_id,
    )
