"""Events of the goals service: SMART goals and their progress."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from aptt_contracts.bounds import Code, Id
from aptt_contracts.envelope import EventModel

GOALS = "aptt.goals.goals.v1"


class GoalSet(EventModel):
    event_type = "org.aptt.goals.goal.set.v1"
    topic = GOALS
    subject_field = "goal_id"

    goal_id: Id
    student_id: Id
    guardian_id: Id
    skill_code: Code
    baseline: float
    target: float
    starts_on: date
    ends_on: date
    activity_codes: list[Code] = Field(max_length=10)


class PracticeLogged(EventModel):
    event_type = "org.aptt.goals.practice.logged.v1"
    topic = GOALS
    subject_field = "goal_id"

    goal_id: Id
    student_id: Id
    practiced_on: date
    minutes: int = Field(ge=1, le=600)


class GoalProgressed(EventModel):
    event_type = "org.aptt.goals.goal.progressed.v1"
    topic = GOALS
    subject_field = "goal_id"

    goal_id: Id
    student_id: Id
    skill_code: Code
    score: float
    target: float
    progress_percent: int = Field(ge=0, le=100)
    assessed_on: date


class GoalMet(EventModel):
    event_type = "org.aptt.goals.goal.met.v1"
    topic = GOALS
    subject_field = "goal_id"

    goal_id: Id
    student_id: Id
    skill_code: Code
    score: float
    target: float


class GoalClosed(EventModel):
    event_type = "org.aptt.goals.goal.closed.v1"
    topic = GOALS
    subject_field = "goal_id"

    goal_id: Id
    student_id: Id
    skill_code: Code
    outcome: Literal["met", "not_met"]
    reason: Literal["ended", "closed_early"] | None = Field(
        default=None,
        description="ended: its end date passed; closed_early: the guardian closed it before",
    )
    target: float | None = None
    score: float | None = Field(default=None, description="The latest result that counted")
    progress_percent: int | None = Field(default=None, ge=0, le=100)
