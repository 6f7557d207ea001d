"""Events of the scheduling service: meeting windows, team meetings, RSVPs, attendance and
one-to-one conferences.

Ids, codes, numbers and times only: no names and no free text about a child. The optional
fields were added after the first revision; consumers must accept their absence.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aptt_contracts.bounds import Code, Id, Label, LanguageTag, SchoolYear
from aptt_contracts.envelope import EventModel

MEETINGS = "aptt.scheduling.meetings.v1"

Relationship = Literal["mother", "father", "grandparent", "other"]
WindowKind = Literal["team_meeting", "conference"]


class TeamMeetingScheduled(EventModel):
    event_type = "org.aptt.scheduling.team-meeting.scheduled.v1"
    topic = MEETINGS
    subject_field = "meeting_id"

    meeting_id: Id
    classroom_id: Id
    school_id: Id
    starts_at: datetime
    duration_minutes: int = Field(ge=15, le=240)
    focus_skill_code: Code
    window_id: Id | None = Field(
        default=None, description="The engagement-calendar window the meeting belongs to"
    )
    location: Label | None = Field(
        default=None, description="Where families meet (a room or place, never about a child)"
    )


class TeamMeetingRescheduled(EventModel):
    event_type = "org.aptt.scheduling.team-meeting.rescheduled.v1"
    topic = MEETINGS
    subject_field = "meeting_id"

    meeting_id: Id
    classroom_id: Id
    school_id: Id
    starts_at: datetime
    previous_starts_at: datetime
    duration_minutes: int = Field(ge=15, le=240)
    location: Label | None = Field(default=None, description="Where families meet now")


class TeamMeetingCancelled(EventModel):
    event_type = "org.aptt.scheduling.team-meeting.cancelled.v1"
    topic = MEETINGS
    subject_field = "meeting_id"

    meeting_id: Id
    classroom_id: Id
    school_id: Id
    starts_at: datetime | None = Field(
        default=None, description="When the cancelled meeting was to start"
    )


class RsvpRecorded(EventModel):
    event_type = "org.aptt.scheduling.rsvp.recorded.v1"
    topic = MEETINGS
    subject_field = "meeting_id"

    meeting_id: Id
    guardian_id: Id
    student_id: Id
    attending: bool
    interpreter_language: LanguageTag | None = None
    childcare_count: int = Field(default=0, ge=0, le=10)
    classroom_id: Id | None = None
    school_id: Id | None = None


class AttendanceRecorded(EventModel):
    event_type = "org.aptt.scheduling.attendance.recorded.v1"
    topic = MEETINGS
    subject_field = "meeting_id"

    meeting_id: Id
    classroom_id: Id
    school_id: Id
    student_id: Id
    guardian_id: Id
    relationship: Relationship
    present: bool
    focus_skill_code: Code | None = Field(
        default=None, description="The meeting's focus skill: the skill goal setting starts from"
    )
    meeting_starts_at: datetime | None = None


class MeetingWindow(BaseModel):
    """One window of a classroom's engagement calendar, in the school's local dates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_id: Id
    kind: WindowKind
    starts_on: date
    ends_on: date
    duration_minutes: int = Field(ge=15, le=240)
    focus_area: Label | None = Field(default=None, description="A hint such as reading or math")


class MeetingWindowsCreated(EventModel):
    """An engagement calendar gave a classroom its meeting windows for a school year."""

    event_type = "org.aptt.scheduling.meeting-windows.created.v1"
    topic = MEETINGS
    subject_field = "classroom_id"

    classroom_id: Id
    school_id: Id
    calendar_id: Id
    template_id: Id
    school_year: SchoolYear
    windows: list[MeetingWindow] = Field(max_length=24)


class MeetingWindowsChanged(EventModel):
    """A school moved windows of its engagement calendar: a classroom's windows, new dates."""

    event_type = "org.aptt.scheduling.meeting-windows.changed.v1"
    topic = MEETINGS
    subject_field = "classroom_id"

    classroom_id: Id
    school_id: Id
    calendar_id: Id
    template_id: Id
    school_year: SchoolYear
    windows: list[MeetingWindow] = Field(max_length=24, description="the changed windows only")


# -- home visits (PTHV) ---------------------------------------------------------------
# Ids, codes, counts and times only. A visit's address, the family's words and the pair's
# reflection stay in scheduling's database (decision 0320).

VISITS = "aptt.scheduling.visits.v1"

AnswerChannel = Literal["sms", "web", "phone", "paper"]
PlaceKind = Literal["home", "library", "park", "coffee_shop", "other"]
VisitActor = Literal["family", "educator", "coordinator"]
CancelReason = Literal[
    "family_request", "educator_unavailable", "illness", "weather", "withdrawn", "other"
]
MissedReason = Literal["family_not_home", "educators_could_not_go", "other"]


