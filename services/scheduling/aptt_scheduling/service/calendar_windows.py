"""Use cases of one window of a school's engagement calendar: its classrooms' meetings and
bookings, and moving its dates (decision 0608)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from aptt_contracts.scheduling import MeetingWindow, MeetingWindowsChanged
from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import Conflict, NotFound
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.domain.calendars import (
    EngagementCalendar,
    PlannedWindow,
    WindowDates,
    check_new_dates,
    plan,
    year_span,
)
from aptt_scheduling.domain.meetings import local_date
from aptt_scheduling.domain.roster import manages_school
from aptt_scheduling.service.calendars import (
    ensure_windows,
    find_template,
    school_timezone,
    school_today,
)
from aptt_scheduling.store import calendars as store
from aptt_scheduling.store import conferences as conference_store
from aptt_scheduling.store import meetings as meeting_store
from aptt_scheduling.store import roster


@dataclass(frozen=True)
class CalendarWindowView:
    """One window of a school's calendar, with what its classrooms hold in it."""

    window: PlannedWindow
    moved: bool
    classrooms: int
    team_meetings: int
    bookings: int


async def _calendar_of_school(
    uow: UnitOfWork, principal: Principal, school_id: str, calendar_id: str
) -> EngagementCalendar:
    calendar = await store.get_calendar_by_id(uow, principal.district_id, calendar_id)
    if calendar is None or calendar.school_id != school_id:
        raise NotFound("the school has no such engagement calendar", code="unknown-calendar")
    return calendar


async def _dated_windows(
    uow: UnitOfWork, district_id: str, calendar: EngagementCalendar
) -> list[PlannedWindow]:
    template = await find_template(uow, district_id, calendar.template_id)
    return calendar.dated(plan(template, calendar.school_year))


async def calendar_windows(
    uow: UnitOfWork, *, principal: Principal, school_id: str, calendar_id: str
) -> list[CalendarWindowView]:
    """The windows of a school's calendar, each with its classrooms' meetings and bookings."""
    district_id = principal.district_id
    calendar = await _calendar_of_school(uow, principal, school_id, calendar_id)
    if not principal.may_see_school(school_id):
        raise out_of_reach(principal, "school")
    given = await store.windows_of_calendar(uow, district_id, calendar_id)
    moved = {m.sequence for m in calendar.moved}
    views = []
    for window in await _dated_windows(uow, district_id, calendar):
        mine = [w for w in given if w.sequence == window.sequence]
        ids = [w.window_id for w in mine]
        meetings = await meeting_store.meeting_starts_in_windows(uow, district_id, ids)
        bookings = await conference_store.booking_starts_in_windows(uow, district_id, ids)
        views.append(
            CalendarWindowView(
                window=window,
                moved=window.sequence in moved,
                classrooms=len(ids),
                team_meetings=len(meetings),
                bookings=len(bookings),
            )
        )
    return views


async def change_window_dates(
    uow: UnitOfWork,
    *,
    principal: Principal,
    school_id: str,
    calendar_id: str,
    sequence: int,
    starts_on: date,
    ends_on: date,
    now: datetime,
) -> CalendarWindowView:
    """Move one window of a school's calendar, for every classroom of the school.

    Refused when a team meeting or a booked conference already in the window would fall
    outside it: moving the window would not move them, and families hold those dates.
    """
    district_id = principal.district_id
    calendar = await _calendar_of_school(uow, principal, school_id, calendar_id)
    if not manages_school(principal, school_id):
        raise out_of_reach(principal, "school")
    template = await find_template(uow, district_id, calendar.template_id)
    windows = calendar.dated(plan(template, calendar.school_year))
    year = year_span(template, calendar.school_year)
    changed = check_new_dates(windows, sequence, starts_on, ends_on, year)
    # Serializes with applying the calendar and with a classroom being rostered (0302).
    await roster.lock(uow, district_id, "school", school_id)
    given = await store.windows_of_calendar(uow, district_id, calendar_id, sequence)
    ids = [w.window_id for w in given]
    zone = await school_timezone(uow, district_id, school_id)
    meetings = await meeting_store.meeting_starts_in_windows(uow, district_id, ids)
    bookings = await conference_store.booking_starts_in_windows(uow, district_id, ids)
    left_out = [
        s for s in [*meetings, *bookings] if not starts_on <= local_date(s, zone) <= ends_on
    ]
    if left_out:
        raise Conflict(
            f"{len(left_out)} team meeting(s) or booked conference(s) would fall outside the "
            "window; move or cancel them first",
            code="window-holds-meetings",
            outside=len(left_out),
        )
    current = next(w for w in windows if w.sequence == sequence)
    view = CalendarWindowView(
        window=changed,
        moved=True,
        classrooms=len(ids),
        team_meetings=len(meetings),
        bookings=len(bookings),
    )
    if (current.starts_on, current.ends_on) == (starts_on, ends_on):
        return view
    dates = WindowDates(sequence=sequence, starts_on=starts_on, ends_on=ends_on)
    await store.set_window_dates(uow, district_id, calendar, dates)
    await store.move_windows(uow, district_id, calendar_id, dates)
    for window in given:
        uow.publish(
            MeetingWindowsChanged(
                district_id=district_id,
                classroom_id=window.classroom_id,
                school_id=window.school_id,
                calendar_id=calendar_id,
                template_id=calendar.template_id,
                school_year=calendar.school_year,
                windows=[
                    MeetingWindow(
                        window_id=window.window_id,
                        kind=window.kind,
                        starts_on=starts_on,
                        ends_on=ends_on,
                        duration_minutes=window.duration_minutes,
                        focus_area=window.focus_area,
                    )
                ],
            )
        )
    # A window that had ended when the calendar was applied, moved to dates still to come,
    # reaches the classrooms now.
    today = await school_today(uow, district_id, school_id, now)
    for classroom in await roster.classrooms_of_school(uow, district_id, school_id):
        await ensure_windows(uow, district_id, classroom, calendar, [changed], today)
    return view
