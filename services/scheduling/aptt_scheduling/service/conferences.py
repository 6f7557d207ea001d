"""Use cases of one-to-one conferences: availability, holds, bookings, changes, views.

A family books inside the sign-up period, for its own child only; staff book for a family at
any time. What must hold under a rush is decided by the store's unique indexes and
conditional writes (decision 0310), never by a count read first.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from aptt_contracts.scheduling import (
    ChangedBy,
    ConferenceAvailabilityChanged,
    ConferenceAvailabilityPublished,
    ConferenceBookingCancelled,
    ConferenceBookingMade,
    ConferenceBookingMoved,
    ConferenceReason,
)
from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import Conflict, DomainError, NotFound
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.domain import conferences as rules
from aptt_scheduling.domain.calendars import ClassroomWindow
from aptt_scheduling.domain.conferences import Availability, Booking, DayRange, Slot
from aptt_scheduling.domain.meetings import local_date
from aptt_scheduling.domain.roster import Student, manages_classroom, manages_school
from aptt_scheduling.service import conferences_waitlist, interpreters
from aptt_scheduling.service.access import Access, classroom_access
from aptt_scheduling.service.calendars import school_timezone
from aptt_scheduling.settings import Config
from aptt_scheduling.store import calendars as calendar_store
from aptt_scheduling.store import conferences as store
from aptt_scheduling.store import roster


@dataclass(frozen=True)
class AvailabilityDraft:
    days: tuple[DayRange, ...]
    place: str
    signup_opens_at: datetime
    signup_closes_at: datetime | None = None
    video_link: str | None = None
    slot_minutes: int = rules.DEFAULT_SLOT_MINUTES
    buffer_minutes: int = 0
    change_cutoff_hours: int = 24
    student_led: bool = False
    window_id: str | None = None


@dataclass(frozen=True)
class SlotView:
    slot: Slot
    state: str  # free | held | booked | yours
    booking_id: str | None = None
    student_id: str | None = None


@dataclass(frozen=True)
class AvailabilityView:
    availability: Availability
    slots: list[SlotView]
    booked_slots_kept: list[str] = field(default_factory=list)
    # Asked with a language: free slots with an interpreter of it, in the order to offer them.
    offered_with_interpreter: list[str] | None = None


@dataclass(frozen=True)
class Hold:
    hold_id: str
    slot: Slot
    student_id: str
    expires_at: datetime


@dataclass(frozen=True)
class BookingView:
    booking: Booking
    place: str
    video_link: str | None
    timezone: str
    # The teacher's note to the family (reason of a move or cancellation): for the family
    # and staff, never on a topic.
    manages: bool = False
    goals: tuple[dict[str, object], ...] = ()


# -- availability ------------------------------------------------------------------------


async def _conference_window(
    uow: UnitOfWork, district_id: str, classroom_id: str, window_id: str | None, days: list[str]
) -> ClassroomWindow:
    windows = [
        w
        for w in await calendar_store.windows_of_classroom(uow, district_id, classroom_id)
        if w.kind == "conference"
    ]
    if window_id is not None:
        chosen = next((w for w in windows if w.window_id == window_id), None)
        if chosen is None:
            raise NotFound("no such conference window for this classroom", code="unknown-window")
    else:
        first = min(days)
        chosen = next(
            (w for w in windows if w.starts_on.isoformat() <= first <= w.ends_on.isoformat()), None
        )
        if chosen is None:
            raise DomainError(
                "no conference window of this classroom holds these days; apply an engagement "
                "calendar with a conference window first",
                code="no-conference-window",
            )
    return chosen


def _slots(availability: Availability, district_id: str) -> list[Slot]:
    times = rules.cut_slots(
        availability.days,
        timezone=availability.timezone,
        slot_minutes=availability.slot_minutes,
        buffer_minutes=availability.buffer_minutes,
    )
    return [
        Slot(
            slot_id=rules.slot_id(district_id, availability.classroom_id, t.starts_at),
            availability_id=availability.availability_id,
            window_id=availability.window_id,
            classroom_id=availability.classroom_id,
            school_id=availability.school_id,
            starts_at=t.starts_at,
            ends_at=t.ends_at,
        )
        for t in times
    ]


async def _check_free_hours(uow: UnitOfWork, availability: Availability, slots: list[Slot]) -> None:
    """A teacher is in one conference at a time: new slots may not overlap other availability."""
    if not slots:
        return
    others = await store.slots_of_classroom_between(
        uow,
        availability.district_id,
        availability.classroom_id,
        min(s.starts_at for s in slots),
        max(s.ends_at for s in slots),
    )
    for other in others:
        if other.availability_id == availability.availability_id:
            continue
        if any(s.starts_at < other.ends_at and other.starts_at < s.ends_at for s in slots):
            raise Conflict(
                "these hours overlap the teacher's other conference hours",
                code="overlapping-availability",
                availability_id=other.availability_id,
            )


async def _publish_one(
    uow: UnitOfWork,
    *,
    principal: Principal,
    classroom_id: str,
    school_id: str,
    draft: AvailabilityDraft,
    now: datetime,
) -> AvailabilityView:
    district_id = principal.district_id
    timezone = await school_timezone(uow, district_id, school_id)
    rules.check_slot_shape(draft.slot_minutes, draft.buffer_minutes)
    window = await _conference_window(
        uow, district_id, classroom_id, draft.window_id, [d.day.isoformat() for d in draft.days]
    )
    rules.check_days_in_window(draft.days, window.starts_on, window.ends_on)
    window_id = window.window_id
    availability = Availability(
        availability_id=f"av-{uuid.uuid4().hex[:16]}",
        district_id=district_id,
        window_id=window_id,
        classroom_id=classroom_id,
        school_id=school_id,
        timezone=timezone,
        days=draft.days,
        slot_minutes=draft.slot_minutes,
        buffer_minutes=draft.buffer_minutes,
        place=draft.place,
        video_link=draft.video_link,
        signup_opens_at=draft.signup_opens_at,
        signup_closes_at=draft.signup_opens_at,
        change_cutoff_hours=draft.change_cutoff_hours,
        student_led=draft.student_led,
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    slots = _slots(availability, district_id)
    opens, closes = rules.signup_period(
        [rules.SlotTime(s.starts_at, s.ends_at) for s in slots],
        opens_at=draft.signup_opens_at,
        closes_at=draft.signup_closes_at,
        now=now,
    )
    availability = replace(availability, signup_opens_at=opens, signup_closes_at=closes)
    # Two publications for one classroom at once must not both pass the overlap check.
    await roster.lock(uow, district_id, "conference-hours", classroom_id)
    await _check_free_hours(uow, availability, slots)
    await store.save_availability(uow, availability)
    await store.add_slots(uow, district_id, slots)
    uow.publish(
        ConferenceAvailabilityPublished(
            district_id=district_id,
            availability_id=availability.availability_id,
            window_id=window_id,
            classroom_id=classroom_id,
            school_id=school_id,
            slot_minutes=availability.slot_minutes,
            buffer_minutes=availability.buffer_minutes,
            slot_count=len(slots),
            first_slot_at=slots[0].starts_at,
            last_slot_ends_at=slots[-1].ends_at,
            signup_opens_at=opens,
            signup_closes_at=closes,
            student_led=availability.student_led,
            virtual=availability.video_link is not None,
        )
    )
    return AvailabilityView(availability, [SlotView(s, "free") for s in slots])


async def publish_availability(
    uow: UnitOfWork,
    *,
    principal: Principal,
    classroom_id: str,
    draft: AvailabilityDraft,
    now: datetime,
) -> AvailabilityView:
    """A teacher (or an admin for them) publishes a classroom's conference hours."""
    access = await classroom_access(uow, principal, classroom_id, manage=True)
    classroom = access.classes.classroom
    if classroom.removed:
        raise Conflict("the classroom is no longer on the roster", code="classroom-removed")
    return await _publish_one(
        uow,
        principal=principal,
        classroom_id=classroom_id,
        school_id=classroom.school_id,
        draft=draft,
        now=now,
    )


