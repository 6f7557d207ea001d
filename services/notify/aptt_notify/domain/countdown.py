"""Countdown to kindergarten: when each step of the sequence is due for one family.

A child starts kindergarten in the school year of the September 1 by which they are five
(the cut-off most US states use); the first day of that year is the district's. Each step is
a number of days before the first day, or at once (the welcome).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from aptt_notify.domain.model import Template

AGE = 5
CUTOFF = (9, 1)  # month, day: five years old by then
FIRST_DAY = (8, 20)  # month, day of the first day of school, unless the district says
SEND_AT = time(10, 0)  # local time a dated step is due; quiet hours still apply


@dataclass(frozen=True)
class Step:
    template: Template
    days_before: int | None  # None: as soon as the family is known (unless on_date)
    on_date: date | None = None  # a fixed day instead, e.g. the district's enrollment week


DEFAULT_STEPS: tuple[Step, ...] = (
    Step(Template.COUNTDOWN_WELCOME, None),
    Step(Template.COUNTDOWN_ENROLLMENT, 120),
    Step(Template.COUNTDOWN_READINESS, 21),
)
STEP_TEMPLATES = {
    step.template.value.removeprefix("countdown-"): step.template for step in DEFAULT_STEPS
}
PARTS = ("sms", "subject", "body")
PLACEHOLDERS = frozenset({"child", "date", "long_date"})
# A district's texts, per step template, language and part.
Texts = dict[str, dict[str, dict[str, str]]]


@dataclass(frozen=True)
class Sequence:
    """A district's countdown: its first day and cut-off, its steps, its own texts (in
    place of ours, per language and part)."""

    first_day: tuple[int, int] = FIRST_DAY
    cutoff: tuple[int, int] = CUTOFF
    steps: tuple[Step, ...] = DEFAULT_STEPS
    texts: Texts = field(default_factory=dict)

    def texts_of(self, step: Step) -> dict[str, dict[str, str]]:
        return self.texts.get(step.template.value, {})


DEFAULT_SEQUENCE = Sequence()


def first_day(
    birth_date: date, *, cutoff: tuple[int, int] = CUTOFF, day: tuple[int, int] = FIRST_DAY
) -> date:
    """The first day of the child's kindergarten year."""
    year = birth_date.year + AGE
    if (birth_date.month, birth_date.day) > cutoff:
        year += 1
    return date(year, *day)


def due_at(step: Step, first: date, *, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When the step goes out: at once, or its day (a fixed date, or days before the first
    day) at SEND_AT in the school's zone; None when that day passed before the family was
    known (the welcome says what matters)."""
    if step.on_date is not None:
        day = step.on_date
    elif step.days_before is None:
        return now
    else:
        day = date.fromordinal(first.toordinal() - step.days_before)
    moment = datetime.combine(day, SEND_AT, zone)
    return moment if moment > now else None
