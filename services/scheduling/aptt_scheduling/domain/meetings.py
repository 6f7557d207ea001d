"""Team meetings: when one may be scheduled, moved, cancelled, answered and attended.

A team meeting is an aggregate: what happens to it (scheduled, moved, cancelled, attendance
taken) is recorded in its `events`, and the unit of work publishes them when the store saves
the meeting.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from aptt_contracts.envelope import EventModel
from aptt_contracts.scheduling import (
    AttendanceRecorded,
    TeamMeetingCancelled,
    TeamMeetingRescheduled,
    TeamMeetingScheduled,
)
from aptt_contracts.skills import BUILT_IN_SKILLS
from aptt_platform.errors import Conflict, DomainError

from aptt_scheduling.domain.attendance import AttendanceRecord

MeetingStatus = Literal["scheduled", "cancelled"]
MIN_MINUTES = 15
MAX_MINUTES = 240
# The five parts of an APTT team meeting (docs/domain.md), used when a teacher gives no agenda.
STANDARD_AGENDA: tuple[str, ...] = (
    "Team building",
    "Foundational skill lesson",
    "Class data",
    "Modelled home activities",
    "Goal setting",
)


@dataclass(frozen=True)
class Window:
    """A classroom's meeting window, as far as a meeting needs to know it."""

    window_id: str
    classroom_id: str
    kind: str
    starts_on: date
    ends_on: date

    def contains(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True)
class ClassReportRef:
    """The class report the data service published for a meeting (staff see it is ready)."""

    report_id: str
    suppressed: bool


@dataclass
class TeamMeeting:
    meeting_id: str
    district_id: str
    school_id: str
    classroom_id: str
    starts_at: datetime
    duration_minutes: int
    location: str
    focus_skill_code: str
    agenda: tuple[str, ...]
    window_id: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    status: MeetingStatus = "scheduled"
    cancelled_at: datetime | None = None
    attendance_taken: bool = False
    previous_starts: tuple[datetime, ...] = field(default_factory=tuple)
    # Recorded, not yet published: never stored, never compared.
    events: list[EventModel] = field(default_factory=list, compare=False, repr=False)

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def active(self) -> bool:
        return self.status == "scheduled"

    def overlaps(self, starts_at: datetime, duration_minutes: int) -> bool:
        return self.starts_at < starts_at + timedelta(minutes=duration_minutes) and (
            starts_at < self.ends_at
        )


def meeting_time(moment: datetime) -> datetime:
    """A meeting's start as stored and published: UTC, to the whole second."""
    return moment.astimezone(UTC).replace(microsecond=0)


