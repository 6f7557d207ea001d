"""Bodies of the goals HTTP API: requests refuse unknown fields; answers say what users see."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

from aptt_contracts.bounds import Score
from aptt_platform.web import PROBLEM_JSON, RequestModel
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from aptt_goals.domain import Goal, LibraryActivity, PlannedActivity, PracticeLog

Code = Annotated[str, StringConstraints(max_length=60, pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")]
Id = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
Grade = Annotated[int, Field(ge=0, le=12)]


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is answered."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str


PROBLEMS: dict[int, str] = {
    401: "no valid bearer token",
    403: "not allowed: the wrong role, or (staff) a record outside your schools or classrooms",
    404: "not found, or (guardian) not one of your children's records",
    409: "in conflict with what is kept",
    422: "`validation`: a field is missing, malformed or too long (`errors` says which)",
}


def problems(*statuses: int, described: Mapping[int, str] | None = None) -> dict[int | str, Any]:
    """OpenAPI `responses` for the problem details a route may answer with (and 401)."""
    schema = Problem.model_json_schema()
    return {
        code: {
            "description": (described or {}).get(code, PROBLEMS[code]),
            "content": {PROBLEM_JSON: {"schema": schema}},
        }
        for code in (401, *statuses)
    }


class ActivityPlanIn(RequestModel):
    """One home activity of a goal: a library activity's code, or the family's own words."""

    activity_code: Code | None = None
    description: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    times: int | None = Field(default=None, ge=0, le=100, description="how many times ...")
    per: Literal["day", "week"] | None = Field(default=None, description="... a day or a week")
    minutes: int | None = Field(default=None, ge=1, le=240)

    def planned(self) -> PlannedActivity:
        return PlannedActivity(
            activity_code=self.activity_code,
            description=self.description,
            times=self.times,
            per=self.per,
            minutes=self.minutes,
        )


class GoalIn(RequestModel):
    """A goal draft. What is missing is not a 422 validation error: the SMART checks say
    what to add, in the guardian's language."""

    student_id: Id
    skill_code: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    baseline: Score | None = Field(default=None, description="default: the latest result")
    target: Score | None = None
    activities: list[ActivityPlanIn] = Field(default_factory=list, max_length=10)
    starts_on: date | None = Field(default=None, description="default: today")
    ends_on: date | None = None


class CheckOut(BaseModel):
    name: Literal["specific", "measurable", "action_oriented", "realistic", "time_bound"]
    passed: bool
    reason: str
    suggestion: str | None


class CheckAnswer(BaseModel):
    smart: bool
    checks: list[CheckOut]
    baseline: float | None
    baseline_source: Literal["given", "latest_result"] | None
    starts_on: date
    ends_on: date | None


class ActivityPlanOut(BaseModel):
    activity_code: str | None
    description: str | None
    times: int | None
    per: Literal["day", "week"] | None
    minutes: int | None


class ProgressOut(BaseModel):
    percent: int
    latest_score: float | None
    latest_assessed_on: date | None
    target_reached_on: date | None


class PracticeSummaryOut(BaseModel):
    sessions: int
    minutes: int
    last_practiced_on: date | None


class GoalOut(BaseModel):
    goal_id: str
    student_id: str
    guardian_id: str
    skill_code: str
    baseline: float
    baseline_source: Literal["given", "latest_result"]
    target: float
    activities: list[ActivityPlanOut]
    starts_on: date
    ends_on: date
    status: Literal["active", "closed"]
    outcome: Literal["met", "not_met"] | None
    closed_on: date | None
    closed_reason: Literal["ended", "closed_early"] | None
    progress: ProgressOut
    practice: PracticeSummaryOut
    created_at: datetime

    @classmethod
    def of(cls, goal: Goal) -> GoalOut:
        return cls(
            goal_id=goal.goal_id,
            student_id=goal.student_id,
            guardian_id=goal.guardian_id,
            skill_code=goal.skill_code,
            baseline=goal.baseline,
            baseline_source=goal.baseline_source,
            target=goal.target,
            activities=[ActivityPlanOut(**vars(a)) for a in goal.activities],
            starts_on=goal.starts_on,
            ends_on=goal.ends_on,
            status=goal.status,
            outcome=goal.outcome,
            closed_on=goal.closed_on,
            closed_reason=goal.closed_reason,
            progress=ProgressOut(
                percent=goal.progress_percent,
                latest_score=goal.latest_score,
                latest_assessed_on=goal.latest_assessed_on,
                target_reached_on=goal.met_on,
            ),
            practice=PracticeSummaryOut(
                sessions=goal.practice_sessions,
                minutes=goal.practice_minutes,
                last_practiced_on=goal.last_practiced_on,
            ),
            created_at=goal.created_at,
        )


