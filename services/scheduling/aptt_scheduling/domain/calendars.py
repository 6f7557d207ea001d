"""Engagement calendars: templates of meeting windows, and their dates in one school year.

A template is a list of windows, each in a month of the school year (an explicit calendar
month, or an offset from the month the school year starts) and spanning one or more whole
months. Applied to a school for a school year, it gives every classroom the same windows.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

from aptt_platform import schoolyear
from aptt_platform.errors import Conflict, DomainError, NotFound
from pydantic import BaseModel, ConfigDict, Field, model_validator

from aptt_scheduling.domain.meetings import Window

WindowKind = Literal["team_meeting", "conference"]
DEFAULT_MINUTES: dict[str, int] = {"team_meeting": 75, "conference": 30}
CODE = r"^[a-z][a-z0-9-]{0,39}$"


class TemplateWindow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    kind: WindowKind
    month: int | None = Field(default=None, ge=1, le=12, description="calendar month, 1-12")
    month_offset: int | None = Field(
        default=None, ge=0, le=11, description="months after the school year's first month"
    )
    span_months: int = Field(default=1, ge=1, le=4, description="whole months the window spans")
    duration_minutes: int | None = Field(
        default=None, ge=15, le=240, description="default: 75 for a team meeting, 30 otherwise"
    )
    focus_area: str | None = Field(
        default=None, max_length=40, pattern=CODE, description="e.g. reading, math"
    )
    label: str | None = Field(default=None, min_length=1, max_length=80)

    @model_validator(mode="after")
    def _one_way_to_name_the_month(self) -> TemplateWindow:
        if (self.month is None) == (self.month_offset is None):
            raise ValueError("give either month or month_offset, not both and not neither")
        return self

    @property
    def minutes(self) -> int:
        return self.duration_minutes or DEFAULT_MINUTES[self.kind]

    def offset(self, start_month: int) -> int:
        if self.month_offset is not None:
            return self.month_offset
        assert self.month is not None
        return (self.month - start_month) % 12


class TemplateDraft(BaseModel):
    """What a district admin sends to define a template."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    start_month: int = Field(default=8, ge=1, le=12, description="first month of a school year")
    windows: tuple[TemplateWindow, ...] = Field(min_length=1, max_length=24)

    @model_validator(mode="after")
    def _windows_fit_in_the_school_year(self) -> TemplateDraft:
        for number, window in enumerate(self.windows, start=1):
            if window.offset(self.start_month) + window.span_months > 12:
                raise ValueError(f"window {number} runs past the end of the school year")
        return self


class CalendarTemplate(TemplateDraft):
    template_id: str
    built_in: bool = False


@dataclass(frozen=True)
class PlannedWindow:
    """A template window placed in a school year, in the school's local dates."""

    sequence: int
    kind: WindowKind
    starts_on: date
    ends_on: date
    duration_minutes: int
    focus_area: str | None
    label: str | None


@dataclass(frozen=True)
class WindowDates:
    """The dates a school gave one window of its calendar instead of the template's."""

    sequence: int
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class EngagementCalendar:
    """A template applied to a school for one school year (one per school and year)."""

    calendar_id: str
    school_id: str
    school_year: str
    template_id: str
    created_by: str
    created_at: datetime
    moved: tuple[WindowDates, ...] = ()

    def dated(self, planned: list[PlannedWindow]) -> list[PlannedWindow]:
        """The template's windows with the dates this school gave them."""
        by_sequence = {m.sequence: m for m in self.moved}
        return [
            replace(w, starts_on=m.starts_on, ends_on=m.ends_on)
            if (m := by_sequence.get(w.sequence))
            else w
            for w in planned
        ]


@dataclass(frozen=True)
class ClassroomWindow:
    """A planned window given to one classroom by its school's engagement calendar."""

    window_id: str
    classroom_id: str
    school_id: str
    calendar_id: str
    template_id: str
    school_year: str
    sequence: int
    kind: WindowKind
    starts_on: date
    ends_on: date
    duration_minutes: int
    focus_area: str | None
    label: str | None

    def as_window(self) -> Window:
        return Window(
            window_id=self.window_id,
            classroom_id=self.classroom_id,
            kind=self.kind,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
        )


def first_year(school_year: str) -> int:
    """The calendar year a school year such as 2026-2027 starts in."""
    try:
        return schoolyear.first_year(school_year)
    except ValueError as error:
        raise DomainError(str(error), code="bad-school-year") from error


def _month(year: int, start_month: int, offset: int) -> tuple[int, int]:
    index = start_month - 1 + offset
    return year + index // 12, index % 12 + 1


