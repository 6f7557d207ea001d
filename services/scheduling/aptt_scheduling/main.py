"""Wiring of the scheduling service: settings, app, consumers, relay."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aptt_platform.runtime import ServiceDefinition, create_app, serve
from aptt_platform.settings import ServiceSettings
from fastapi import FastAPI
from pydantic import Field, field_validator

from aptt_scheduling import api, consumers, store
from aptt_scheduling.service import Options


class Settings(ServiceSettings):
    service_name: str = "scheduling"
    # The time zone of a school the roster has not given one yet (dates of windows, display).
    default_timezone: str = "America/Los_Angeles"
    # Unset: attendance may be taken once a meeting is scheduled. Set (e.g. 60): only from
    # that many minutes before the start, as families sign in (decision 0304).
    attendance_opens_minutes_before: int | None = Field(default=None, ge=0, le=7 * 24 * 60)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone") from exc
        return value


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_app(
        ServiceDefinition(
            settings=settings,
            title="APTT scheduling service",
            description=(api.__doc__ or "").strip(),
            routers=[api.router],
            handlers=consumers.build_handlers(default_timezone=settings.default_timezone),
            indexes=store.INDEXES,
        )
    )
    app.state.scheduling_options = Options(
        default_timezone=settings.default_timezone,
        attendance_opens_minutes_before=settings.attendance_opens_minutes_before,
    )
    return app


def main() -> None:
    settings = Settings()
    serve(build_app(settings), settings)