class FamilyInvited(EventModel):
    """A family was invited to the home-visit programme for a school year."""

    event_type = "org.aptt.scheduling.visit-invitation.sent.v1"
    topic = VISITS
    subject_field = "invitation_id"

    invitation_id: Id
    student_id: Id
    guardian_ids: list[Id] = Field(max_length=20)
    school_id: Id
    classroom_id: Id
    school_year: SchoolYear
    draw_id: Id | None = Field(
        default=None, description="The recorded random draw the family came from, if any"
    )


class FamilyOptedIn(EventModel):
    event_type = "org.aptt.scheduling.visit-family.opted-in.v1"
    topic = VISITS
    subject_field = "invitation_id"

    invitation_id: Id
    student_id: Id
    guardian_id: Id
    school_id: Id
    channel: AnswerChannel
    answered_at: datetime


class FamilyOptedOut(EventModel):
    """A family said no, or withdrew; its pending visits are cancelled (VisitCancelled)."""

    event_type = "org.aptt.scheduling.visit-family.opted-out.v1"
    topic = VISITS
    subject_field = "invitation_id"

    invitation_id: Id
    student_id: Id
    guardian_id: Id
    school_id: Id
    channel: AnswerChannel
    answered_at: datetime
    withdrawn: bool = Field(description="true: the family had said yes before")


class VisitProposed(EventModel):
    event_type = "org.aptt.scheduling.home-visit.proposed.v1"
    topic = VISITS
    subject_field = "visit_id"

    visit_id: Id
    student_id: Id
    guardian_id: Id
    school_id: Id
    educator_ids: list[Id] = Field(min_length=2, max_length=2)
    proposed_times: list[datetime] = Field(min_length=2, max_length=3)
    duration_minutes: int = Field(ge=15, le=240)


class VisitScheduled(EventModel):
    event_type = "org.aptt.scheduling.home-visit.scheduled.v1"
    topic = VISITS
    subject_field = "visit_id"

    visit_id: Id
    student_id: Id
    guardian_id: Id
    school_id: Id
    educator_ids: list[Id] = Field(min_length=2, max_length=2)
    starts_at: datetime
    duration_minutes: int = Field(ge=15, le=240)
    place_kind: PlaceKind


class VisitCompleted(EventModel):
    event_type = "org.aptt.scheduling.home-visit.completed.v1"
    topic = VISITS
    subject_field = "visit_id"

    visit_id: Id
    student_id: Id
    school_id: Id
    educator_ids: list[Id] = Field(min_length=2, max_length=2)
    visit_number: int = Field(ge=1, le=2, description="First or second visit of the school year")
    duration_minutes: int = Field(ge=1, le=24 * 60)


class VisitMissed(EventModel):
    event_type = "org.aptt.scheduling.home-visit.missed.v1"
    topic = VISITS
    subject_field = "visit_id"

    visit_id: Id
    student_id: Id
    school_id: Id
    educator_ids: list[Id] = Field(min_length=2, max_length=2)
    reason: MissedReason
    recorded_by: VisitActor


class VisitCancelled(EventModel):
    event_type = "org.aptt.scheduling.home-visit.cancelled.v1"
    topic = VISITS
    subject_field = "visit_id"

    visit_id: Id
    student_id: Id
    guardian_id: Id
    school_id: Id
    educator_ids: list[Id] = Field(min_length=2, max_length=2)
    starts_at: datetime | None = Field(default=None, description="None: it was only proposed")
    reason: CancelReason
    cancelled_by: VisitActor


MoveStatus = Literal["proposed", "counter_proposed", "times_requested"]


class VisitMoved(EventModel):
    """A scheduled (or still open) visit was moved: the family picks again from new times, the
    pair confirms a time the family offered, or the pair is to propose new ones. Same visit id,
    pair and place; no time is fixed until the family's choice is confirmed (decision 0326)."""

    event_type = "org.aptt.scheduling.home-visit.moved.v1"
    topic = VISITS
    subject_field = "visit_id"

    visit_id: Id
    student_id: Id
    guardian_id: Id
    school_id: Id
    educator_ids: list[Id] = Field(min_length=2, max_length=2)
    previous_starts_at: datetime | None = Field(
        default=None, description="The time it was scheduled for; None: it was only proposed"
    )
    status: MoveStatus = Field(
        description="proposed: the family picks from `times`; counter_proposed: the pair "
        "confirms one of `times`; times_requested: the pair is to propose new times"
    )
    times: list[datetime] = Field(max_length=3, description="The new times on offer")
    duration_minutes: int = Field(ge=15, le=240)
    moved_by: VisitActor
    moves: int = Field(ge=1, le=100, description="How many times this visit was moved")


class ReflectionRecorded(EventModel):
    """The pair wrote (or revised) its reflection on a visit. The fact only, never the text."""

    event_type = "org.aptt.scheduling.visit-reflection.recorded.v1"
    topic = VISITS
    subject_field = "visit_id"

    visit_id: Id
    school_id: Id
    educator_ids: list[Id] = Field(min_length=2, max_length=2)
    recorded_at: datetime


# -- one-to-one conferences (aptt.scheduling.conferences.v1) ----------------------------

CONFERENCES = "aptt.scheduling.conferences.v1"

