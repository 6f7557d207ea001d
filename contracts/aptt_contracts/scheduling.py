"""Events of the scheduling service: team meetings, RSVPs and attendance."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from aptt_contracts.envelope import EventModel

MEETINGS = "aptt.scheduling.meetings.v1"

Relationship = Literal["mother", "father", "grandparent", "other"]


class TeamMeetingScheduled(EventModel):
    event_type = "org.aptt.scheduling.team-meeting.scheduled.v1"
    topic = MEETINGS
    subject_field = "meeting_id"

    meeting_id: str
    classroom_id: str
    school_id: str
    starts_at: datetime
    duration_minutes: int = Field(ge=15, le=240)
    focus_skill_code: str


class TeamMeetingRescheduled(EventModel):
    event_type = "org.aptt.scheduling.team-meeting.rescheduled.v1"
    topic = MEETINGS
    subject_field = "meeting_id"

    meeting_id: str
    classroom_id: str
    school_id: str
    starts_at: datetime
    previous_starts_at: datetime
    duration_minutes: int = Field(ge=15, le=240)


class TeamMeetingCancelled(EventModel):
    event_type = "org.aptt.scheduling.team-meeting.cancelled.v1"
    topic = MEETINGS
    subject_field = "meeting_id"

    meeting_id: str
    classroom_id: str
    school_id: str


class RsvpRecorded(EventModel):
    event_type = "org.aptt.scheduling.rsvp.recorded.v1"
    topic = MEETINGS
    subject_field = "meeting_id"

    meeting_id: str
    guardian_id: str
    student_id: str
    attending: bool
    interpreter_language: str | None = None
    childcare_count: int = Field(default=0, ge=0, le=10)


class AttendanceRecorded(EventModel):
    event_type = "org.aptt.scheduling.attendance.recorded.v1"
    topic = MEETINGS
    subject_field = "meeting_id"

    meeting_id: str
    classroom_id: str
    school_id: str
    student_id: str
    guardian_id: str
    relationship: Relationship
    present: bool
