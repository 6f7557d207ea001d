"""Routes of engagement calendars: templates, applying one to a school, meeting windows."""

from __future__ import annotations

from typing import Annotated

from aptt_platform.deps import CurrentUser, DistrictAdmin, Now, SchoolAdmin, Staff, Store
from aptt_platform.web import Page, problems
from fastapi import APIRouter, Path, Response, status

from aptt_scheduling.api.schemas import (
    AppliedCalendarOut,
    ApplyCalendarIn,
    CalendarWindowOut,
    EngagementCalendarOut,
    MeetingWindowOut,
    PathId,
    SchoolYearQuery,
    WindowDatesIn,
)
from aptt_scheduling.domain.calendars import CalendarTemplate, TemplateDraft
from aptt_scheduling.service import calendar_windows as calendar_windows_service
from aptt_scheduling.service import calendars as service

router = APIRouter(tags=["engagement calendars"])


@router.get("/calendar-templates", summary="Built-in and district calendar templates")
async def list_templates(principal: Staff, mongo: Store) -> Page[CalendarTemplate]:
    items = await mongo.run(service.list_templates, district_id=principal.district_id)
    return Page(items=items)


@router.post(
    "/calendar-templates",
    status_code=status.HTTP_201_CREATED,
    summary="Define a district calendar template",
)
async def create_template(
    draft: TemplateDraft, principal: DistrictAdmin, mongo: Store, now: Now
) -> CalendarTemplate:
    return await mongo.run(service.create_template, principal=principal, draft=draft, now=now)


@router.get("/calendar-templates/{template_id}", summary="One calendar template")
async def get_template(template_id: PathId, principal: Staff, mongo: Store) -> CalendarTemplate:
    return await mongo.run(service.find_template, principal.district_id, template_id)


@router.post(
    "/schools/{school_id}/engagement-calendars",
    summary="Apply a template to a school for a school year: windows for every classroom",
    responses={200: {"description": "the school already had this calendar; nothing duplicated"}},
    status_code=status.HTTP_201_CREATED,
)
async def apply_calendar(
    school_id: PathId,
    body: ApplyCalendarIn,
    principal: SchoolAdmin,
    mongo: Store,
    now: Now,
    response: Response,
) -> AppliedCalendarOut:
    result = await mongo.run(
        service.apply_calendar,
        principal=principal,
        school_id=school_id,
        template_id=body.template_id,
        school_year=body.school_year,
        now=now,
    )
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return AppliedCalendarOut.applied(result)


@router.get("/schools/{school_id}/engagement-calendars", summary="A school's engagement calendars")
async def list_calendars(
    school_id: PathId, principal: Staff, mongo: Store
) -> Page[EngagementCalendarOut]:
    found = await mongo.run(service.list_calendars, principal=principal, school_id=school_id)
    return Page(items=[EngagementCalendarOut.of(c) for c in found])


@router.get(
    "/classrooms/{classroom_id}/meeting-windows",
    summary="A classroom's meeting windows, with the team meetings scheduled in each",
)
async def meeting_windows(
    classroom_id: PathId,
    principal: CurrentUser,
    mongo: Store,
    school_year: SchoolYearQuery | None = None,
) -> Page[MeetingWindowOut]:
    views = await mongo.run(
        service.meeting_windows,
        principal=principal,
        classroom_id=classroom_id,
        school_year=school_year,
    )
    return Page(items=[MeetingWindowOut.of(v) for v in views])


Sequence = Annotated[int, Path(ge=1, le=24, description="the window's place in the template")]


@router.get(
    "/schools/{school_id}/engagement-calendars/{calendar_id}/windows",
    summary="The windows of a school's calendar, with their classrooms' meetings and bookings",
    responses=problems(403, 404),
)
async def calendar_windows(
    school_id: PathId, calendar_id: PathId, principal: Staff, mongo: Store
) -> Page[CalendarWindowOut]:
    views = await mongo.run(
        calendar_windows_service.calendar_windows,
        principal=principal,
        school_id=school_id,
        calendar_id=calendar_id,
    )
    return Page(items=[CalendarWindowOut.of_view(v) for v in views])


@router.patch(
    "/schools/{school_id}/engagement-calendars/{calendar_id}/windows/{sequence}",
    summary="Move one window of a school's calendar, for every classroom of the school",
    responses={
        **problems(403, 404, 409),
        409: {
            **problems(409)[409],
            "description": "the dates overlap another window of the same kind "
            "(`windows-overlap`), or team meetings or booked conferences would fall outside "
            "the window (`window-holds-meetings`; `outside` says how many)",
        },
    },
)
async def change_window_dates(
    school_id: PathId,
    calendar_id: PathId,
    sequence: Sequence,
    body: WindowDatesIn,
    principal: SchoolAdmin,
    mongo: Store,
    now: Now,
) -> CalendarWindowOut:
    view = await mongo.run(
        calendar_windows_service.change_window_dates,
        principal=principal,
        school_id=school_id,
        calendar_id=calendar_id,
        sequence=sequence,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        now=now,
    )
    return CalendarWindowOut.of_view(view)
