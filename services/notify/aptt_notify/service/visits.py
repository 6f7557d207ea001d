"""Home-visit events turned into notices for the family: the invitation to the programme, the
times the pair proposes, the confirmation, a move and a cancellation. Only ids, codes and times come
in; the address and the reflection never leave scheduling (decision 0320)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aptt_contracts.scheduling import (
    FamilyInvited,
    VisitCancelled,
    VisitMoved,
    VisitProposed,
    VisitScheduled,
)
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork, utcnow

from aptt_notify import store
from aptt_notify.domain.model import Template
from aptt_notify.domain.timing import ReminderOffset, reminder_time
from aptt_notify.service import followups, visit_answers
from aptt_notify.service.notices import cancel_notices, create_notice, guardians_audience
from aptt_notify.settings import Config

VisitEvent = FamilyInvited | VisitProposed | VisitScheduled | VisitMoved | VisitCancelled


def _what(event: VisitEvent) -> tuple[Template, list[str], dict[str, Any], datetime | None]:
    """The template, its guardians, its parameters and when it stops being worth sending."""
    if isinstance(event, FamilyInvited):
        return Template.VISIT_INVITATION, event.guardian_ids, {}, None
    if isinstance(event, VisitProposed):
        last = max(event.proposed_times)
        return (
            Template.VISIT_PROPOSED,
            [event.guardian_id],
            {"number": len(event.proposed_times)},
            last,
        )
    if isinstance(event, VisitScheduled):
        params = {"starts_at": event.starts_at}
        return Template.VISIT_CONFIRMED, [event.guardian_id], params, event.starts_at
    if isinstance(event, VisitMoved):
        if event.moved_by == "family":
            # The family asked: it hears that it was heard, not a new date.
            return Template.VISIT_MOVE_ASKED, [event.guardian_id], {}, None
        until = max(event.times, default=None)
        return Template.VISIT_MOVED, [event.guardian_id], {"number": len(event.times)}, until
    # A family that withdrew hears the same kind words as one whose visit was called off.
    return Template.VISIT_CANCELLED, [event.guardian_id], {}, event.starts_at


# Notices of one visit carry its id as `meeting_id`, so a cancellation or a move stops those
# still due (the reminder of the old time above all).
BEFORE_THE_VISIT = (
    Template.VISIT_PROPOSED,
    Template.VISIT_CONFIRMED,
    Template.VISIT_REMINDER_1D,
    Template.VISIT_MOVED,
    Template.VISIT_MOVE_ASKED,
)


async def on_visit_event(uow: UnitOfWork, event: VisitEvent, meta: ReceivedEvent) -> None:
    template, guardian_ids, params, expires_at = _what(event)
    now = utcnow()
    visit_id = None if isinstance(event, FamilyInvited) else event.visit_id
    if isinstance(event, VisitCancelled | VisitMoved):
        await cancel_notices(uow, meta.district_id, event.visit_id, BEFORE_THE_VISIT)
    if isinstance(event, VisitScheduled):
        await _remind(uow, event, meta, now)
        await followups.record_visit(uow, event, meta)
    if isinstance(event, FamilyInvited):
        await visit_answers.record_invitation(uow, event, meta)
    await create_notice(
        uow,
        district_id=meta.district_id,
        source_event_id=meta.id,
        template=template,
        audience=guardians_audience(guardian_ids),
        params=params,
        due_at=now,
        now=now,
        fanout_until=now + uow.config_as(Config).recipient_wait,
        expires_at=expires_at,
        school_id=event.school_id,
        student_id=event.student_id,
        meeting_id=visit_id,
    )


async def _remind(
    uow: UnitOfWork, event: VisitScheduled, meta: ReceivedEvent, now: datetime
) -> None:
    """The day before, at the visit's local time (quiet hours still apply when it is sent)."""
    config = uow.config_as(Config)
    school = await store.roster.schools.get(uow, meta.district_id, event.school_id)
    zone = config.zone(school.get("timezone") if school else None)
    due_at = reminder_time(event.starts_at, ReminderOffset.DAY, zone)
    if due_at <= now:
        return
    await create_notice(
        uow,
        district_id=meta.district_id,
        source_event_id=meta.id,
        template=Template.VISIT_REMINDER_1D,
        audience=guardians_audience([event.guardian_id]),
        params={"starts_at": event.starts_at},
        due_at=due_at,
        now=now,
        fanout_until=due_at + config.recipient_wait,
        expires_at=event.starts_at,
        school_id=event.school_id,
        student_id=event.student_id,
        meeting_id=event.visit_id,
    )
