"""Routes of team meetings: schedule, read, list, reschedule, cancel, calendar file."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aptt_platform.deps import CurrentUser, Guardian, Now, Staff, Store
from aptt_platform.web import Cursor, Limit, Page, decoded_cursor, encoded_cursor, problems
from fastapi import APIRouter, Header, Query, Response, status

from aptt_scheduling.api.ics import meeting_calendar
from aptt_scheduling.api.schemas import (
    LANGUAGE_TAG,
    PathId,
    RescheduleIn,
    TeamMeetingIn,
    TeamMeetingOut,
)
from aptt_scheduling.i18n import CATALOGUES
from aptt_scheduling.service import meetings as service
from aptt_scheduling.service.meetings import MeetingDraft

router = APIRouter(tags=["team meetings"])


@router.post(
    "/team-meetings",
    status_code=status.HTTP_201_CREATED,
    summary="Schedule a classroom's team meeting (teacher of the classroom, or an admin)",
    responses=problems(404, 409),
)
async def schedule(body: TeamMeetingIn, principal: Staff, mongo: Store, now: Now) -> TeamMeetingOut:
    draft = MeetingDraft(
        classroom_id=body.classroom_id,
        starts_at=body.starts_at,
        duration_minutes=body.duration_minutes,
        location=body.location,
        focus_skill_code=body.focus_skill_code,
        agenda=tuple(body.agenda),
        window_id=body.window_id,
    )
    view = await mongo.run(service.schedule_meeting, principal=principal, draft=draft, now=now)
    return TeamMeetingOut.of(view)


# Declared before /team-meetings/{meeting_id}, which would otherwise take "x.ics" as an id.
@router.get(
    "/team-meetings/{meeting_id}.ics",
    summary="The team meeting as an iCalendar file",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def calendar_file(
    meeting_id: PathId,
    principal: CurrentUser,
    mongo: Store,
    now: Now,
    lang: str | None = Query(
        default=None,
        max_length=35,
        pattern=LANGUAGE_TAG,
        description="language of the texts (e.g. es, es-MX); default: Accept-Language",
    ),
    accept_language: str | None = Header(default=None, max_length=1000),
) -> Response:
    view = await mongo.run(service.get_meeting, principal=principal, meeting_id=meeting_id)
    language = CATALOGUES.language_for(lang) if lang else CATALOGUES.negotiate(accept_language)
    return Response(
        meeting_calendar(view, language=language, now=now),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{meeting_id}.ics"'},
    )


@router.get("/team-meetings/{meeting_id}", summary="A team meeting")
async def get_meeting(meeting_id: PathId, principal: CurrentUser, mongo: Store) -> TeamMeetingOut:
    view = await mongo.run(service.get_meeting, principal=principal, meeting_id=meeting_id)
    return TeamMeetingOut.of(view)


@router.post("/team-meetings/{meeting_id}/reschedule", summary="Move a team meeting")
async def reschedule(
    meeting_id: PathId, body: RescheduleIn, principal: Staff, mongo: Store, now: Now
) -> TeamMeetingOut:
    view = await mongo.run(
        service.reschedule_meeting,
        principal=principal,
        meeting_id=meeting_id,
        starts_at=body.starts_at,
        duration_minutes=body.duration_minutes,
        location=body.location,
        now=now,
    )
    return TeamMeetingOut.of(view)


@router.post("/team-meetings/{meeting_id}/cancel", summary="Cancel a team meeting")
async def cancel(meeting_id: PathId, principal: Staff, mongo: Store, now: Now) -> TeamMeetingOut:
    view = await mongo.run(
        service.cancel_meeting, principal=principal, meeting_id=meeting_id, now=now
    )
    return TeamMeetingOut.of(view)


@router.get(
    "/me/team-meetings",
    summary="A guardian's coming team meetings, for all their children (soonest first)",
)
async def my_meetings(
    principal: Guardian, mongo: Store, now: Now, limit: Limit = 20
) -> Page[TeamMeetingOut]:
    views = await mongo.run(service.my_meetings, principal=principal, now=now, limit=limit)
    return Page(items=[TeamMeetingOut.of(v) for v in views])


def _after(raw: str) -> tuple[datetime, str]:
    start, meeting_id = raw.split("|", 1)
    return datetime.fromisoformat(start), meeting_id


@router.get(
    "/classrooms/{classroom_id}/team-meetings",
    summary="A classroom's team meetings by start time, paginated",
)
async def list_meetings(
    classroom_id: PathId,
    principal: CurrentUser,
    mongo: Store,
    limit: Limit = 50,
    cursor: Cursor = None,
    meeting_status: Literal["scheduled", "cancelled"] | None = Query(default=None, alias="status"),
) -> Page[TeamMeetingOut]:
    views = await mongo.run(
        service.list_meetings,
        principal=principal,
        classroom_id=classroom_id,
        status=meeting_status,
        after=decoded_cursor(cursor, _after) if cursor else None,
        limit=limit,
    )
    last = views[-1].meeting if views else None
    next_cursor = (
        encoded_cursor(last.starts_at.isoformat(), last.meeting_id)
        if last and len(views) == limit
        else None
    )
    return Page(items=[TeamMeetingOut.of(v) for v in views], next_cursor=next_cursor)