async def publish_school_evening(
    uow: UnitOfWork,
    *,
    principal: Principal,
    school_id: str,
    draft: AvailabilityDraft,
    now: datetime,
    places: Mapping[str, str] | None = None,
) -> list[AvailabilityView]:
    """A school admin publishes one conference evening for every classroom of the school,
    each in its own room when `places` names one for it."""
    if not await roster.school_is_known(uow, principal.district_id, school_id):
        raise NotFound("no such school in the roster", code="unknown-school")
    if not manages_school(principal, school_id):
        raise out_of_reach(principal, "school")
    classrooms = await roster.classrooms_of_school(uow, principal.district_id, school_id)
    if not classrooms:
        raise DomainError("the school has no classrooms in the roster", code="no-classrooms")
    return [
        await _publish_one(
            uow,
            principal=principal,
            classroom_id=c.classroom_id,
            school_id=school_id,
            draft=replace(
                draft, window_id=None, place=(places or {}).get(c.classroom_id, draft.place)
            ),
            now=now,
        )
        for c in classrooms
    ]


async def _availability_access(
    uow: UnitOfWork, principal: Principal, availability_id: str, *, manage: bool
) -> tuple[Availability, Access]:
    availability = await store.get_availability(uow, principal.district_id, availability_id)
    if availability is None:
        raise NotFound("no such conference availability", code="unknown-availability")
    access = await classroom_access(
        uow, principal, availability.classroom_id, manage=manage, what="conference availability"
    )
    return availability, access


