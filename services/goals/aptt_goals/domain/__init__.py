"""The goals domain: SMART checks, goals and their progress, the activity library. No I/O."""

from __future__ import annotations

from aptt_goals.domain.draft import (
    CHECK_NAMES,
    DEFAULT_MAX_DAYS,
    DEFAULT_STRETCH,
    CheckContext,
    CheckName,
    CheckResult,
    GoalDraft,
    Per,
    PlannedActivity,
)
from aptt_goals.domain.goal import (
    MAX_MINUTES_A_DAY,
    BaselineSource,
    CloseReason,
    Goal,
    GoalStatus,
    Outcome,
    closes_at,
    local_today,
    progress_percent,
    reached,
)
from aptt_goals.domain.library import (
    BUILT_IN_ACTIVITIES,
    BUILT_IN_BY_CODE,
    ActivitySource,
    LibraryActivity,
)
from aptt_goals.domain.roster import Classroom, PracticeLog, Result, Student
from aptt_goals.domain.skills import BUILT_IN_SCALES, SkillScale
from aptt_goals.domain.smart import is_smart, smart_checks
from aptt_goals.domain.text import Localized, Param, Text, text

__all__ = [
    "BUILT_IN_ACTIVITIES",
    "BUILT_IN_BY_CODE",
    "BUILT_IN_SCALES",
    "CHECK_NAMES",
    "DEFAULT_MAX_DAYS",
    "DEFAULT_STRETCH",
    "MAX_MINUTES_A_DAY",
    "ActivitySource",
    "BaselineSource",
    "CheckContext",
    "CheckName",
    "CheckResult",
    "Classroom",
    "CloseReason",
    "Goal",
    "GoalDraft",
    "GoalStatus",
    "LibraryActivity",
    "Localized",
    "Outcome",
    "Param",
    "Per",
    "PlannedActivity",
    "PracticeLog",
    "Result",
    "SkillScale",
    "Student",
    "Text",
    "closes_at",
    "is_smart",
    "local_today",
    "progress_percent",
    "reached",
    "smart_checks",
    "text",
]
