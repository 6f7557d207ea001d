"""Bodies of the conference routes, and their bounds."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

from aptt_contracts.scheduling import ConferenceReason
from aptt_platform.web import RequestModel
from pydantic import AwareDatetime, BaseModel, Field, HttpUrl, StringConstraints

from aptt_scheduling.api.schemas import Id, Language
from aptt_scheduling.domain.conferences import (
    DEFAULT_SLOT_MINUTES,
    MAX_BUFFER_MINUTES,
    MAX_SLOT_MINUTES,
    MIN_SLOT_MINUTES,
    Break,
    DayRange,
)
from aptt_scheduling.service.conferences import (
    GOAL_FIELDS,
    AvailabilityDraft,
    AvailabilityView,
    BookingView,
    Hold,
    SlotView,
)
from aptt_scheduling.service.conferences_views import DaySheet
from aptt_scheduling.service.siblings import Proposal


class BreakIn(RequestModel):
    starts: time
    ends: time


class DayIn(RequestModel):
    day: date = Field(description="a school-local date")
    starts: time = Field(description="school-local time, e.g. 17:00")
    ends: time
    breaks: list[BreakIn] = Field(default_factory=list, max_length=10)


Place = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class AvailabilityIn(RequestModel):
    days: list[DayIn] = Field(min_length=1, max_length=31)
    place: str = Field(min_length=1, max_length=200, description="a room, or 'video'")
    video_link: HttpUrl | None = Field(default=None, description="for a virtual conference")
    slot_minutes: int = Field(
        default=DEFAULT_SLOT_MINUTES, ge=MIN_SLOT_MINUTES, le=MAX_SLOT_MINUTES
    )
    buffer_minutes: int = Field(default=0, ge=0, le=MAX_BUFFER_MINUTES)
    signup_opens_at: AwareDatetime
    signup_closes_at: AwareDatetime | None = Field(
        default=None, description="default: 24 hours before the first slot"
    )
    change_cutoff_hours: int = Field(
        default=24, ge=0, le=14 * 24, description="families change or cancel until then"
    )
    student_led: bool = False
    window_id: Id | None = Field(
        default=None, description="default: the classroom's conference window holding the days"
    )

    def draft(self) -> AvailabilityDraft:
        return AvailabilityDraft(
            days=tuple(
                DayRange(d.day, d.starts, d.ends, tuple(Break(b.starts, b.ends) for b in d.breaks))
                for d in self.days
            ),
            place=self.place,
            video_link=str(self.video_link) if self.video_link else None,
            slot_minutes=self.slot_minutes,
            buffer_minutes=self.buffer_minutes,
            signup_opens_at=self.signup_opens_at,
            signup_closes_at=self.signup_closes_at,
            change_cutoff_hours=self.change_cutoff_hours,
            student_led=self.student_led,
            window_id=self.window_id,
        )


class SchoolEveningIn(AvailabilityIn):
    places: dict[Id, Place] = Field(
        default_factory=dict,
        max_length=500,
        description="a place for each classroom (its id -> room); the others take `place`",
    )


class ClassroomAvailabilityIn(AvailabilityIn):
    classroom_id: Id


class SlotOut(BaseModel):
    slot_id: str
    starts_at: datetime
    ends_at: datetime
    local_starts_at: datetime
    state: str = Field(description="free, held, booked, or yours")
    booking_id: str | None = None
    student_id: str | None = None

    @classmethod
    def of(cls, view: SlotView, timezone: str) -> SlotOut:
        return cls(
            slot_id=view.slot.slot_id,
            starts_at=view.slot.starts_at,
            ends_at=view.slot.ends_at,
            local_starts_at=view.slot.starts_at.astimezone(ZoneInfo(timezone)),
            state=view.state,
            booking_id=view.booking_id,
            student_id=view.student_id,
        )


class AvailabilityOut(BaseModel):
    availability_id: str
    window_id: str
    classroom_id: str
    school_id: str
    timezone: str
    place: str
    video_link: str | None
    slot_minutes: int
    buffer_minutes: int
    signup_opens_at: datetime
    signup_closes_at: datetime
    change_cutoff_hours: int
    student_led: bool
    slots: list[SlotOut]
    booked_slots_kept: list[str] = Field(
        default_factory=list,
        description="booked slots outside the new hours: they stay until the teacher moves them",
    )
    offered_with_interpreter: list[str] | None = Field(
        default=None,
        description="asked with interpreter_language: free slots with an interpreter of it, "
        "next to other families of the language first",
    )

    @classmethod
    def of(cls, view: AvailabilityView) -> AvailabilityOut:
        a = view.availability
        return cls(
            availability_id=a.availability_id,
            window_id=a.window_id,
            classroom_id=a.classroom_id,
            school_id=a.school_id,
            timezone=a.timezone,
            place=a.place,
            video_link=a.video_link,
            slot_minutes=a.slot_minutes,
            buffer_minutes=a.buffer_minutes,
            signup_opens_at=a.signup_opens_at,
            signup_closes_at=a.signup_closes_at,
            change_cutoff_hours=a.change_cutoff_hours,
            student_led=a.student_led,
            slots=[SlotOut.of(s, a.timezone) for s in view.slots],
            booked_slots_kept=view.booked_slots_kept,
            offered_with_interpreter=view.offered_with_interpreter,
        )


class HoldIn(RequestModel):
    student_id: Id


class HoldOut(BaseModel):
    hold_id: str
    slot_id: str
    student_id: str
    expires_at: datetime

    @classmethod
    def of(cls, hold: Hold) -> HoldOut:
        return cls(
            hold_id=hold.hold_id,
            slot_id=hold.slot.slot_id,
            student_id=hold.student_id,
            expires_at=hold.expires_at,
        )


class BookingIn(RequestModel):
    student_id: Id
    guardian_id: Id | None = Field(
        default=None, description="staff booking for a family: which guardian (default: first)"
    )
    interpreter_language: Language | None = None


class CancelIn(RequestModel):
    reason_code: ConferenceReason | None = None
    note: str | None = Field(
        default=None, max_length=500, description="staff: a note for the family (kept here only)"
    )


class MoveIn(CancelIn):
    slot_id: Id


class GoalOut(BaseModel):
    goal_id: str
    skill_code: str | None = None
    baseline: float | None = None
    target: float | None = None
    ends_on: str | None = None
    score: float | None = Field(default=None, description="the latest result")
    progress_percent: int | None = None
    assessed_on: str | None = None
    met: bool | None = None


class BookingOut(BaseModel):
    booking_id: str
    status: str
    slot_id: str
    availability_id: str
    window_id: str
    classroom_id: str
    school_id: str
    student_id: str
    guardian_id: str
    starts_at: datetime
    ends_at: datetime
    local_starts_at: datetime
    place: str
    video_link: str | None
    student_led: bool
    interpreter_language: str | None
    interpreter_id: str | None
    by: str
    sequence: int
    reason_code: str | None
    reason_note: str | None
    goals: list[GoalOut] = Field(
        default_factory=list, description="the child's current goals and latest progress"
    )

    @classmethod
    def of(cls, view: BookingView) -> BookingOut:
        b = view.booking
        return cls(
            booking_id=b.booking_id,
            status=b.status,
            slot_id=b.slot_id,
            availability_id=b.availability_id,
            window_id=b.window_id,
            classroom_id=b.classroom_id,
            school_id=b.school_id,
            student_id=b.student_id,
            guardian_id=b.guardian_id,
            starts_at=b.starts_at,
            ends_at=b.ends_at,
            local_starts_at=b.starts_at.astimezone(ZoneInfo(view.timezone)),
            place=view.place,
            video_link=view.video_link,
            student_led=b.student_led,
            interpreter_language=b.interpreter_language,
            interpreter_id=b.interpreter_id,
            by=b.by,
            sequence=b.sequence,
            reason_code=b.reason_code,
            reason_note=b.reason_note,
            goals=[GoalOut.model_validate(g) for g in view.goals],
        )


class PlanIn(RequestModel):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    student_ids: list[Id] = Field(
        default_factory=list, max_length=6, description="default: all your children"
    )


class PlannedSlotOut(BaseModel):
    student_id: str
    slot_id: str
    classroom_id: str
    school_id: str
    starts_at: datetime
    ends_at: datetime
    hold_id: str
    hold_expires_at: datetime


class PlanOut(BaseModel):
    gap_minutes: int
    building_changes: int
    slots: list[PlannedSlotOut]

    @classmethod
    def of(cls, proposal: Proposal) -> PlanOut:
        holds = {h.slot.slot_id: h for h in proposal.holds}
        return cls(
            gap_minutes=proposal.plan.gap_minutes,
            building_changes=proposal.plan.building_changes,
            slots=[
                PlannedSlotOut(
                    student_id=o.student_id,
                    slot_id=o.slot_id,
                    classroom_id=o.classroom_id,
                    school_id=o.school_id,
                    starts_at=o.starts_at,
                    ends_at=o.ends_at,
                    hold_id=holds[o.slot_id].hold_id,
                    hold_expires_at=holds[o.slot_id].expires_at,
                )
                for o in proposal.plan.options
            ],
        )


class PlanItemIn(RequestModel):
    student_id: Id
    slot_id: Id


class PlanBookingIn(RequestModel):
    items: list[PlanItemIn] = Field(min_length=1, max_length=6)
    interpreter_language: Language | None = None


class SheetRowOut(BaseModel):
    slot_id: str
    starts_at: datetime
    local_starts_at: datetime
    booking_id: str | None
    student_id: str | None
    guardian_id: str | None
    interpreter_language: str | None
    interpreter_id: str | None
    student_led: bool | None
    goals: list[GoalOut]


class DaySheetOut(BaseModel):
    classroom_id: str
    day: date
    timezone: str
    rows: list[SheetRowOut]
    not_booked: list[str] = Field(description="students of the class without a conference yet")

    @classmethod
    def of(cls, sheet: DaySheet) -> DaySheetOut:
        zone = ZoneInfo(sheet.timezone)
        return cls(
            classroom_id=sheet.classroom_id,
            day=sheet.day,
            timezone=sheet.timezone,
            not_booked=sheet.not_booked,
            rows=[
                SheetRowOut(
                    slot_id=r.slot.slot_id,
                    starts_at=r.slot.starts_at,
                    local_starts_at=r.slot.starts_at.astimezone(zone),
                    booking_id=r.booking.booking_id if r.booking else None,
                    student_id=r.booking.student_id if r.booking else None,
                    guardian_id=r.booking.guardian_id if r.booking else None,
                    interpreter_language=r.booking.interpreter_language if r.booking else None,
                    interpreter_id=r.booking.interpreter_id if r.booking else None,
                    student_led=r.booking.student_led if r.booking else None,
                    goals=[
                        GoalOut.model_validate({k: g.get(k) for k in GOAL_FIELDS if k in g})
                        for g in r.goals
                    ],
                )
                for r in sheet.rows
            ],
        )


class WaitlistIn(RequestModel):
    window_id: Id
    student_id: Id


class WaitlistOut(BaseModel):
    entry_id: str
    window_id: str
    student_id: str
    status: str
    created_at: datetime
