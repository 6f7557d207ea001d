"""Request and response bodies of the scheduling API, and the bounds of its parameters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from aptt_contracts.bounds import SCHOOL_YEAR_PATTERN
from aptt_contracts.scheduling import Relationship
from aptt_platform import schoolyear
from aptt_platform.web import RequestModel
from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, StringConstraints

from aptt_scheduling.domain.attendance import AttendanceRecord, AttendanceSummary, Rsvp
from aptt_scheduling.domain.calendars import EngagementCalendar, PlannedWindow, WindowKind
from aptt_scheduling.service.calendar_windows import CalendarWindowView
from aptt_scheduling.service.calendars import AppliedCalendar, WindowView
from aptt_scheduling.service.meetings import MeetingView

MAX_ID = 200
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$"
Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID, strip_whitespace=True)]
# An id in a route's path (meeting, classroom, school, template, student).
PathId = Annotated[str, Path(min_length=1, max_length=MAX_ID)]
AgendaItem = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Language = Annotated[str, StringConstraints(max_length=35, pattern=LANGUAGE_TAG)]
SchoolYear = Annotated[
    str,
    StringConstraints(max_length=9, pattern=SCHOOL_YEAR_PATTERN),
    AfterValidator(schoolyear.checked),
]
# A query parameter as `Annotated`: with `= Query()` FastAPI would drop the bounds above.
SchoolYearQuery = Annotated[SchoolYear, Query(examples=["2026-2027"])]


# -- engagement calendars -------------------------------------------------------------


class ApplyCalendarIn(RequestModel):
    template_id: Id
    school_year: SchoolYear = Field(examples=["2026-2027"])


class PlannedWindowOut(BaseModel):
    sequence: int
    kind: WindowKind
    starts_on: date
    ends_on: date
    duration_minutes: int
    focus_area: str | None
    label: str | None

    @classmethod
    def of(cls, window: PlannedWindow) -> PlannedWindowOut:
        return cls(**window.__dict__)


class EngagementCalendarOut(BaseModel):
    calendar_id: str
    school_id: str
    school_year: str
    template_id: str
    created_at: datetime

    @classmethod
    def of(cls, cal: EngagementCalendar) -> EngagementCalendarOut:
        return cls(
            calendar_id=cal.calendar_id,
            school_id=cal.school_id,
            school_year=cal.school_year,
            template_id=cal.template_id,
            created_at=cal.created_at,
        )


class AppliedCalendarOut(EngagementCalendarOut):
    created: bool = Field(description="false when the school already had this calendar")
    classrooms: int = Field(description="classrooms of the school in the roster")
    windows_created: int = Field(description="meeting windows created by this request")
    windows: list[PlannedWindowOut]

    @classmethod
    def applied(cls, result: AppliedCalendar) -> AppliedCalendarOut:
        return cls(
            **EngagementCalendarOut.of(result.calendar).model_dump(),
            created=result.created,
            classrooms=result.classrooms,
            windows_created=result.windows_created,
            windows=[PlannedWindowOut.of(w) for w in result.windows],
        )


class WindowDatesIn(RequestModel):
    starts_on: date = Field(description="the window's first day, school-local")
    ends_on: date = Field(description="the window's last day, school-local")


class CalendarWindowOut(PlannedWindowOut):
    moved: bool = Field(description="true when the school changed the template's dates")
    classrooms: int = Field(description="classrooms that have the window")
    team_meetings: int = Field(description="active team meetings in the window")
    bookings: int = Field(description="booked conferences in the window")

    @classmethod
    def of_view(cls, view: CalendarWindowView) -> CalendarWindowOut:
        return cls(
            **view.window.__dict__,
            moved=view.moved,
            classrooms=view.classrooms,
            team_meetings=view.team_meetings,
            bookings=view.bookings,
        )


class MeetingWindowOut(BaseModel):
    window_id: str
    classroom_id: str
    school_id: str
    calendar_id: str
    template_id: str
    school_year: str
    sequence: int
    kind: WindowKind
    starts_on: date
    ends_on: date
    duration_minutes: int
    focus_area: str | None
    label: str | None
    meeting_ids: list[str] = Field(description="active team meetings scheduled in the window")

    @classmethod
    def of(cls, view: WindowView) -> MeetingWindowOut:
        return cls(**view.window.__dict__, meeting_ids=view.meeting_ids)


# -- team meetings ----------------------------------------------------------------------


class TeamMeetingIn(RequestModel):
    classroom_id: Id
    starts_at: AwareDatetime = Field(description="ISO 8601 with its UTC offset")
    duration_minutes: int = Field(default=75, ge=15, le=240)
    location: str = Field(min_length=1, max_length=200)
    focus_skill_code: str = Field(min_length=1, max_length=41, examples=["orf"])
    agenda: list[AgendaItem] = Field(
        default_factory=list, max_length=20, description="empty: the five standard APTT parts"
    )
    window_id: Id | None = None


class RescheduleIn(RequestModel):
    starts_at: AwareDatetime
    duration_minutes: int | None = Field(default=None, ge=15, le=240)
    location: str | None = Field(default=None, min_length=1, max_length=200)


class ClassReportRef(BaseModel):
    report_id: str
    suppressed: bool


class TeamMeetingOut(BaseModel):
    meeting_id: str
    classroom_id: str
    school_id: str
    status: str = Field(description="scheduled or cancelled")
    starts_at: datetime
    ends_at: datetime
    local_starts_at: datetime = Field(description="the start in the school's time zone")
    timezone: str
    duration_minutes: int
    location: str
    focus_skill_code: str
    agenda: list[str]
    window_id: str | None
    attendance_taken: bool
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    class_report: ClassReportRef | None = Field(
        default=None, description="staff only: the class report data published for it"
    )
    your_student_ids: list[str] = Field(
        default_factory=list, description="guardians: your children in this class"
    )

    @classmethod
    def of(cls, view: MeetingView) -> TeamMeetingOut:
        m = view.meeting
        report = view.class_report
        return cls(
            meeting_id=m.meeting_id,
            classroom_id=m.classroom_id,
            school_id=m.school_id,
            status=m.status,
            starts_at=m.starts_at,
            ends_at=m.ends_at,
            local_starts_at=m.starts_at.astimezone(ZoneInfo(view.timezone)),
            timezone=view.timezone,
            duration_minutes=m.duration_minutes,
            location=m.location,
            focus_skill_code=m.focus_skill_code,
            agenda=list(m.agenda),
            window_id=m.window_id,
            attendance_taken=m.attendance_taken,
            created_at=m.created_at,
            updated_at=m.updated_at,
            cancelled_at=m.cancelled_at,
            class_report=(
                ClassReportRef(report_id=report.report_id, suppressed=report.suppressed)
                if report
                else None
            ),
            your_student_ids=sorted(view.your_students),
        )


# -- RSVPs and attendance -------------------------------------------------------------


class RsvpIn(RequestModel):
    attending: bool
    interpreter_language: Language | None = Field(default=None, examples=["es"])
    childcare_count: int = Field(default=0, ge=0, le=10, description="children needing care")


class RsvpOut(BaseModel):
    meeting_id: str
    student_id: str
    guardian_id: str
    attending: bool
    interpreter_language: str | None
    childcare_count: int

    @classmethod
    def of(cls, rsvp: Rsvp) -> RsvpOut:
        return cls(**rsvp.__dict__)


class AttendanceRecordIn(RequestModel):
    student_id: Id
    guardian_id: Id
    relationship: Relationship
    present: bool = True

    def record(self) -> AttendanceRecord:
        return AttendanceRecord(
            student_id=self.student_id,
            guardian_id=self.guardian_id,
            relationship=self.relationship,
            present=self.present,
        )


class AttendanceIn(RequestModel):
    records: list[AttendanceRecordIn] = Field(min_length=1, max_length=500)


class AttendanceRecordOut(BaseModel):
    student_id: str
    guardian_id: str
    relationship: Relationship
    present: bool


class FamilyPlanning(BaseModel):
    families_rsvp_attending: int
    interpreter_requests: dict[str, int] = Field(description="families coming, by language")
    childcare_children: int


class RsvpListOut(FamilyPlanning):
    meeting_id: str
    items: list[RsvpOut]


class AttendanceOut(FamilyPlanning):
    meeting_id: str
    families_in_class: int
    families_attended: int
    rate: float | None = Field(description="families attended / families in class")
    reference_rate: float = Field(description="the APTT model's reference point")
    band: str = Field(description="at-or-above-reference, below-reference or no-families")
    guardians_present: int
    by_relationship: dict[str, int]
    records: list[AttendanceRecordOut]

    @classmethod
    def of(
        cls, meeting_id: str, records: list[AttendanceRecord], summary: AttendanceSummary
    ) -> AttendanceOut:
        fields: dict[str, Any] = dict(summary.__dict__)
        return cls(
            meeting_id=meeting_id,
            records=[AttendanceRecordOut(**r.__dict__) for r in records],
            **fields,
        )
