"""Use cases of team meetings: schedule, reschedule, cancel, read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from aptt_platform.auth import Principal
from aptt_platform.errors import Conflict
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.domain import meetings as rules
from aptt_scheduling.domain.meetings import ClassReportRef, TeamMeeting, Window
from aptt_scheduling.service.access import classroom_access, meeting_access
from aptt_scheduling.service.calendars import school_timezone
from aptt_scheduling.store import calendars as calendar_store
from aptt_scheduling.store import meetings as store
from aptt_scheduling.store import roster


@dataclass(frozen=True)
class MeetingDraft:
    classroom_id: str
    starts_at: datetime
    duration_minutes: int
    location: str
    focus_skill_code: str
    agenda: tuple[str, ...]
    window_id: str | None = None


@dataclass(frozen=True)
class MeetingView:
    meeting: TeamMeeting
    timezone: str
    class_report: ClassReportRef | None = None
    your_students: frozenset[str] = frozenset()


async def _window_of(
    uow: UnitOfWork,
    district_id: str,
    classroom_id: str,
    window_id: str | None,
    starts_at: datetime,
    timezone: str,
) -> str | None:
    """The window a meeting falls in: the one named (checked), else the one that fits."""
    day = rules.local_date(starts_at, timezone)
    if window_id is not None:
        stored = await calendar_store.get_window(uow, district_id, window_id)
        rules.check_window(stored.as_window() if stored else None, classroom_id, day)
        return window_id
    windows: list[Window] = [
        w.as_window()
        for w in await calendar_store.windows_of_classroom(uow, district_id, classroom_id)
    ]
    found = rules.window_for(windows, day)
    return found.window_id if found else None


async def schedule_meeting(
    uow: UnitOfWork, *, principal: Principal, draft: MeetingDraft, now: datetime
) -> MeetingView:
    """A teacher (or an admin of the school) schedules a classroom's team meeting."""
    district_id = principal.district_id
    access = await classroom_access(uow, principal, draft.classroom_id, manage=True)
    classroom = access.classes.classroom
    if classroom.removed:
        raise Conflict("the classroom is no longer on the roster", code="classroom-removed")
    rules.check_duration(draft.duration_minutes)
    rules.check_starts_in_the_future(draft.starts_at, now)
    rules.check_skill(draft.focus_skill_code, await roster.district_skills(uow, district_id))
    timezone = await school_timezone(uow, district_id, classroom.school_id)
    window_id = await _window_of(
        uow, district_id, classroom.classroom_id, draft.window_id, draft.starts_at, timezone
    )
    # Two teachers of one class scheduling at once must not both pass the overlap check.
    await roster.lock(uow, district_id, "classroom", classroom.classroom_id)
    meeting = rules.schedule(
        meeting_id=f"tm-{uuid.uuid4().hex[:16]}",
        district_id=district_id,
        school_id=classroom.school_id,
        classroom_id=classroom.classroom_id,
        starts_at=draft.starts_at,
        duration_minutes=draft.duration_minutes,
        location=draft.location,
        focus_skill_code=draft.focus_skill_code,
        agenda=draft.agenda,
        window_id=window_id,
        created_by=principal.subject,
        now=now,
    )
    rules.check_no_overlap(
        await store.active_meetings_near(
            uow, district_id, classroom.classroom_id, meeting.starts_at, meeting.duration_minutes
        ),
        meeting.starts_at,
        meeting.duration_minutes,
    )
    await store.insert_meeting(uow, meeting)
    return MeetingView(meeting=meeting, timezone=timezone)


async def get_meeting(uow: UnitOfWork, *, principal: Principal, meeting_id: str) -> MeetingView:
    """Staff who run the classroom, and guardians of its students, see the meeting."""
    meeting, access = await meeting_access(uow, principal, meeting_id, manage=False)
    return MeetingView(
        meeting=meeting,
        timezone=await school_timezone(uow, principal.district_id, meeting.school_id),
        class_report=(
            await store.class_report_of(uow, principal.district_id, meeting_id)
            if access.manages
            else None
        ),
        your_students=access.own_students,
    )


async def list_meetings(
    uow: UnitOfWork,
    *,
    principal: Principal,
    classroom_id: str,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[MeetingView]:
    access = await classroom_access(uow, principal, classroom_id, manage=False)
    timezone = await school_timezone(uow, principal.district_id, access.classes.classroom.school_id)
    found = await store.meetings_of_classroom(
        uow, principal.district_id, classroom_id, after=after, status=status, limit=limit
    )
    return [
        MeetingView(meeting=m, timezone=timezone, your_students=access.own_students) for m in found
    ]


async def reschedule_meeting(
    uow: UnitOfWork,
    *,
    principal: Principal,
    meeting_id: str,
    starts_at: datetime,
    duration_minutes: int | None,
    location: str | None,
    now: datetime,
) -> MeetingView:
    """Move a meeting; it stays in its window and may not overlap another of the class."""
    district_id = principal.district_id
    meeting, _ = await meeting_access(uow, principal, meeting_id, manage=True)
    timezone = await school_timezone(uow, district_id, meeting.school_id)
    moved = rules.reschedule(
        meeting,
        starts_at=starts_at,
        duration_minutes=duration_minutes or meeting.duration_minutes,
        location=location,
        now=now,
    )
    if moved is meeting:
        return MeetingView(meeting=meeting, timezone=timezone)
    if meeting.window_id is not None:
        await _window_of(
            uow, district_id, meeting.classroom_id, meeting.window_id, moved.starts_at, timezone
        )
    await roster.lock(uow, district_id, "classroom", meeting.classroom_id)
    rules.check_no_overlap(
        await store.active_meetings_near(
            uow, district_id, meeting.classroom_id, moved.starts_at, moved.duration_minutes
        ),
        moved.starts_at,
        moved.duration_minutes,
        except_id=meeting.meeting_id,
    )
    await store.save_meeting(uow, moved)
    return MeetingView(meeting=moved, timezone=timezone)


async def cancel_meeting(
    uow: UnitOfWork, *, principal: Principal, meeting_id: str, now: datetime
) -> MeetingView:
    """Cancel a meeting; cancelling one already cancelled changes nothing."""
    meeting, _ = await meeting_access(uow, principal, meeting_id, manage=True)
    timezone = await school_timezone(uow, principal.district_id, meeting.school_id)
    cancelled = rules.cancel(meeting, now=now)
    if cancelled is not meeting:
        await store.save_meeting(uow, cancelled)
    return MeetingView(meeting=cancelled, timezone=timezone)


async def my_meetings(
    uow: UnitOfWork, *, principal: Principal, now: datetime, limit: int
) -> list[MeetingView]:
    """A guardian's coming team meetings, across all their children's classes."""
    district_id = principal.district_id
    children = await roster.children_of(uow, district_id, principal.subject)
    if not children:
        return []
    classrooms = await roster.classrooms_of_students(
        uow, district_id, [c.student_id for c in children]
    )
    mine = {c.student_id for c in children}
    by_classroom = {c.classroom_id: c for c in classrooms}
    meetings = await store.upcoming_meetings(
        uow, district_id, list(by_classroom), since=now, limit=limit
    )
    views = []
    for meeting in meetings:
        classroom = by_classroom[meeting.classroom_id]
        views.append(
            MeetingView(
                meeting=meeting,
                timezone=await school_timezone(uow, district_id, meeting.school_id),
                your_students=frozenset(classroom.student_ids & mine),
            )
        )
    return views