def plan(template: TemplateDraft, school_year: str) -> list[PlannedWindow]:
    """The template's windows with their dates in `school_year`, in template order."""
    year = first_year(school_year)
    planned = []
    for sequence, window in enumerate(template.windows, start=1):
        offset = window.offset(template.start_month)
        start_y, start_m = _month(year, template.start_month, offset)
        end_y, end_m = _month(year, template.start_month, offset + window.span_months - 1)
        planned.append(
            PlannedWindow(
                sequence=sequence,
                kind=window.kind,
                starts_on=date(start_y, start_m, 1),
                ends_on=date(end_y, end_m, calendar.monthrange(end_y, end_m)[1]),
                duration_minutes=window.minutes,
                focus_area=window.focus_area,
                label=window.label,
            )
        )
    return planned


def year_span(template: TemplateDraft, school_year: str) -> tuple[date, date]:
    """The first and last day of a school year as the template lays its months out."""
    year = first_year(school_year)
    start_y, start_m = _month(year, template.start_month, 0)
    end_y, end_m = _month(year, template.start_month, 12)
    return date(start_y, start_m, 1), date(end_y, end_m, 1) - timedelta(days=1)


def check_new_dates(
    windows: list[PlannedWindow],
    sequence: int,
    starts_on: date,
    ends_on: date,
    year: tuple[date, date],
) -> PlannedWindow:
    """The window with its new dates, or why it cannot have them.

    A team-meeting window may overlap a conference window (the classic template's do), but
    two windows of one kind may not: a meeting scheduled on a shared day would belong to both.
    """
    window = next((w for w in windows if w.sequence == sequence), None)
    if window is None:
        raise NotFound("the calendar has no such window", code="unknown-window")
    if ends_on < starts_on:
        raise DomainError("a window ends on or after the day it starts", code="window-reversed")
    if starts_on < year[0] or ends_on > year[1]:
        raise DomainError(
            f"a window stays within the school year, {year[0]} to {year[1]}",
            code="window-outside-school-year",
        )
    for other in windows:
        if (
            other.sequence != sequence
            and other.kind == window.kind
            and other.starts_on <= ends_on
            and starts_on <= other.ends_on
        ):
            raise Conflict(
                f"the dates overlap window {other.sequence} of the same kind",
                code="windows-overlap",
                window=other.sequence,
            )
    return replace(window, starts_on=starts_on, ends_on=ends_on)


def still_open(windows: list[PlannedWindow], today: date) -> list[PlannedWindow]:
    """Windows not yet over: a window that has already ended is of no use to a classroom."""
    return [w for w in windows if w.ends_on >= today]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


def calendar_id(district_id: str, school_id: str, school_year: str) -> str:
    """One engagement calendar per school and school year; the id says which."""
    return "cal-" + _digest(district_id, school_id, school_year)


def window_id(district_id: str, classroom_id: str, calendar: str, sequence: int) -> str:
    """Derived from what makes a window unique, so applying a calendar twice adds nothing."""
    return "win-" + _digest(district_id, classroom_id, calendar, str(sequence))


def _w(kind: WindowKind, month: int, **extra: object) -> TemplateWindow:
    return TemplateWindow.model_validate({"kind": kind, "month": month, **extra})


BUILT_IN_TEMPLATES: dict[str, CalendarTemplate] = {
    t.template_id: t
    for t in (
        CalendarTemplate(
            template_id="builtin-aptt-classic",
            built_in=True,
            name="APTT: a fall conference and three team meetings",
            description=(
                "One 30-minute one-to-one conference in the fall and three 75-minute classroom "
                "team meetings, one each in the fall, winter and spring."
            ),
            windows=(
                _w("team_meeting", 9, span_months=2, label="Fall team meeting"),
                _w("conference", 10, span_months=2, label="Fall conference"),
                _w("team_meeting", 1, span_months=2, label="Winter team meeting"),
                _w("team_meeting", 4, span_months=2, label="Spring team meeting"),
            ),
        ),
        CalendarTemplate(
            template_id="builtin-oakland",
            built_in=True,
            name="Oakland: five touch points",
            description=(
                "August introduction conference, October team meeting on reading, December "
                "report-card conference, February team meeting on math, March report-card "
                "conference."
            ),
            windows=(
                _w("conference", 8, label="Introduction conference"),
                _w("team_meeting", 10, focus_area="reading", label="Reading team meeting"),
                _w("conference", 12, label="Report-card conference"),
                _w("team_meeting", 2, focus_area="math", label="Math team meeting"),
                _w("conference", 3, label="Report-card conference"),
            ),
        ),
    )
}
