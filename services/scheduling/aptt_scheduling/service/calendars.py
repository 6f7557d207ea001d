"""Use cases of engagement calendars: templates, applying one to a school, meeting windows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from aptt_contracts.scheduling import MeetingWindow, MeetingWindowsCreated
from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import Conflict, DomainError, NotFound
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.domain.calendars import (
    BUILT_IN_TEMPLATES,
    CalendarTemplate,
    ClassroomWindow,
    EngagementCalendar,
    PlannedWindow,
    TemplateDraft,
    calendar_id,
    plan,
    still_open,
    window_id,
)
from aptt_scheduling.domain.meetings import local_date
from aptt_scheduling.domain.roster import Classroom, manages_school
from aptt_scheduling.service.access import classroom_access
from aptt_scheduling.settings import Config
from aptt_scheduling.store import calendars as store
from aptt_scheduling.store import meetings as meeting_store
from aptt_scheduling.store import roster


async def create_template(
    uow: UnitOfWork, *, principal: Principal, draft: TemplateDraft, now: datetime
) -> CalendarTemplate:
    """Define a district's own calendar template."""
    district_id = principal.district_id
    built_in_names = {t.name.casefold() for t in BUILT_IN_TEMPLATES.values()}
    if draft.name.casefold() in built_in_names or await store.template_named(
        uow, district_id, draft.name
    ):
        raise Conflict("a calendar template with that name exists", code="duplicate-template")
    template = CalendarTemplate(template_id=f"tpl-{uuid.uuid4().hex[:16]}", **draft.model_dump())
    await store.insert_template(uow, district_id, template, created_by=principal.subject, now=now)
    return template


async def list_templates(uow: UnitOfWork, *, district_id: str) -> list[CalendarTemplate]:
    """The built-in templates first, then the district's own."""
    return [*BUILT_IN_TEMPLATES.values(), *await store.list_templates(uow, district_id)]


async def find_template(uow: UnitOfWork, district_id: str, template_id: str) -> CalendarTemplate:
    template = BUILT_IN_TEMPLATES.get(template_id) or await store.get_template(
        uow, district_id, template_id
    )
    if template is None:
        raise NotFound("no such calendar template", code="unknown-template")
    return template


async def school_timezone(uow: UnitOfWork, district_id: str, school_id: str) -> str:
    """The school's IANA zone, or the configured default until the roster gives one."""
    school = await roster.get_school(uow, district_id, school_id)
    return (school and school.timezone) or uow.config_as(Config).default_timezone


async def school_today(uow: UnitOfWork, district_id: str, school_id: str, now: datetime) -> date:
    return local_date(now, await school_timezone(uow, district_id, school_id))


async def _known_school(uow: UnitOfWork, principal: Principal, school_id: str) -> None:
    if not await roster.school_is_known(uow, principal.district_id, school_id):
        raise NotFound("no such school in the roster", code="unknown-school")


@dataclass(frozen=True)
class AppliedCalendar:
    calendar: EngagementCalendar
    template: CalendarTemplate
    windows: list[PlannedWindow]
    classrooms: int
    windows_created: int
    created: bool


