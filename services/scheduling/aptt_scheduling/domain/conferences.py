"""One-to-one conferences: availability cut into slots, sign-up periods, holds and bookings.

Rules without I/O. What must hold when many families press at once (one booking per slot,
one per student and window, a guardian's cap, holds) is kept by the store's unique indexes
and conditional writes (decision 0310); the functions here decide what those writes are.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo

from aptt_contracts.scheduling import ChangedBy, ConferenceReason
from aptt_platform.errors import Conflict, DomainError

MIN_SLOT_MINUTES = 10
MAX_SLOT_MINUTES = 60
DEFAULT_SLOT_MINUTES = 30
MAX_BUFFER_MINUTES = 60
MAX_SLOTS = 300  # per availability: a long day of 10-minute slots is about 60
BookingStatus = Literal["booked", "cancelled"]


@dataclass(frozen=True)
class Break:
    starts: time
    ends: time


@dataclass(frozen=True)
class DayRange:
    """Hours on one school-local day in which a teacher meets families, less its breaks."""

    day: date
    starts: time
    ends: time
    breaks: tuple[Break, ...] = ()


@dataclass(frozen=True)
class SlotTime:
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Availability:
    availability_id: str
    district_id: str
    window_id: str
    classroom_id: str
    school_id: str
    timezone: str
    days: tuple[DayRange, ...]
    slot_minutes: int
    buffer_minutes: int
    place: str
    video_link: str | None
    signup_opens_at: datetime
    signup_closes_at: datetime
    change_cutoff_hours: int
    student_led: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Slot:
    slot_id: str
    availability_id: str
    window_id: str
    classroom_id: str
    school_id: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Booking:
    booking_id: str
    district_id: str
    slot_id: str
    availability_id: str
    window_id: str
    classroom_id: str
    school_id: str
    student_id: str
    guardian_id: str
    starts_at: datetime
    ends_at: datetime
    student_led: bool
    booked_by: str
    by: ChangedBy
    created_at: datetime
    updated_at: datetime
    status: BookingStatus = "booked"
    sequence: int = 0
    interpreter_language: str | None = None
    interpreter_id: str | None = None
    reason_code: ConferenceReason | None = None
    # The teacher's own words to the family: kept here only, never on a topic or in a log.
    reason_note: str | None = None
    previous_slot_ids: tuple[str, ...] = field(default_factory=tuple)

    @property
    def active(self) -> bool:
        return self.status == "booked"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


def slot_id(district_id: str, classroom_id: str, starts_at: datetime) -> str:
    """The same classroom and start give the same slot, so republished availability keeps
    the slots (and the bookings in them) it already had."""
    return "cs-" + _digest(district_id, classroom_id, starts_at.isoformat())


def check_slot_shape(slot_minutes: int, buffer_minutes: int) -> None:
    if not MIN_SLOT_MINUTES <= slot_minutes <= MAX_SLOT_MINUTES:
        raise DomainError(
            f"a conference slot lasts {MIN_SLOT_MINUTES} to {MAX_SLOT_MINUTES} minutes",
            code="bad-slot-length",
        )
    if not 0 <= buffer_minutes <= MAX_BUFFER_MINUTES:
        raise DomainError(
            f"the buffer between slots is 0 to {MAX_BUFFER_MINUTES} minutes", code="bad-buffer"
        )


def cut_slots(
    days: tuple[DayRange, ...], *, timezone: str, slot_minutes: int, buffer_minutes: int
) -> list[SlotTime]:
    """The slots of the days' hours in the school's zone, skipping breaks, in UTC."""
    check_slot_shape(slot_minutes, buffer_minutes)
    zone = ZoneInfo(timezone)
    length = timedelta(minutes=slot_minutes)
    step = timedelta(minutes=slot_minutes + buffer_minutes)
    slots: list[SlotTime] = []
    for day in sorted(days, key=lambda d: (d.day, d.starts)):
        if day.ends <= day.starts:
            raise DomainError("a day's hours must end after they start", code="bad-hours")
        start = datetime.combine(day.day, day.starts, zone)
        end = datetime.combine(day.day, day.ends, zone)
        breaks = [
            (datetime.combine(day.day, b.starts, zone), datetime.combine(day.day, b.ends, zone))
            for b in day.breaks
        ]
        at = start
        while at + length <= end:
            clash = next((b for b in breaks if at < b[1] and b[0] < at + length), None)
            if clash is not None:
                at = max(at + timedelta(minutes=1), clash[1])
                continue
            slots.append(SlotTime(at.astimezone(UTC), (at + length).astimezone(UTC)))
            at += step
    check_no_overlap(slots)
    if len(slots) > MAX_SLOTS:
        raise DomainError(f"at most {MAX_SLOTS} slots per availability", code="too-many-slots")
    return slots


def check_no_overlap(slots: list[SlotTime]) -> None:
    ordered = sorted(slots, key=lambda s: s.starts_at)
    for first, second in pairwise(ordered):
        if second.starts_at < first.ends_at:
            raise DomainError("two of the days' hours overlap", code="overlapping-hours")


def check_days_in_window(days: tuple[DayRange, ...], starts_on: date, ends_on: date) -> None:
    outside = sorted({d.day.isoformat() for d in days if not starts_on <= d.day <= ends_on})
    if outside:
        raise DomainError(
            "every day must fall in the conference window",
            code="outside-window",
            days=outside,
            window_starts_on=starts_on.isoformat(),
            window_ends_on=ends_on.isoformat(),
        )


def signup_period(
    slots: list[SlotTime], *, opens_at: datetime, closes_at: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """When families may book: given, or closing 24 hours before the first slot (to the
    second, as they are stored and shown)."""
    opens_at = opens_at.astimezone(UTC).replace(microsecond=0)
    closes_at = closes_at.astimezone(UTC).replace(microsecond=0) if closes_at else None
    if not slots:
        raise DomainError("the hours give no slot", code="no-slots")
    first = min(s.starts_at for s in slots)
    if first <= now:
        raise DomainError("conference slots must be in the future", code="in-the-past")
    closes = closes_at or first - timedelta(hours=24)
    if closes <= opens_at:
        raise DomainError(
            "sign-up must close after it opens",
            code="bad-signup-period",
            signup_opens_at=opens_at.isoformat(),
            signup_closes_at=closes.isoformat(),
        )
    return opens_at, closes


def check_signup_open(availability: Availability, now: datetime) -> None:
    """Families book inside the school's sign-up period; staff at any time (not checked)."""
    dates = {
        "signup_opens_at": availability.signup_opens_at.isoformat(),
        "signup_closes_at": availability.signup_closes_at.isoformat(),
    }
    if now < availability.signup_opens_at:
        raise Conflict(
            f"sign-up opens at {dates['signup_opens_at']}", code="signup-not-open", **dates
        )
    if now >= availability.signup_closes_at:
        raise Conflict(
            f"sign-up closed at {dates['signup_closes_at']}", code="signup-closed", **dates
        )


