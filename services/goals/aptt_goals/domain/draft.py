"""A goal draft as a guardian fills it in, what the SMART checks need, and what they say."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from aptt_goals.domain.library import LibraryActivity
from aptt_goals.domain.skills import SkillScale
from aptt_goals.domain.text import Text

CheckName = Literal["specific", "measurable", "action_oriented", "realistic", "time_bound"]
CHECK_NAMES: tuple[CheckName, ...] = (
    "specific",
    "measurable",
    "action_oriented",
    "realistic",
    "time_bound",
)
Per = Literal["day", "week"]

# A target may ask for this many times the typical weekly growth: home practice aims above
# the typical pace, and the "ambitious" reading growth rates of Fuchs et al. (1993) are about
# 1.3 to 1.6 times their "realistic" ones (decision 0400). APTT_GOALS_STRETCH_FACTOR sets it.
DEFAULT_STRETCH = 1.5
DEFAULT_MAX_DAYS = 60
# Shorter than two weeks, practice cannot show in a score.
MIN_DAYS = 14
# A goal set a few days after the meeting may start on the meeting day.
START_GRACE_DAYS = 7
START_AHEAD_DAYS = 30
# More often than this is a plan a family will not keep.
MAX_TIMES: Mapping[Per, int] = {"day": 3, "week": 21}
# Floating point sums of growth must not fail a target exactly on the limit.
EPSILON = 1e-9


@dataclass(frozen=True)
class PlannedActivity:
    """A home activity of a goal: from the library (code) or the family's own (description)."""

    activity_code: str | None = None
    description: str | None = None
    times: int | None = None
    per: Per | None = None
    minutes: int | None = None


@dataclass(frozen=True)
class GoalDraft:
    skill_code: str
    baseline: float | None
    target: float | None
    activities: Sequence[PlannedActivity]
    starts_on: date
    ends_on: date | None


@dataclass(frozen=True)
class CheckContext:
    """What the checks need beyond the draft, looked up by the service."""

    skill: SkillScale | None  # None: not a skill of this district
    grade: int | None
    today: date
    known_skills: Sequence[SkillScale]
    library: Mapping[str, LibraryActivity]  # the draft's activity codes that exist
    max_days: int = DEFAULT_MAX_DAYS
    stretch: float = DEFAULT_STRETCH


@dataclass(frozen=True)
class CheckResult:
    name: CheckName
    passed: bool
    reason: Text
    suggestion: Text | None = None