async def _slot_views(
    uow: UnitOfWork, district_id: str, slots: list[Slot], access: Access, now: datetime
) -> list[SlotView]:
    ids = [s.slot_id for s in slots]
    # A list of slots is where a lapsed waitlist offer is seen first: passed on here, the
    # next family waiting is told without a job (decision 0310).
    claims = await conferences_waitlist.pass_on_lapsed(
        uow, await store.claims_of(uow, district_id, ids), now
    )
    booked = await store.active_bookings_of_slots(uow, district_id, ids)
    views = []
    for slot in slots:
        booking = booked.get(slot.slot_id)
        claim = claims.get(slot.slot_id)
        if booking is not None:
            yours = booking.student_id in access.own_students
            show = access.manages or yours
            views.append(
                SlotView(
                    slot,
                    "yours" if yours else "booked",
                    booking.booking_id if show else None,
                    booking.student_id if show else None,
                )
            )
        elif claim is not None and claim["expires_at"] is not None and claim["expires_at"] > now:
            views.append(
                SlotView(slot, "yours" if claim["student_id"] in access.own_students else "held")
            )
        else:
            views.append(SlotView(slot, "free"))
    return views


async def get_availability(
    uow: UnitOfWork,
    *,
    principal: Principal,
    availability_id: str,
    now: datetime,
    interpreter_language: str | None = None,
) -> AvailabilityView:
    """Staff of the classroom and its families see the slots and which are free; with a
    language, also the free slots where an interpreter of it is, in the order to offer them
    (next to other families of that language first)."""
    district_id = principal.district_id
    availability, access = await _availability_access(uow, principal, availability_id, manage=False)
    slots = await store.slots_of_availability(uow, district_id, availability_id)
    offered = None
    if interpreter_language:
        fitting = await interpreters.slots_for_language(
            uow, district_id, availability_id, interpreter_language, near=None, now=now
        )
        offered = [s.slot_id for s in fitting]
    return AvailabilityView(
        availability,
        await _slot_views(uow, district_id, slots, access, now),
        offered_with_interpreter=offered,
    )


async def classroom_availabilities(
    uow: UnitOfWork, *, principal: Principal, classroom_id: str, now: datetime, limit: int
) -> list[AvailabilityView]:
    """The classroom's conference hours whose slots are not all past, soonest first: how a
    family finds where to book, and a teacher their own hours."""
    district_id = principal.district_id
    access = await classroom_access(
        uow, principal, classroom_id, manage=False, what="conference availability"
    )
    found = []
    for availability in await store.availabilities_of_classroom(
        uow, district_id, classroom_id, limit=limit
    ):
        slots = [
            s
            for s in await store.slots_of_availability(
                uow, district_id, availability.availability_id
            )
            if s.ends_at > now
        ]
        if slots:
            found.append(
                AvailabilityView(
                    availability, await _slot_views(uow, district_id, slots, access, now)
                )
            )
    return sorted(found, key=lambda view: view.slots[0].slot.starts_at)


