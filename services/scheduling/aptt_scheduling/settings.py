"""Settings of the scheduling service (`APTT_*` environment variables), and the part of them
the use cases and handlers read (`uow.config_as(Config)`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aptt_platform.settings import ServiceSettings
from pydantic import Field, field_validator, model_validator

DEFAULT_TIMEZONE = "America/Los_Angeles"


@dataclass(frozen=True)
class Config:
    """What the use cases need of the settings; the platform hands it to every unit of work."""

    # The zone of a school the roster has not given one yet (dates of windows, display).
    default_timezone: str = DEFAULT_TIMEZONE
    # None: attendance may be taken once a meeting is scheduled. A number: only from that
    # many minutes before the start, as families sign in (decision 0304).
    attendance_opens_minutes_before: int | None = None
    # Home visits (decision 0323): the school day educators are paid outside of, on the
    # school's wall clock, and how long after the school year reflections are kept.
    visit_school_day_starts: time = time(8, 0)
    visit_school_day_ends: time = time(15, 0)
    visit_reflection_retention_days: int = 365
    # Coverage bands are not shown for fewer students with results than this.
    visit_coverage_min_group: int = 5
    # Conferences (decision 0310): how long a family's hold keeps a slot, and how many
    # bookings one guardian may have in one conference window.
    conference_hold_seconds: int = 120
    conference_bookings_per_guardian: int = 1
    # How long a slot offered to the first family on the waitlist is held for it.
    conference_offer_hold_seconds: int = 3600
    # Family-event consolidation (decision 0330): more events than this in a month is
    # crowded; an unlinked event this many days from a team meeting sits next to it; fewer
    # families than this is a small turnout.
    consolidation_crowded_month: int = 3
    consolidation_near_days: int = 7
    consolidation_few_families: int = 10


class Settings(ServiceSettings):
    service_name: str = "scheduling"
    default_timezone: str = DEFAULT_TIMEZONE
    attendance_opens_minutes_before: int | None = Field(default=None, ge=0, le=7 * 24 * 60)
    # Home visits (decision 0323).
    visit_school_day_starts: time = time(8, 0)
    visit_school_day_ends: time = time(15, 0)
    visit_reflection_retention_days: int = Field(default=365, ge=0, le=10 * 365)
    visit_coverage_min_group: int = Field(default=5, ge=1, le=100)
    conference_hold_seconds: int = Field(default=120, ge=1, le=30 * 60)
    conference_bookings_per_guardian: int = Field(default=1, ge=1, le=20)
    conference_offer_hold_seconds: int = Field(default=3600, ge=1, le=7 * 24 * 3600)
    # Family-event consolidation (decision 0330).
    consolidation_crowded_month: int = Field(default=3, ge=1, le=31)
    consolidation_near_days: int = Field(default=7, ge=0, le=31)
    consolidation_few_families: int = Field(default=10, ge=0, le=10_000)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone") from exc
        return value

    @model_validator(mode="after")
    def _school_day_in_order(self) -> Settings:
        if self.visit_school_day_ends <= self.visit_school_day_starts:
            raise ValueError("the school day must end after it starts")
        return self

    def config(self) -> Config:
        return Config(
            default_timezone=self.default_timezone,
            attendance_opens_minutes_before=self.attendance_opens_minutes_before,
            visit_school_day_starts=self.visit_school_day_starts,
            visit_school_day_ends=self.visit_school_day_ends,
            visit_reflection_retention_days=self.visit_reflection_retention_days,
            visit_coverage_min_group=self.visit_coverage_min_group,
            conference_hold_seconds=self.conference_hold_seconds,
            conference_bookings_per_guardian=self.conference_bookings_per_guardian,
            conference_offer_hold_seconds=self.conference_offer_hold_seconds,
            consolidation_crowded_month=self.consolidation_crowded_month,
            consolidation_near_days=self.consolidation_near_days,
            consolidation_few_families=self.consolidation_few_families,
        )