class GoalSetOut(GoalOut):
    checks: list[CheckOut]


class GoalPage(BaseModel):
    items: list[GoalOut]
    next_cursor: str | None


class BaselineOut(BaseModel):
    skill_code: str
    score: float
    assessed_on: date


class GoalSettingOut(BaseModel):
    student_id: str
    open: bool
    reason: str | None
    max_days: int
    suggested_skill_code: str | None = Field(
        description="the focus skill of the team meeting the guardian attended, when known"
    )
    baselines: list[BaselineOut]
    active_goal_ids: dict[str, str]


class PracticeIn(RequestModel):
    practiced_on: date
    minutes: int = Field(ge=1, le=600)
    activity_code: Code | None = None


class PracticeOut(BaseModel):
    practice_id: str
    goal_id: str
    practiced_on: date
    minutes: int
    activity_code: str | None
    logged_by: str

    @classmethod
    def of(cls, log: PracticeLog) -> PracticeOut:
        return cls(
            practice_id=log.practice_id,
            goal_id=log.goal_id,
            practiced_on=log.practiced_on,
            minutes=log.minutes,
            activity_code=log.activity_code,
            logged_by=log.logged_by,
        )


class PracticeLogged(PracticeOut):
    practice: PracticeSummaryOut


class PracticePage(BaseModel):
    items: list[PracticeOut]
    next_cursor: str | None


class ActivityIn(RequestModel):
    skill_code: Code
    grades: list[Grade] = Field(min_length=1, max_length=13)
    title: dict[Language, Annotated[str, StringConstraints(min_length=1, max_length=80)]] = Field(
        min_length=1, max_length=20, description="by language code, e.g. en, es"
    )
    instructions: dict[
        Language, Annotated[str, StringConstraints(min_length=1, max_length=600)]
    ] = Field(min_length=1, max_length=20, description="short, plain words; by language code")
    times: int | None = Field(default=None, ge=1, le=21, description="suggested frequency")
    per: Literal["day", "week"] | None = None
    minutes: int | None = Field(default=None, ge=1, le=240)


class SuggestedOut(BaseModel):
    times: int | None
    per: Literal["day", "week"] | None
    minutes: int | None


class ActivityOut(BaseModel):
    activity_code: str
    skill_code: str
    grades: list[int]
    source: Literal["built-in", "district"]
    languages: list[str]
    title: dict[str, str]
    instructions: dict[str, str]
    suggested: SuggestedOut

    @classmethod
    def of(cls, activity: LibraryActivity, lang: str | None = None) -> ActivityOut:
        def only(texts: dict[str, str]) -> dict[str, str]:
            return {lang: texts[lang]} if lang is not None and lang in texts else texts

        return cls(
            activity_code=activity.code,
            skill_code=activity.skill_code,
            grades=list(activity.grades),
            source=activity.source,
            languages=list(activity.languages),
            title=only(dict(activity.title)),
            instructions=only(dict(activity.instructions)),
            suggested=SuggestedOut(
                times=activity.times, per=activity.per, minutes=activity.minutes
            ),
        )


class ActivityPage(BaseModel):
    items: list[ActivityOut]
    next_cursor: str | None