async def change_availability(
    uow: UnitOfWork,
    *,
    principal: Principal,
    availability_id: str,
    draft: AvailabilityDraft,
    now: datetime,
) -> AvailabilityView:
    """New hours, place or sign-up period. Booked slots are never dropped: a booked slot
    outside the new hours stays (and is listed) until the teacher moves that family."""
    district_id = principal.district_id
    before, access = await _availability_access(uow, principal, availability_id, manage=True)
    changed = replace(
        before,
        days=draft.days,
        slot_minutes=draft.slot_minutes,
        buffer_minutes=draft.buffer_minutes,
        place=draft.place,
        video_link=draft.video_link,
        change_cutoff_hours=draft.change_cutoff_hours,
        student_led=draft.student_led,
        updated_at=now,
    )
    window = await calendar_store.get_window(uow, district_id, before.window_id)
    if window is not None:
        rules.check_days_in_window(draft.days, window.starts_on, window.ends_on)
    wanted = _slots(changed, district_id)
    opens, closes = rules.signup_period(
        [rules.SlotTime(s.starts_at, s.ends_at) for s in wanted],
        opens_at=draft.signup_opens_at,
        closes_at=draft.signup_closes_at,
        now=now,
    )
    changed = replace(changed, signup_opens_at=opens, signup_closes_at=closes)
    await roster.lock(uow, district_id, "conference-hours", before.classroom_id)
    current = await store.slots_of_availability(uow, district_id, availability_id)
    booked = await store.active_bookings_of_slots(uow, district_id, [s.slot_id for s in current])
    claims = await store.claims_of(uow, district_id, [s.slot_id for s in current])
    wanted_ids = {s.slot_id for s in wanted}
    current_ids = {s.slot_id for s in current}
    live_hold = {
        sid for sid, c in claims.items() if c["expires_at"] is not None and c["expires_at"] > now
    }
    kept = [s.slot_id for s in current if s.slot_id not in wanted_ids and s.slot_id in booked]
    removed = [
        s.slot_id
        for s in current
        if s.slot_id not in wanted_ids and s.slot_id not in booked and s.slot_id not in live_hold
    ]
    added = [s for s in wanted if s.slot_id not in current_ids]
    await _check_free_hours(uow, changed, added)
    await store.remove_slots(uow, district_id, removed)
    await store.add_slots(uow, district_id, added)
    await store.save_availability(uow, changed)
    remaining = await store.slots_of_availability(uow, district_id, availability_id)
    uow.publish(
        ConferenceAvailabilityChanged(
            district_id=district_id,
            availability_id=availability_id,
            window_id=changed.window_id,
            classroom_id=changed.classroom_id,
            school_id=changed.school_id,
            slot_count=len(remaining),
            slots_added=len(added),
            slots_removed=len(removed),
            booked_slots_kept=len(kept),
            signup_opens_at=opens,
            signup_closes_at=closes,
            student_led=changed.student_led,
        )
    )
    return AvailabilityView(
        changed, await _slot_views(uow, district_id, remaining, access, now), kept
    )


# -- holds and bookings ------------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyAccess:
    """The caller's right to book for one student: as staff of the classroom, or as a
    guardian of the student."""

    manages: bool
    student: Student