def local_date(moment: datetime, timezone: str) -> date:
    """The school-local date of a moment (a 6 pm meeting in Oakland is not tomorrow in UTC)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def check_duration(minutes: int) -> None:
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise DomainError(
            f"a team meeting lasts between {MIN_MINUTES} and {MAX_MINUTES} minutes",
            code="bad-duration",
        )


def check_starts_in_the_future(starts_at: datetime, now: datetime) -> None:
    if starts_at.tzinfo is None:
        raise DomainError("give the start time with its UTC offset", code="naive-time")
    if starts_at <= now:
        raise DomainError("a team meeting can only be scheduled in the future", code="in-the-past")


def check_skill(code: str, district_skills: set[str]) -> None:
    if code not in BUILT_IN_SKILLS and code not in district_skills:
        known = ", ".join(sorted({*BUILT_IN_SKILLS, *district_skills}))
        raise DomainError(
            f"'{code}' is not a skill this district knows; known skills: {known}",
            code="unknown-skill",
        )


def check_window(window: Window | None, classroom_id: str, day: date) -> None:
    """A meeting given a window is a team meeting of that classroom inside its dates."""
    if window is None or window.classroom_id != classroom_id:
        raise DomainError(
            "the meeting window is not one of this classroom's", code="unknown-window"
        )
    if window.kind != "team_meeting":
        raise DomainError("that window is for conferences, not team meetings", code="wrong-window")
    if not window.contains(day):
        raise DomainError(
            f"the meeting's date {day.isoformat()} is outside its window "
            f"({window.starts_on.isoformat()} to {window.ends_on.isoformat()})",
            code="outside-window",
        )


def window_for(windows: list[Window], day: date) -> Window | None:
    """The team-meeting window a meeting on `day` falls in, if any (the earliest one)."""
    fitting = [w for w in windows if w.kind == "team_meeting" and w.contains(day)]
    return min(fitting, key=lambda w: (w.starts_on, w.window_id), default=None)


def check_no_overlap(
    others: list[TeamMeeting], starts_at: datetime, minutes: int, *, except_id: str | None = None
) -> None:
    """A classroom holds one team meeting at a time: families cannot be in two rooms."""
    for other in others:
        if other.meeting_id != except_id and other.active and other.overlaps(starts_at, minutes):
            raise Conflict(
                "the classroom already has a team meeting at that time",
                code="overlapping-meeting",
                meeting_id=other.meeting_id,
            )


def check_changeable(meeting: TeamMeeting) -> None:
    if not meeting.active:
        raise Conflict("the team meeting was cancelled", code="meeting-cancelled")
    if meeting.attendance_taken:
        raise Conflict(
            "attendance has been taken: the team meeting took place", code="meeting-held"
        )


def schedule(
    *,
    meeting_id: str,
    district_id: str,
    school_id: str,
    classroom_id: str,
    starts_at: datetime,
    duration_minutes: int,
    location: str,
    focus_skill_code: str,
    agenda: tuple[str, ...],
    window_id: str | None,
    created_by: str,
    now: datetime,
) -> TeamMeeting:
    """A new team meeting; the use case checks its window and that it overlaps no other."""
    meeting = TeamMeeting(
        meeting_id=meeting_id,
        district_id=district_id,
        school_id=school_id,
        classroom_id=classroom_id,
        starts_at=meeting_time(starts_at),
        duration_minutes=duration_minutes,
        location=location,
        focus_skill_code=focus_skill_code,
        agenda=agenda or STANDARD_AGENDA,
        window_id=window_id,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    meeting.events.append(
        TeamMeetingScheduled(
            district_id=district_id,
            meeting_id=meeting.meeting_id,
            classroom_id=classroom_id,
            school_id=school_id,
            starts_at=meeting.starts_at,
            duration_minutes=duration_minutes,
            focus_skill_code=focus_skill_code,
            window_id=window_id,
            location=location,
        )
    )
    return meeting


def reschedule(
    meeting: TeamMeeting,
    *,
    starts_at: datetime,
    duration_minutes: int,
    location: str | None,
    now: datetime,
) -> TeamMeeting:
    """The meeting moved; the same meeting when nothing changes (and nothing is published)."""
    check_changeable(meeting)
    check_duration(duration_minutes)
    check_starts_in_the_future(starts_at, now)
    starts_at = meeting_time(starts_at)
    location = location or meeting.location
    if (starts_at, duration_minutes, location) == (
        meeting.starts_at,
        meeting.duration_minutes,
        meeting.location,
    ):
        return meeting
    return replace(
        meeting,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        location=location,
        updated_at=now,
        previous_starts=(
            (*meeting.previous_starts, meeting.starts_at)
            if starts_at != meeting.starts_at
            else meeting.previous_starts
        ),
        events=[
            *meeting.events,
            TeamMeetingRescheduled(
                district_id=meeting.district_id,
                meeting_id=meeting.meeting_id,
                classroom_id=meeting.classroom_id,
                school_id=meeting.school_id,
                starts_at=starts_at,
                previous_starts_at=meeting.starts_at,
                duration_minutes=duration_minutes,
                location=location,
            ),
        ],
    )


def cancel(meeting: TeamMeeting, *, now: datetime) -> TeamMeeting:
    """The meeting cancelled; cancelling it again changes nothing."""
    if not meeting.active:
        return meeting
    if meeting.attendance_taken:
        raise Conflict(
            "attendance has been taken: the team meeting took place", code="meeting-held"
        )
    return replace(
        meeting,
        status="cancelled",
        cancelled_at=now,
        updated_at=now,
        events=[
            *meeting.events,
            TeamMeetingCancelled(
                district_id=meeting.district_id,
                meeting_id=meeting.meeting_id,
                classroom_id=meeting.classroom_id,
                school_id=meeting.school_id,
                starts_at=meeting.starts_at,
            ),
        ],
    )


def take_attendance(
    meeting: TeamMeeting, changed: list[AttendanceRecord], *, now: datetime
) -> TeamMeeting:
    """The meeting took place; each new or changed record is published (goals opens goal
    setting on it). The caller checked the sheet against the class list."""
    return replace(
        meeting,
        attendance_taken=True,
        updated_at=meeting.updated_at if meeting.attendance_taken else now,
        events=[
            *meeting.events,
            *(
                AttendanceRecorded(
                    district_id=meeting.district_id,
                    meeting_id=meeting.meeting_id,
                    classroom_id=meeting.classroom_id,
                    school_id=meeting.school_id,
                    student_id=record.student_id,
                    guardian_id=record.guardian_id,
                    relationship=record.relationship,
                    present=record.present,
                    focus_skill_code=meeting.focus_skill_code,
                    meeting_starts_at=meeting.starts_at,
                )
                for record in changed
            ),
        ],
    )


def check_rsvp_open(meeting: TeamMeeting, now: datetime) -> None:
    if not meeting.active:
        raise Conflict("the team meeting was cancelled", code="meeting-cancelled")
    if now >= meeting.starts_at:
        raise Conflict("the team meeting has already started", code="rsvp-closed")


def check_attendance_open(
    meeting: TeamMeeting, now: datetime, opens_minutes_before: int | None
) -> None:
    """Attendance is taken as families arrive, so it may open a little before the start.

    `None` leaves it open from scheduling on (sign-in sheets typed in ahead of time).
    """
    if not meeting.active:
        raise Conflict("the team meeting was cancelled", code="meeting-cancelled")
    if opens_minutes_before is None:
        return
    opens_at = meeting.starts_at - timedelta(minutes=opens_minutes_before)
    if now < opens_at:
        raise Conflict(
            f"attendance opens {opens_minutes_before} minutes before the meeting starts",
            code="attendance-not-open",
            opens_at=opens_at.isoformat(),
        )
