"""Countdown to kindergarten: when each step of the sequence is due for one family.

A child starts kindergarten in the school year of the September 1 by which they are five
(the cut-off most US states use); the first day of that year is the district's. Each step is
a number of days before the first day, or at once (the welcome).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Literal
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
    own_steps: tuple[OwnStep, ...] = ()

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


# A district's own steps (docs/decisions/0520): at most this many beside ours, each with its
# texts in the languages the district writes (English always).
MAX_OWN_STEPS = 12
OwnKind = Literal["message", "event"]
MESSAGE_PARTS = ("sms", "subject", "body")
EVENT_PARTS = ("title", "place", "details")  # details is optional


@dataclass(frozen=True)
class EventTime:
    """A kindergarten event's day and hours, on the clock of the school's zone."""

    day: date
    starts: time
    ends: time
    timezone: str

    def starts_at(self) -> datetime:
        return datetime.combine(self.day, self.starts, ZoneInfo(self.timezone))

    def ends_at(self) -> datetime:
        return datetime.combine(self.day, self.ends, ZoneInfo(self.timezone))


@dataclass(frozen=True)
class OwnStep:
    """A step the district adds: a message, or an event with an invitation. `version` grows
    each time the district changes the step; a family hears each version at most once."""

    step_id: str
    kind: OwnKind
    texts: dict[str, dict[str, str]]  # language -> part -> text
    days_before: int | None = None
    on_date: date | None = None
    event: EventTime | None = None
    version: int = 1

    @property
    def schedule(self) -> Step:
        template = Template.COUNTDOWN_EVENT if self.kind == "event" else Template.COUNTDOWN_STEP
        return Step(template, self.days_before, self.on_date)

    def same_content(self, other: OwnStep) -> bool:
        return replace(self, version=other.version) == other


def versioned(
    before: tuple[OwnStep, ...], after: tuple[OwnStep, ...]
) -> tuple[tuple[OwnStep, ...], list[tuple[OwnStep | None, OwnStep | None]]]:
    """The new steps with their versions (kept when unchanged, one more when changed), and
    what changed: (old, new) pairs, None for a step added or removed."""
    old = {s.step_id: s for s in before}
    steps: list[OwnStep] = []
    changes: list[tuple[OwnStep | None, OwnStep | None]] = []
    for step in after:
        previous = old.pop(step.step_id, None)
        if previous is not None and step.same_content(previous):
            steps.append(replace(step, version=previous.version))
            continue
        new = replace(step, version=previous.version + 1 if previous else 1)
        steps.append(new)
        changes.append((previous, new))
    changes += [(gone, None) for gone in old.values()]
    return tuple(steps), changes
