"""The teacher's view of conferences: the day sheet and the calendar feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aptt_platform.auth import Principal
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.domain.conferences import Booking, Slot
from aptt_scheduling.service.access import classroom_access
from aptt_scheduling.service.calendars import school_timezone
from aptt_scheduling.store import conferences as store

FEED_DAYS = 120


@dataclass(frozen=True)
class SheetRow:
    slot: Slot
    booking: Booking | None
    goals: tuple[dict[str, object], ...]


@dataclass(frozen=True)
class DaySheet:
    classroom_id: str
    day: date
    timezone: str
    rows: list[SheetRow]
    # Students of the class with no conference yet in the day's windows: for a call home.
    not_booked: list[str]


async def day_sheet(
    uow: UnitOfWork, *, principal: Principal, classroom_id: str, day: date
) -> DaySheet:
    """Every slot of the day in order, with its family, language, interpreter, student-led
    flag and the student's goals; and the families of the class not booked yet."""
    district_id = principal.district_id
    access = await classroom_access(uow, principal, classroom_id, manage=True)
    timezone = await school_timezone(uow, district_id, access.classes.classroom.school_id)
    zone = ZoneInfo(timezone)
    since = datetime.combine(day, time(0), zone)
    until = since + timedelta(days=1)
    slots = [
        s
        for s in await store.slots_of_classroom_between(
            uow, district_id, classroom_id, since, until
        )
        if s.starts_at >= since
    ]
    bookings = {
        b.slot_id: b
        for b in await store.bookings_of_classroom(uow, district_id, classroom_id, since, until)
    }
    rows = []
    for slot in slots:
        booking = bookings.get(slot.slot_id)
        goals = (
            tuple(await store.current_goals(uow, district_id, booking.student_id))
            if booking
            else ()
        )
        rows.append(SheetRow(slot, booking, goals))
    windows = sorted({s.window_id for s in slots})
    booked = await store.booked_students_of_windows(uow, district_id, windows) if windows else set()
    not_booked = sorted(access.classes.student_ids - booked) if windows else []
    return DaySheet(classroom_id, day, timezone, rows, not_booked)


async def classroom_feed(
    uow: UnitOfWork, *, principal: Principal, classroom_id: str, now: datetime
) -> list[Booking]:
    """The classroom's coming booked conferences, for the teacher's calendar."""
    await classroom_access(uow, principal, classroom_id, manage=True)
    return await store.bookings_of_classroom(
        uow, principal.district_id, classroom_id, now, now + timedelta(days=FEED_DAYS)
    )
