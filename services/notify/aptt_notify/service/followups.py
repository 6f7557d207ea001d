"""Surveys after one-to-one conferences and home visits: the family gets the same short
survey as after a team meeting, in its language (docs/decisions/0514, 0540).

Scheduling publishes no "conference held" event, so a booking is surveyed at its end: the
booking starts its survey with the first question due then, a move waits for the new end,
and a cancellation closes the survey before anything is asked. A home visit is surveyed
when the pair records it completed; the guardian it was with comes from `VisitScheduled`
(`VisitCompleted` carries no guardian), and no teacher survey starts, since the pair may
not teach the child.
"""

from __future__ import annotations

from aptt_contracts.scheduling import (
    ConferenceBookingCancelled,
    ConferenceBookingMade,
    ConferenceBookingMoved,
    VisitCompleted,
    VisitScheduled,
)
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork, utcnow

from aptt_notify import store
from aptt_notify.service import reach
from aptt_notify.service.surveys import ask_later, close_surveys, start_surveys

BookingEvent = ConferenceBookingMade | ConferenceBookingMoved | ConferenceBookingCancelled


async def survey_conference(uow: UnitOfWork, event: BookingEvent, meta: ReceivedEvent) -> None:
    """Called by the booking handler once the event is the booking's newest."""
    if isinstance(event, ConferenceBookingCancelled):
        await close_surveys(uow, meta.district_id, event.booking_id)
        return
    await start_surveys(
        uow,
        district_id=meta.district_id,
        source_id=event.booking_id,
        classroom_id=event.classroom_id,
        school_id=event.school_id,
        student_id=event.student_id,
        guardian_id=event.guardian_id,
        now=utcnow(),
        ask_at=event.ends_at,
    )
    if isinstance(event, ConferenceBookingMoved):
        await ask_later(uow, meta.district_id, event.booking_id, event.ends_at)


async def record_visit(uow: UnitOfWork, event: VisitScheduled, meta: ReceivedEvent) -> None:
    """Who the visit is with, for its survey once it is completed."""
    await store.visits.visits.upsert(
        uow,
        meta.district_id,
        event.visit_id,
        {
            "guardian_id": event.guardian_id,
            "student_id": event.student_id,
            "school_id": event.school_id,
        },
        version=meta.time,
    )


async def on_visit_completed(uow: UnitOfWork, event: VisitCompleted, meta: ReceivedEvent) -> None:
    await reach.on_home_visit(uow, event, meta)
    visit = await store.visits.visits.get(uow, meta.district_id, event.visit_id)
    if visit is None:
        # Both events are keyed by the visit on one topic, so VisitScheduled came first;
        # only a visit scheduled before notify kept visits has no guardian here.
        return
    await start_surveys(
        uow,
        district_id=meta.district_id,
        source_id=event.visit_id,
        classroom_id=None,
        school_id=event.school_id,
        student_id=event.student_id,
        guardian_id=visit["guardian_id"],
        now=utcnow(),
    )