# Why staff cancelled or moved a conference: a code the family reads in its own language.
# The teacher's own words, if any, stay in scheduling's database.
ConferenceReason = Literal[
    "teacher_unavailable", "illness", "school_closure", "schedule_change", "family_request", "other"
]
ChangedBy = Literal["family", "staff"]


class ConferenceAvailabilityPublished(EventModel):
    """A teacher (or an admin for them) published availability, cut into slots."""

    event_type = "org.aptt.scheduling.conference-availability.published.v1"
    topic = CONFERENCES
    subject_field = "availability_id"

    availability_id: Id
    window_id: Id
    classroom_id: Id
    school_id: Id
    slot_minutes: int = Field(ge=10, le=60)
    buffer_minutes: int = Field(ge=0, le=60)
    slot_count: int = Field(ge=0)
    first_slot_at: datetime | None
    last_slot_ends_at: datetime | None
    signup_opens_at: datetime
    signup_closes_at: datetime
    student_led: bool
    virtual: bool = Field(description="true: a video conference (its link is not on the topic)")


class ConferenceAvailabilityChanged(EventModel):
    """Availability changed: slots were added or removed; booked slots are never removed."""

    event_type = "org.aptt.scheduling.conference-availability.changed.v1"
    topic = CONFERENCES
    subject_field = "availability_id"

    availability_id: Id
    window_id: Id
    classroom_id: Id
    school_id: Id
    slot_count: int = Field(ge=0)
    slots_added: int = Field(ge=0)
    slots_removed: int = Field(ge=0)
    booked_slots_kept: int = Field(ge=0, description="booked slots outside the new ranges")
    signup_opens_at: datetime
    signup_closes_at: datetime
    student_led: bool


class BookingFields(BaseModel):
    """What every booking event says (not an event itself)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    booking_id: Id
    slot_id: Id
    availability_id: Id
    window_id: Id
    classroom_id: Id
    school_id: Id
    student_id: Id
    guardian_id: Id
    starts_at: datetime
    ends_at: datetime
    interpreter_language: LanguageTag | None = Field(default=None, max_length=35)
    student_led: bool
    sequence: int = Field(ge=0, description="iCalendar SEQUENCE: grows with each change")


class ConferenceBookingMade(EventModel, BookingFields):
    subject_field = "booking_id"
    event_type = "org.aptt.scheduling.conference-booking.made.v1"
    topic = CONFERENCES

    by: ChangedBy


class ConferenceBookingMoved(EventModel, BookingFields):
    subject_field = "booking_id"
    event_type = "org.aptt.scheduling.conference-booking.moved.v1"
    topic = CONFERENCES

    previous_slot_id: Id
    previous_starts_at: datetime
    by: ChangedBy
    reason_code: ConferenceReason | None = None


class ConferenceBookingCancelled(EventModel, BookingFields):
    subject_field = "booking_id"
    event_type = "org.aptt.scheduling.conference-booking.cancelled.v1"
    topic = CONFERENCES

    by: ChangedBy
    reason_code: ConferenceReason | None = None


class InterpreterFields(BaseModel):
    """What both interpreter events say (not an event itself)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    booking_id: Id
    interpreter_id: Id
    language: LanguageTag = Field(max_length=35)
    slot_id: Id
    classroom_id: Id
    school_id: Id
    starts_at: datetime
    ends_at: datetime


class InterpreterAssigned(EventModel, InterpreterFields):
    subject_field = "booking_id"
    event_type = "org.aptt.scheduling.interpreter.assigned.v1"
    topic = CONFERENCES


class InterpreterReleased(EventModel, InterpreterFields):
    subject_field = "booking_id"
    event_type = "org.aptt.scheduling.interpreter.released.v1"
    topic = CONFERENCES


class WaitlistOffered(EventModel):
    """A freed slot, or one whose offer another family let lapse, is offered, held, to the
    first family waiting in its window."""

    event_type = "org.aptt.scheduling.waitlist.offered.v1"
    topic = CONFERENCES
    subject_field = "entry_id"

    entry_id: Id
    window_id: Id
    classroom_id: Id
    school_id: Id
    student_id: Id
    guardian_id: Id
    slot_id: Id
    starts_at: datetime
    ends_at: datetime
    hold_expires_at: datetime


# -- family events (decision 0330) ----------------------------------------------------
# A school's own events (a bake sale, a concert) and who came: a kind code, never the title.

FAMILY_EVENTS = "aptt.scheduling.family-events.v1"


class FamilyEventTurnoutRecorded(EventModel):
    """A school recorded, after one of its family events, how many families came."""

    event_type = "org.aptt.scheduling.family-event.turnout-recorded.v1"
    topic = FAMILY_EVENTS
    subject_field = "family_event_id"

    family_event_id: Id
    school_id: Id
    kind: str = Field(max_length=40, description="A code such as bake-sale or concert")
    learning_linked: bool
    on: date = Field(description="The school-local date of the event")
    families_attending: int = Field(ge=0, le=100_000)
    by_relationship: dict[Relationship, int] | None = Field(
        default=None,
        max_length=4,
        description="Guardians who came by relationship, when the school counted",
    )