async def apply_calendar(
    uow: UnitOfWork,
    *,
    principal: Principal,
    school_id: str,
    template_id: str,
    school_year: str,
    now: datetime,
) -> AppliedCalendar:
    """Give every classroom of a school the template's windows for a school year.

    A school has one engagement calendar per school year. Applying the same template again
    creates only what is missing (a classroom rostered since); another template is refused.
    """
    district_id = principal.district_id
    await _known_school(uow, principal, school_id)
    if not manages_school(principal, school_id):
        raise out_of_reach(principal, "school")
    template = await find_template(uow, district_id, template_id)
    planned = plan(template, school_year)
    today = await school_today(uow, district_id, school_id, now)
    if not still_open(planned, today):
        raise DomainError(
            f"every window of {school_year} has already ended", code="school-year-over"
        )
    # Serializes with a classroom being rostered at the same moment (decision 0302).
    await roster.lock(uow, district_id, "school", school_id)
    existing = await store.get_calendar(uow, district_id, school_id, school_year)
    if existing is not None and existing.template_id != template_id:
        raise Conflict(
            f"the school already follows template {existing.template_id} in {school_year}",
            code="calendar-exists",
            calendar_id=existing.calendar_id,
        )
    calendar = existing or EngagementCalendar(
        calendar_id=calendar_id(district_id, school_id, school_year),
        school_id=school_id,
        school_year=school_year,
        template_id=template_id,
        created_by=principal.subject,
        created_at=now,
    )
    if existing is None:
        await store.insert_calendar(uow, district_id, calendar)
    planned = calendar.dated(planned)
    classrooms = await roster.classrooms_of_school(uow, district_id, school_id)
    created = 0
    for classroom in classrooms:
        created += len(await ensure_windows(uow, district_id, classroom, calendar, planned, today))
    return AppliedCalendar(
        calendar=calendar,
        template=template,
        windows=planned,
        classrooms=len(classrooms),
        windows_created=created,
        created=existing is None,
    )


async def ensure_windows(
    uow: UnitOfWork,
    district_id: str,
    classroom: Classroom,
    calendar: EngagementCalendar,
    planned: list[PlannedWindow],
    today: date,
) -> list[ClassroomWindow]:
    created = []
    for window in still_open(planned, today):
        stored = await store.add_window(
            uow,
            district_id,
            window_id=window_id(
                district_id, classroom.classroom_id, calendar.calendar_id, window.sequence
            ),
            classroom_id=classroom.classroom_id,
            school_id=classroom.school_id,
            calendar=calendar,
            planned=window,
        )
        if stored is not None:
            created.append(stored)
    if created:
        uow.publish(
            MeetingWindowsCreated(
                district_id=district_id,
                classroom_id=classroom.classroom_id,
                school_id=classroom.school_id,
                calendar_id=calendar.calendar_id,
                template_id=calendar.template_id,
                school_year=calendar.school_year,
                windows=[
                    MeetingWindow(
                        window_id=w.window_id,
                        kind=w.kind,
                        starts_on=w.starts_on,
                        ends_on=w.ends_on,
                        duration_minutes=w.duration_minutes,
                        focus_area=w.focus_area,
                    )
                    for w in created
                ],
            )
        )
    return created


async def give_classroom_its_windows(
    uow: UnitOfWork,
    district_id: str,
    classroom: Classroom,
    *,
    now: datetime,
) -> None:
    """A classroom rostered after its school applied a calendar gets the windows still open."""
    await roster.lock(uow, district_id, "school", classroom.school_id)
    calendars = await store.calendars_of_school(uow, district_id, classroom.school_id)
    if not calendars:
        return
    today = await school_today(uow, district_id, classroom.school_id, now)
    for calendar in calendars:
        template = await find_template(uow, district_id, calendar.template_id)
        planned = calendar.dated(plan(template, calendar.school_year))
        await ensure_windows(uow, district_id, classroom, calendar, planned, today)


async def list_calendars(
    uow: UnitOfWork, *, principal: Principal, school_id: str
) -> list[EngagementCalendar]:
    await _known_school(uow, principal, school_id)
    if not principal.may_see_school(school_id):
        raise out_of_reach(principal, "school")
    return await store.calendars_of_school(uow, principal.district_id, school_id)


@dataclass(frozen=True)
class WindowView:
    window: ClassroomWindow
    meeting_ids: list[str]


async def meeting_windows(
    uow: UnitOfWork, *, principal: Principal, classroom_id: str, school_year: str | None
) -> list[WindowView]:
    """A classroom's windows, with the team meetings scheduled in each."""
    await classroom_access(uow, principal, classroom_id, manage=False)
    windows = await store.windows_of_classroom(
        uow, principal.district_id, classroom_id, school_year
    )
    meetings = await meeting_store.meetings_in_windows(
        uow, principal.district_id, [w.window_id for w in windows]
    )
    return [WindowView(window=w, meeting_ids=meetings.get(w.window_id, [])) for w in windows]
