"""Request and response bodies of the home-visit routes, and their bounds."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from aptt_contracts.scheduling import CancelReason, MissedReason, PlaceKind
from aptt_platform.web import RequestModel
from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from aptt_scheduling.api.schemas import Id, SchoolYear
from aptt_scheduling.domain.visit_hours import EducatorHours
from aptt_scheduling.domain.visits import Enrolment, Invitation
from aptt_scheduling.service.visit_access import CLOSE
from aptt_scheduling.service.visit_records import FollowUpKind, PeriodHours, ReflectionText
from aptt_scheduling.service.visits import InvitationBatch, VisitView

Address = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
Prompt = Annotated[str, StringConstraints(max_length=2000, strip_whitespace=True)]
Notes = Annotated[str, StringConstraints(max_length=8000, strip_whitespace=True)]


class OptInIn(RequestModel):
    school_year: SchoolYear = Field(examples=["2026-2027"])
    trained_on: date = Field(description="The day the educator finished home-visit training")


class EnrolmentOut(BaseModel):
    educator_id: str
    school_id: str
    school_year: str
    trained_on: date
    opted_in_at: datetime

    @classmethod
    def of(cls, enrolment: Enrolment) -> EnrolmentOut:
        return cls(**enrolment.__dict__)


class DrawIn(RequestModel):
    size: int = Field(ge=1, le=1000, description="How many families to draw at random")
    seed: int | None = Field(
        default=None, ge=0, lt=2**63, description="Repeat a draw; default: a fresh random seed"
    )


class InviteIn(RequestModel):
    """Every family of the class, or a random cross-section; never a filtered list."""

    school_year: SchoolYear = Field(examples=["2026-2027"])
    draw: DrawIn | None = None


class InvitationOut(BaseModel):
    invitation_id: str
    school_id: str
    classroom_id: str
    school_year: str
    student_id: str
    guardian_ids: list[str]
    status: str
    invited_at: datetime
    draw_id: str | None
    answered_by: str | None
    answer_channel: str | None
    answered_at: datetime | None

    @classmethod
    def of(cls, invitation: Invitation) -> InvitationOut:
        return cls(**{**invitation.__dict__, "guardian_ids": list(invitation.guardian_ids)})


class DrawOut(BaseModel):
    draw_id: str
    seed: int
    size: int
    population: int
    drawn: list[str]


class InvitationBatchOut(BaseModel):
    invited: list[InvitationOut]
    already_invited: int
    draw: DrawOut | None

    @classmethod
    def of(cls, batch: InvitationBatch) -> InvitationBatchOut:
        draw = None
        if batch.draw is not None:
            d: dict[str, Any] = batch.draw
            draw = DrawOut(
                draw_id=d["draw_id"],
                seed=d["seed"],
                size=d["size"],
                population=len(d["population"]),
                drawn=d["drawn"],
            )
        return cls(
            invited=[InvitationOut.of(i) for i in batch.invitations],
            already_invited=batch.already_invited,
            draw=draw,
        )


class AnswerIn(RequestModel):
    answer: Literal["yes", "no"]


class RecordedAnswerIn(RequestModel):
    answer: Literal["yes", "no"]
    channel: Literal["phone", "paper"]


class ProposeIn(RequestModel):
    invitation_id: Id
    educator_ids: list[Id] = Field(min_length=2, max_length=2)
    times: list[AwareDatetime] = Field(min_length=2, max_length=3)
    duration_minutes: int = Field(default=60, ge=30, le=180)


class ChooseIn(RequestModel):
    starts_at: AwareDatetime = Field(description="One of the proposed times, or another")
    place_kind: PlaceKind
    address: Address | None = Field(
        default=None, description="Seen only by the pair and the school's coordinators"
    )


class ConfirmIn(RequestModel):
    starts_at: AwareDatetime | None = Field(
        default=None, description="One of the family's times; none: the first it offered"
    )


class MoveIn(RequestModel):
    times: list[AwareDatetime] = Field(
        default_factory=list,
        max_length=3,
        description="The pair or a coordinator: two or three new times. The family: one or "
        "two times it can make, or none to ask the pair for new ones",
    )


class CancelIn(RequestModel):
    reason: CancelReason


class MissedIn(RequestModel):
    reason: MissedReason


class CompleteIn(RequestModel):
    started_at: AwareDatetime
    ended_at: AwareDatetime
    travel_minutes: int | None = Field(default=None, ge=0, le=600)


class FollowUpIn(RequestModel):
    kind: FollowUpKind
    contacted_on: date


class FollowUpOut(BaseModel):
    visit_id: str
    kind: str
    contacted_on: date
    logged_by: str
    logged_at: datetime


class VisitOut(BaseModel):
    visit_id: str
    school_id: str
    school_year: str
    invitation_id: str
    student_id: str
    guardian_id: str
    educator_ids: list[str]
    status: str
    proposed_times: list[datetime]
    duration_minutes: int
    starts_at: datetime | None
    local_starts_at: datetime | None
    timezone: str = Field(description="the school's time zone, to show proposed times in")
    family_time: datetime | None
    family_times: list[datetime] = Field(description="The times the family offered")
    moves: int = Field(description="How many times the visit was moved")
    place_kind: str | None
    address: str | None = Field(description="Only for the pair and the school's coordinators")
    visit_number: int | None
    started_at: datetime | None
    ended_at: datetime | None
    travel_minutes: int | None
    outcome_by: str | None
    outcome_role: str | None
    reason: str | None
    follow_ups: list[FollowUpOut]

    @classmethod
    def of(cls, view: VisitView) -> VisitOut:
        v = view.visit
        close = view.standing in CLOSE
        return cls(
            visit_id=v.visit_id,
            school_id=v.school_id,
            school_year=v.school_year,
            invitation_id=v.invitation_id,
            student_id=v.student_id,
            guardian_id=v.guardian_id,
            educator_ids=list(v.educator_ids),
            status=v.status,
            proposed_times=list(v.proposed_times),
            duration_minutes=v.duration_minutes,
            starts_at=v.starts_at,
            local_starts_at=v.starts_at.astimezone(ZoneInfo(view.timezone))
            if v.starts_at
            else None,
            timezone=view.timezone,
            family_time=v.family_time,
            family_times=list(v.family_times or ([v.family_time] if v.family_time else [])),
            moves=v.moves,
            place_kind=v.place_kind,
            address=v.address if close else None,
            visit_number=v.visit_number,
            started_at=v.started_at,
            ended_at=v.ended_at,
            travel_minutes=v.travel_minutes,
            outcome_by=v.outcome_by if close else None,
            outcome_role=v.outcome_role,
            reason=v.reason,
            follow_ups=[FollowUpOut(**f) for f in view.follow_ups],
        )


class ReflectionIn(RequestModel):
    hopes_learned: Prompt = Field(description="What we learned about the family's hopes")
    class_actions: Prompt = Field(description="What we will do in class")
    follow_up_promised: Prompt = Field(description="The follow-up we promised")
    notes: Notes = ""

    def text(self) -> ReflectionText:
        return ReflectionText(
            hopes_learned=self.hopes_learned,
            class_actions=self.class_actions,
            follow_up_promised=self.follow_up_promised,
            notes=self.notes,
        )


class ReflectionOut(BaseModel):
    visit_id: str
    hopes_learned: str
    class_actions: str
    follow_up_promised: str
    notes: str
    written_by: str
    written_at: datetime
    delete_at: datetime = Field(description="When the reflection is deleted (retention)")


class PeriodIn(RequestModel):
    first_day: date
    last_day: date


class EducatorHoursOut(BaseModel):
    educator_id: str
    visits: int
    visit_minutes: int
    outside_school_day_minutes: int
    travel_minutes: int
    paid_hours: float

    @classmethod
    def of(cls, row: EducatorHours) -> EducatorHoursOut:
        return cls(**row.__dict__, paid_hours=row.paid_hours)


class PeriodHoursOut(BaseModel):
    school_id: str
    first_day: date
    last_day: date
    timezone: str
    educators: list[EducatorHoursOut]
    approved_by: str | None
    approved_at: datetime | None

    @classmethod
    def of(cls, period: PeriodHours) -> PeriodHoursOut:
        return cls(
            school_id=period.school_id,
            first_day=period.first_day,
            last_day=period.last_day,
            timezone=period.timezone,
            educators=[EducatorHoursOut.of(r) for r in period.rows],
            approved_by=period.approved_by,
            approved_at=period.approved_at,
        )