def check_before_cutoff(booking: Booking, availability: Availability, now: datetime) -> None:
    """Families change or cancel until a cutoff before the conference; staff at any time."""
    cutoff = booking.starts_at - timedelta(hours=availability.change_cutoff_hours)
    if now >= cutoff:
        raise Conflict(
            "this conference can no longer be changed online; please call the school",
            code="change-cutoff-passed",
            cutoff_at=cutoff.isoformat(),
            starts_at=booking.starts_at.isoformat(),
        )


def check_slot_ahead(slot: Slot, now: datetime) -> None:
    if slot.starts_at <= now:
        raise Conflict("this slot has already started", code="slot-in-the-past")


def cancel(
    booking: Booking,
    *,
    by: ChangedBy,
    reason_code: ConferenceReason | None,
    reason_note: str | None,
    now: datetime,
) -> Booking:
    return replace(
        booking,
        status="cancelled",
        by=by,
        reason_code=reason_code,
        reason_note=reason_note,
        sequence=booking.sequence + 1,
        updated_at=now,
    )


def move(
    booking: Booking,
    slot: Slot,
    *,
    by: ChangedBy,
    reason_code: ConferenceReason | None,
    reason_note: str | None,
    now: datetime,
) -> Booking:
    if slot.classroom_id != booking.classroom_id or slot.window_id != booking.window_id:
        raise DomainError(
            "a conference moves to another slot of the same teacher and window", code="bad-move"
        )
    return replace(
        booking,
        slot_id=slot.slot_id,
        availability_id=slot.availability_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        by=by,
        reason_code=reason_code,
        reason_note=reason_note,
        sequence=booking.sequence + 1,
        previous_slot_ids=(*booking.previous_slot_ids, booking.slot_id),
        updated_at=now,
    )