async def _slot_and_family(
    uow: UnitOfWork, principal: Principal, slot_id: str, student_id: str
) -> tuple[Slot, Availability, FamilyAccess]:
    """The slot, its availability, and the caller's right to book it for this student.

    Reads the classroom and the one student, not the whole class: this runs for every
    request of a booking rush."""
    district_id = principal.district_id
    slot = await store.get_slot(uow, district_id, slot_id)
    if slot is None:
        raise NotFound("no such conference slot", code="unknown-slot")
    classroom = await roster.get_classroom(uow, district_id, slot.classroom_id)
    if classroom is None:
        raise NotFound("no such conference slot", code="unknown-slot")
    manages = manages_classroom(principal, classroom)
    found = await roster.current_students(uow, district_id, [student_id])
    student = found[0] if found else None
    if student is None or student_id not in classroom.student_ids:
        raise out_of_reach(principal, "student")
    if not manages and not (
        "guardian" in principal.roles and principal.subject in student.guardian_ids
    ):
        raise out_of_reach(principal, "student")
    availability = await store.get_availability(uow, district_id, slot.availability_id)
    if availability is None:  # a slot is written with its availability
        raise NotFound("no such conference slot", code="unknown-slot")
    return slot, availability, FamilyAccess(manages, student)


def _taken() -> Conflict:
    return Conflict(
        "this slot was just taken or is held by another family; please pick another",
        code="slot-taken",
    )


async def hold_slot(
    uow: UnitOfWork, *, principal: Principal, slot_id: str, student_id: str, now: datetime
) -> Hold:
    """Hold a slot for a few minutes while the family finishes; nobody else is offered it."""
    slot, availability, access = await _slot_and_family(uow, principal, slot_id, student_id)
    if not access.manages:
        rules.check_signup_open(availability, now)
    rules.check_slot_ahead(slot, now)
    expires_at = now + timedelta(seconds=uow.config_as(Config).conference_hold_seconds)
    try:
        hold_id = await store.claim_slot(
            uow,
            principal.district_id,
            slot_id,
            holder=principal.subject,
            student_id=student_id,
            expires_at=expires_at,
            booking_id=None,
            now=now,
        )
    except store.OfferLapsed as lapsed:
        raise conferences_waitlist.OfferToPassOn(lapsed.claim) from None
    except store.SlotTaken:
        raise _taken() from None
    return Hold(hold_id=hold_id, slot=slot, student_id=student_id, expires_at=expires_at)


def _guardian_of(access: FamilyAccess, principal: Principal, named: str | None) -> str:
    student = access.student
    if not access.manages:
        return principal.subject
    if named is None:
        if not student.guardian_ids:
            raise DomainError("the student has no guardian in the roster", code="no-guardian")
        return min(student.guardian_ids)
    if named not in student.guardian_ids:
        raise DomainError("that guardian is not one of the student's", code="unknown-guardian")
    return named


async def book_slot(
    uow: UnitOfWork,
    *,
    principal: Principal,
    slot_id: str,
    student_id: str,
    guardian_id: str | None,
    interpreter_language: str | None,
    now: datetime,
) -> BookingView:
    """Book a slot for a student: a guardian for their own child in the sign-up period,
    staff for a family at any time. One per slot, one per student and window, at most the
    district's cap per guardian and window; a slot another family holds is not offered."""
    district_id = principal.district_id
    slot, availability, access = await _slot_and_family(uow, principal, slot_id, student_id)
    staff = access.manages
    if not staff:
        rules.check_signup_open(availability, now)
    rules.check_slot_ahead(slot, now)
    booking = Booking(
        booking_id=f"cb-{uuid.uuid4().hex[:16]}",
        district_id=district_id,
        slot_id=slot.slot_id,
        availability_id=slot.availability_id,
        window_id=slot.window_id,
        classroom_id=slot.classroom_id,
        school_id=slot.school_id,
        student_id=student_id,
        guardian_id=_guardian_of(access, principal, guardian_id),
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        student_led=availability.student_led,
        booked_by=principal.subject,
        by="staff" if staff else "family",
        created_at=now,
        updated_at=now,
        interpreter_language=interpreter_language,
    )
    try:
        await store.claim_slot(
            uow,
            district_id,
            slot_id,
            holder=principal.subject,
            student_id=student_id,
            expires_at=None,
            booking_id=booking.booking_id,
            now=now,
        )
    except store.OfferLapsed as lapsed:
        raise conferences_waitlist.OfferToPassOn(lapsed.claim) from None
    except store.SlotTaken:
        raise _taken() from None
    booking = await interpreters.reserve_for(uow, booking, slot)
    await _insert(uow, booking)
    if not staff:
        cap = uow.config_as(Config).conference_bookings_per_guardian
        if not await store.take_cap_token(
            uow, district_id, slot.window_id, booking.guardian_id, booking.booking_id, cap
        ):
            raise Conflict(
                f"you already have {cap} conference booking(s) in this window",
                code="guardian-cap-reached",
                cap=cap,
            )
    uow.publish(_made(booking))
    return await _view(uow, booking, staff, availability)


