"""Wiring of the goals service: settings, app, consumers, relay, the goal-closing loop."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aptt_platform.runtime import Runtime, ServiceDefinition, create_app, serve
from aptt_platform.settings import ServiceSettings
from fastapi import FastAPI
from pydantic import Field, field_validator

from aptt_goals import api, consumers, i18n, service, store


class Settings(ServiceSettings):
    service_name: str = "goals"
    # Time-bound: the longest goal in days (60; some districts use six weeks, 42).
    goals_max_days: int = Field(default=60, ge=14, le=366)
    # Goal setting opens for a guardian once attendance at a team meeting is recorded.
    goals_require_attendance: bool = True
    # Realistic: a target may ask this many times the skill's typical weekly growth.
    goals_stretch_factor: float = Field(default=1.5, ge=1.0, le=4.0)
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

    def rules(self) -> service.GoalRules:
        return service.GoalRules(
            max_days=self.goals_max_days,
            stretch=self.goals_stretch_factor,
            require_attendance=self.goals_require_attendance,
            default_timezone=self.default_timezone,
        )


def build_app(settings: Settings | None = None, *, clock: service.Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    clock = clock or service.system_clock
    i18n.catalogues()  # a broken catalogue stops the start, not a guardian's request
    interval = settings.goals_close_interval_seconds

    # Bound to a name, not a lambda: mypy needs the Coroutine type the platform expects.
    async def close_due_goals(runtime: Runtime) -> None:
        await service.close_due_goals_forever(runtime, clock=clock, interval=interval)

    app = create_app(
        ServiceDefinition(
            settings=settings,
            title="APTT goals service",
            description=(api.__doc__ or "").strip(),
            routers=[api.router],
            handlers=consumers.HANDLERS,
            indexes=store.INDEXES,
            background=[close_due_goals],
        )
    )
    app.state.goal_rules = settings.rules()
    app.state.clock = clock
    return app


def main() -> None:
    settings = Settings()
    serve(build_app(settings), settings)
