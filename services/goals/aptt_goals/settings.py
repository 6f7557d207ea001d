"""The goals service's settings (environment) and the configuration it hands the platform."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aptt_platform.settings import ServiceSettings
from pydantic import Field, field_validator

from aptt_goals.domain import DEFAULT_MAX_DAYS, DEFAULT_STRETCH

# Use cases take the time as an argument, so tests can move it instead of waiting.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class GoalRules:
    """The deployment's rules for goals (one value for every district it serves)."""

    max_days: int = DEFAULT_MAX_DAYS
    stretch: float = DEFAULT_STRETCH
    require_attendance: bool = True
    # For schools whose time zone the roster has not told us yet.
    default_timezone: str = "America/Los_Angeles"


@dataclass(frozen=True)
class Config:
    """What handlers (`uow.config_as(Config)`), routes (`ConfigDep`) and the closing loop
    read: the rules, the clock and how often goals past their end date are closed."""

    rules: GoalRules = GoalRules()
    clock: Clock = system_clock
    close_interval_seconds: float = 60.0

    def now(self) -> datetime:
        return self.clock()


class Settings(ServiceSettings):
    service_name: str = "goals"
    # Time-bound: the longest goal in days (60; some districts use six weeks, 42).
    goals_max_days: int = Field(default=DEFAULT_MAX_DAYS, ge=14, le=366)
    # Goal setting opens for a guardian once attendance at a team meeting is recorded.
    goals_require_attendance: bool = True
    # Realistic: a target may ask this many times the skill's typical weekly growth.
    goals_stretch_factor: float = Field(default=DEFAULT_STRETCH, ge=1.0, le=4.0)
    # How often the loop looks for goals whose end date has passed.
    goals_close_interval_seconds: float = Field(default=60.0, gt=0, le=3600)
    # For schools whose time zone has not come with the roster yet.
    default_timezone: str = "America/Los_Angeles"

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    def config(self, clock: Clock = system_clock) -> Config:
        return Config(
            rules=GoalRules(
                max_days=self.goals_max_days,
                stretch=self.goals_stretch_factor,
                require_attendance=self.goals_require_attendance,
                default_timezone=self.default_timezone,
            ),
            clock=clock,
            close_interval_seconds=self.goals_close_interval_seconds,
        )