async def _insert(uow: UnitOfWork, booking: Booking) -> None:
    try:
        await store.insert_booking(uow, booking)
    except store.DuplicateBooking as exc:
        raise _duplicate(exc) from None


def _duplicate(exc: store.DuplicateBooking) -> Conflict:
    if exc.which == "student":
        return Conflict(
            "this child already has a conference in this window (one per child, whichever "
            "guardian books); change that booking instead",
            code="student-already-booked",
        )
    return _taken()


def _fields(booking: Booking) -> dict[str, object]:
    return {
        "district_id": booking.district_id,
        "booking_id": booking.booking_id,
        "slot_id": booking.slot_id,
        "availability_id": booking.availability_id,
        "window_id": booking.window_id,
        "classroom_id": booking.classroom_id,
        "school_id": booking.school_id,
        "student_id": booking.student_id,
        "guardian_id": booking.guardian_id,
        "starts_at": booking.starts_at,
        "ends_at": booking.ends_at,
        "interpreter_language": booking.interpreter_language,
        "student_led": booking.student_led,
        "sequence": booking.sequence,
    }


def _made(booking: Booking) -> ConferenceBookingMade:
    return ConferenceBookingMade.model_validate({**_fields(booking), "by": booking.by})


async def _booking_access(
    uow: UnitOfWork, principal: Principal, booking_id: str, *, manage: bool = False
) -> tuple[Booking, Access]:
    booking = await store.get_booking(uow, principal.district_id, booking_id)
    if booking is None:
        raise NotFound("no such conference booking", code="unknown-booking")
    access = await classroom_access(
        uow, principal, booking.classroom_id, manage=manage, what="conference booking"
    )
    if not access.manages and booking.student_id not in access.own_students:
        raise out_of_reach(principal, "conference booking")
    return booking, access


async def _view(
    uow: UnitOfWork, booking: Booking, manages: bool, availability: Availability | None = None
) -> BookingView:
    if availability is None or availability.availability_id != booking.availability_id:
        availability = await store.get_availability(
            uow, booking.district_id, booking.availability_id
        )
    assert availability is not None
    goals = await store.current_goals(uow, booking.district_id, booking.student_id)
    return BookingView(
        booking,
        availability.place,
        availability.video_link,
        availability.timezone,
        manages,
        tuple({k: v for k, v in g.items() if k in GOAL_FIELDS} for g in goals),
    )


GOAL_FIELDS = (
    "goal_id",
    "skill_code",
    "baseline",
    "target",
    "ends_on",
    "score",
    "progress_percent",
    "assessed_on",
    "met",
)


async def get_booking(uow: UnitOfWork, *, principal: Principal, booking_id: str) -> BookingView:
    booking, access = await _booking_access(uow, principal, booking_id)
    return await _view(uow, booking, access.manages)


