"""The service's rules as settings give them, and the clock its use cases read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aptt_platform.mongo import UnitOfWork

from aptt_goals.domain import DEFAULT_MAX_DAYS, DEFAULT_STRETCH, Goal

# Use cases take the time as an argument, so tests can move it instead of waiting.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class GoalRules:
    max_days: int = DEFAULT_MAX_DAYS
    stretch: float = DEFAULT_STRETCH
    require_attendance: bool = True
    # For schools whose time zone the roster has not told us yet.
    default_timezone: str = "America/Los_Angeles"


def publish_goal_events(uow: UnitOfWork, goal: Goal) -> None:
    for event in goal.events:
        uow.publish(event)
    goal.events.clear()
