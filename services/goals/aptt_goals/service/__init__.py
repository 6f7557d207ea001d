"""Use cases of the goals service: one function per command or handled event."""

from __future__ import annotations

from aptt_goals.service.closing import close_due_goal, close_due_goals, due_goals
from aptt_goals.service.goals import (
    CheckedDraft,
    GoalRequest,
    GoalSettingStatus,
    RenderedCheck,
    check_goal,
    close_goal_early,
    get_goal,
    goal_setting_status,
    list_classroom_goals,
    list_student_goals,
    render_checks,
    set_goal,
)
from aptt_goals.service.library import ActivityRequest, add_activity, list_activities
from aptt_goals.service.practice import list_practice, log_practice

__all__ = [
    "ActivityRequest",
    "CheckedDraft",
    "GoalRequest",
    "GoalSettingStatus",
    "RenderedCheck",
    "add_activity",
    "check_goal",
    "close_due_goal",
    "close_due_goals",
    "close_goal_early",
    "due_goals",
    "get_goal",
    "goal_setting_status",
    "list_activities",
    "list_classroom_goals",
    "list_practice",
    "list_student_goals",
    "log_practice",
    "render_checks",
    "set_goal",
]
