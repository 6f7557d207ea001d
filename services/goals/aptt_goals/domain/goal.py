"""A goal from the day it is set to the day it closes, and the events it records.

A goal is active until its end date has passed; reaching the target before then is news
(GoalMet, once) but the goal runs to its end, so the family keeps practising. It then
closes as met when the target was reached while it ran, else as not met.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from aptt_contracts.envelope import EventModel
from aptt_contracts.goals import GoalClosed, GoalMet, GoalProgressed, GoalSet, PracticeLogged

from aptt_goals.domain.draft import PlannedActivity
from aptt_goals.domain.text import Text, text

GoalStatus = Literal["active", "closed"]
Outcome = Literal["met", "not_met"]
CloseReason = Literal["ended", "closed_early"]
BaselineSource = Literal["given", "latest_result"]

# One day's practice beyond this is a typing mistake, not practice (PracticeLogged allows 600).
MAX_MINUTES_A_DAY = 600


def progress_percent(baseline: float, target: float, score: float) -> int:
    """(score - baseline) / (target - baseline), as a whole percent clamped to 0..100."""
    if target == baseline:
        return 100
    share = (score - baseline) / (target - baseline)
    # The epsilon keeps a score exactly on the target from showing as 99%.
    return max(0, min(100, int(share * 100 + 1e-9)))


def reached(target: float, score: float, *, higher_is_better: bool) -> bool:
    return score >= target if higher_is_better else score <= target


def closes_at(ends_on: date, timezone: str) -> datetime:
    """The goal runs through its end date in the school's time zone, and closes after it."""
    return datetime.combine(ends_on + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone))


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


@dataclass
class Goal:
    goal_id: str
    district_id: str
    student_id: str
    school_id: str
    guardian_id: str
    skill_code: str
    higher_is_better: bool
    baseline: float
    baseline_source: BaselineSource
    target: float
    activities: tuple[PlannedActivity, ...]
    starts_on: date
    ends_on: date
    closes_at: datetime
    created_at: datetime
    status: GoalStatus = "active"
    outcome: Outcome | None = None
    closed_on: date | None = None
    closed_reason: CloseReason | None = None
    latest_score: float | None = None
    latest_assessed_on: date | None = None
    latest_result_id: str | None = None
    progress_percent: int = 0
    met_on: date | None = None
    practice_sessions: int = 0
    practice_minutes: int = 0
    last_practiced_on: date | None = None
    events: list[EventModel] = field(default_factory=list, repr=False, compare=False)

    @property
    def library_codes(self) -> list[str]:
        return [a.activity_code for a in self.activities if a.activity_code is not None]

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    def announce(self) -> None:
        self.events.append(
            GoalSet(
                district_id=self.district_id,
                goal_id=self.goal_id,
                student_id=self.student_id,
                guardian_id=self.guardian_id,
                skill_code=self.skill_code,
                baseline=self.baseline,
                target=self.target,
                starts_on=self.starts_on,
                ends_on=self.ends_on,
                activity_codes=self.library_codes,
            )
        )

    def record_result(self, *, result_id: str, score: float, assessed_on: date) -> bool:
        """Take a new assessment result as progress; False when it does not count.

        A result counts when it is dated within the goal and is not older than the one
        progress already stands on (results can arrive out of order); a correction of that
        same result counts again.
        """
        if not self.is_active or not self.starts_on <= assessed_on <= self.ends_on:
            return False
        if self.latest_assessed_on is not None and assessed_on < self.latest_assessed_on:
            return False
        if result_id == self.latest_result_id and score == self.latest_score:
            return False  # the same result again (a re-import): no news
        self.latest_score = score
        self.latest_assessed_on = assessed_on
        self.latest_result_id = result_id
        self.progress_percent = progress_percent(self.baseline, self.target, score)
        self.events.append(
            GoalProgressed(
                district_id=self.district_id,
                goal_id=self.goal_id,
                student_id=self.student_id,
                skill_code=self.skill_code,
                score=score,
                target=self.target,
                progress_percent=self.progress_percent,
                assessed_on=assessed_on,
            )
        )
        if self.met_on is None and reached(
            self.target, score, higher_is_better=self.higher_is_better
        ):
            self.met_on = assessed_on
            self.events.append(
                GoalMet(
                    district_id=self.district_id,
                    goal_id=self.goal_id,
                    student_id=self.student_id,
                    skill_code=self.skill_code,
                    score=score,
                    target=self.target,
                )
            )
        return True

    def is_due(self, now: datetime) -> bool:
        return self.is_active and now >= self.closes_at

    def close(self, *, on: date, reason: CloseReason) -> None:
        """Close the goal as met (target reached while it ran) or not met."""
        if not self.is_active:
            return
        self.status = "closed"
        self.outcome = "met" if self.met_on is not None else "not_met"
        self.closed_on = on
        self.closed_reason = reason
        self.events.append(
            GoalClosed(
                district_id=self.district_id,
                goal_id=self.goal_id,
                student_id=self.student_id,
                skill_code=self.skill_code,
                outcome=self.outcome,
                reason=reason,
                target=self.target,
                score=self.latest_score,
                progress_percent=self.progress_percent,
            )
        )

    def practice_problem(
        self,
        *,
        practiced_on: date,
        minutes: int,
        activity_code: str | None,
        today: date,
        minutes_already: int,
    ) -> Text | None:
        """Why a practice log cannot be taken, or None when it can."""
        if not self.is_active:
            return text("Practice can be logged only while the goal is running.")
        last_day = min(self.ends_on, today)
        if not self.starts_on <= practiced_on <= last_day:
            return text(
                "The practice date must be between {starts_on} and {last_day}.",
                starts_on=self.starts_on,
                last_day=last_day,
            )
        if activity_code is not None and activity_code not in self.library_codes:
            return text('The activity "{code}" is not part of this goal.', code=activity_code)
        if minutes_already + minutes > MAX_MINUTES_A_DAY:
            return text(
                "That makes more than {limit} minutes of practice on {day}.",
                limit=MAX_MINUTES_A_DAY,
                day=practiced_on,
            )
        return None

    def log_practice(self, *, practiced_on: date, minutes: int) -> None:
        self.practice_sessions += 1
        self.practice_minutes += minutes
        if self.last_practiced_on is None or practiced_on > self.last_practiced_on:
            self.last_practiced_on = practiced_on
        self.events.append(
            PracticeLogged(
                district_id=self.district_id,
                goal_id=self.goal_id,
                student_id=self.student_id,
                practiced_on=practiced_on,
                minutes=minutes,
            )
        )