async def cancel_booking(
    uow: UnitOfWork,
    *,
    principal: Principal,
    booking_id: str,
    reason_code: ConferenceReason | None,
    reason_note: str | None,
    now: datetime,
) -> BookingView:
    """The family cancels until the cutoff; staff at any time, with a reason the family reads."""
    booking, access = await _booking_access(uow, principal, booking_id)
    if not booking.active:
        return await _view(uow, booking, access.manages)
    availability = await store.get_availability(uow, booking.district_id, booking.availability_id)
    assert availability is not None
    by: ChangedBy = "staff" if access.manages else "family"
    if by == "family":
        rules.check_before_cutoff(booking, availability, now)
        reason_code, reason_note = reason_code or "family_request", None
    cancelled = rules.cancel(
        await interpreters.release_for(uow, booking),
        by=by,
        reason_code=reason_code,
        reason_note=reason_note,
        now=now,
    )
    await store.save_booking(uow, cancelled)
    await store.release_claim(uow, booking.district_id, booking.slot_id, booking.booking_id)
    freed = await store.get_slot(uow, booking.district_id, booking.slot_id)
    if freed is not None:
        await conferences_waitlist.offer_freed_slot(uow, booking.district_id, freed, now)
    await store.return_cap_token(
        uow, booking.district_id, booking.window_id, booking.guardian_id, booking.booking_id
    )
    uow.publish(
        ConferenceBookingCancelled.model_validate(
            {**_fields(cancelled), "by": by, "reason_code": cancelled.reason_code}
        )
    )
    return await _view(uow, cancelled, access.manages)


async def move_booking(
    uow: UnitOfWork,
    *,
    principal: Principal,
    booking_id: str,
    slot_id: str,
    reason_code: ConferenceReason | None,
    reason_note: str | None,
    now: datetime,
) -> BookingView:
    """Move a booking to another slot of the same teacher and window (family until the
    cutoff and inside the sign-up period; staff at any time)."""
    district_id = principal.district_id
    booking, access = await _booking_access(uow, principal, booking_id)
    if not booking.active:
        raise Conflict("this conference was cancelled", code="booking-cancelled")
    if booking.slot_id == slot_id:
        return await _view(uow, booking, access.manages)
    availability = await store.get_availability(uow, district_id, booking.availability_id)
    assert availability is not None
    slot = await store.get_slot(uow, district_id, slot_id)
    if slot is None:
        raise NotFound("no such conference slot", code="unknown-slot")
    by: ChangedBy = "staff" if access.manages else "family"
    if by == "family":
        rules.check_before_cutoff(booking, availability, now)
        target = await store.get_availability(uow, district_id, slot.availability_id)
        assert target is not None
        rules.check_signup_open(target, now)
        reason_code, reason_note = reason_code or "family_request", None
    rules.check_slot_ahead(slot, now)
    moved = rules.move(
        await interpreters.release_for(uow, booking),
        slot,
        by=by,
        reason_code=reason_code,
        reason_note=reason_note,
        now=now,
    )
    moved = await interpreters.reserve_for(uow, moved, slot)
    try:
        await store.claim_slot(
            uow,
            district_id,
            slot_id,
            holder=principal.subject if by == "family" else booking.guardian_id,
            student_id=booking.student_id,
            expires_at=None,
            booking_id=booking.booking_id,
            now=now,
        )
    except store.OfferLapsed as lapsed:
        raise conferences_waitlist.OfferToPassOn(lapsed.claim) from None
    except store.SlotTaken:
        raise _taken() from None
    await store.release_claim(uow, district_id, booking.slot_id, booking.booking_id)
    try:
        await store.save_booking(uow, moved)
    except store.DuplicateBooking as exc:
        raise _duplicate(exc) from None
    freed = await store.get_slot(uow, district_id, booking.slot_id)
    if freed is not None:
        await conferences_waitlist.offer_freed_slot(uow, district_id, freed, now)
    uow.publish(
        ConferenceBookingMoved.model_validate(
            {
                **_fields(moved),
                "by": by,
                "reason_code": moved.reason_code,
                "previous_slot_id": booking.slot_id,
                "previous_starts_at": booking.starts_at,
            }
        )
    )
    return await _view(uow, moved, access.manages)


async def my_bookings(
    uow: UnitOfWork, *, principal: Principal, now: datetime, limit: int
) -> list[BookingView]:
    """A guardian's coming conferences, for all their children, whoever booked them."""
    children = await roster.children_of(uow, principal.district_id, principal.subject)
    if not children:
        return []
    found = await store.bookings_of_students(
        uow, principal.district_id, [c.student_id for c in children], now, limit
    )
    return [await _view(uow, b, False) for b in found if b.active]


def local_day(moment: datetime, timezone: str) -> str:
    return local_date(moment, timezone).isoformat()
