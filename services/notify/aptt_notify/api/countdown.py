"""The district's countdown to kindergarten: its first day, cut-off, steps and own texts."""

from __future__ import annotations

import string
from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aptt_contracts.bounds import MAX_LANGUAGES, LanguageTag, TimeZoneName
from aptt_platform.deps import DistrictAdmin, Store
from aptt_platform.errors import DomainError
from aptt_platform.web import RequestModel, problems
from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator

from aptt_notify.domain.countdown import (
    EVENT_PARTS,
    MAX_OWN_STEPS,
    MESSAGE_PARTS,
    PLACEHOLDERS,
    STEP_TEMPLATES,
    EventTime,
    OwnStep,
    Sequence,
    Step,
)
from aptt_notify.i18n import SUPPORTED_LANGUAGES
from aptt_notify.service import countdown

router = APIRouter(tags=["countdown to kindergarten"])
StepName = Literal["welcome", "enrollment", "readiness"]
MONTH_DAY = r"^[0-9]{2}-[0-9]{2}$"


class StepBody(RequestModel):
    step: StepName
    days_before: int | None = Field(
        default=None, ge=0, le=365, description="days before the first day; none: at once"
    )
    on_date: date | None = Field(
        default=None, description="a fixed day instead of days before the first day"
    )


class PartsBody(RequestModel):
    sms: str | None = Field(default=None, min_length=1, max_length=320)
    subject: str | None = Field(default=None, min_length=1, max_length=150)
    body: str | None = Field(default=None, min_length=1, max_length=3000)


class EventBody(RequestModel):
    date: date
    starts: time = Field(examples=["17:30"], description="local time in `timezone`")
    ends: time = Field(examples=["19:00"])
    timezone: TimeZoneName = Field(examples=["America/Chicago"], description="the school's zone")


class OwnTextsBody(RequestModel):
    """A message step's sms, subject and body, or an event's title, place and details."""

    sms: str | None = Field(default=None, min_length=1, max_length=320)
    subject: str | None = Field(default=None, min_length=1, max_length=150)
    body: str | None = Field(default=None, min_length=1, max_length=3000)
    title: str | None = Field(default=None, min_length=1, max_length=80)
    place: str | None = Field(default=None, min_length=1, max_length=120)
    details: str | None = Field(default=None, min_length=1, max_length=1000)


class OwnStepBody(RequestModel):
    id: str = Field(
        max_length=40,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        examples=["open-house"],
        description="the district's name for the step, stable across changes",
    )
    kind: Literal["message", "event"]
    days_before: int | None = Field(default=None, ge=0, le=365)
    on_date: date | None = None
    event: EventBody | None = Field(default=None, description="an event step's day, hours, zone")
    texts: Annotated[dict[LanguageTag, OwnTextsBody], Field(max_length=MAX_LANGUAGES)] = Field(
        description="per language (English required): sms, subject, body for a message; "
        "title, place and optional details for an event"
    )


class SequenceBody(RequestModel):
    first_day: str = Field(max_length=5, pattern=MONTH_DAY, examples=["08-20"], description="MM-DD")
    cutoff: str = Field(
        max_length=5,
        pattern=MONTH_DAY,
        examples=["09-01"],
        description="MM-DD by which the child is five",
    )
    steps: list[StepBody] = Field(max_length=len(STEP_TEMPLATES))
    texts: dict[
        StepName, Annotated[dict[LanguageTag, PartsBody], Field(max_length=MAX_LANGUAGES)]
    ] = Field(
        default_factory=dict,
        max_length=len(STEP_TEMPLATES),
        description="the district's own texts per step and language, in place of ours; "
        "placeholders {child}, {date}, {long_date}",
    )
    own_steps: list[OwnStepBody] = Field(
        default_factory=list,
        max_length=MAX_OWN_STEPS,
        description="the district's own steps: messages, or events with a calendar invitation",
    )

    @field_validator("first_day", "cutoff")
    @classmethod
    def _a_day(cls, value: str) -> str:
        month, day = (int(part) for part in value.split("-"))
        try:
            date(2024, month, day)
        except ValueError as exc:
            raise ValueError("not a month and day, e.g. 08-20") from exc
        return value


class EventView(BaseModel):
    date: date
    starts: str
    ends: str
    timezone: str


class OwnStepView(BaseModel):
    id: str
    kind: Literal["message", "event"]
    version: int = Field(description="one more each time the district changes the step")
    days_before: int | None
    on_date: date | None
    event: EventView | None
    texts: dict[str, dict[str, str]]


class SequenceView(BaseModel):
    first_day: str
    cutoff: str
    steps: list[dict[str, str | int | None]]  # step, days_before, on_date
    texts: dict[str, dict[str, dict[str, str]]]
    own_steps: list[OwnStepView]


def _sequence(body: SequenceBody) -> Sequence:
    if len({s.step for s in body.steps}) != len(body.steps):
        raise DomainError("each step at most once", code="repeated-step")
    if len({s.id for s in body.own_steps}) != len(body.own_steps):
        raise DomainError("each step at most once", code="repeated-step")
    if any(s.on_date is not None and s.days_before is not None for s in body.steps):
        raise DomainError("a step has days_before or on_date, not both", code="two-days")
    texts: dict[str, dict[str, dict[str, str]]] = {}
    for step, languages in body.texts.items():
        for language, parts in languages.items():
            if language not in SUPPORTED_LANGUAGES:
                raise DomainError(
                    f"texts are for the platform's languages: {', '.join(SUPPORTED_LANGUAGES)}",
                    code="unsupported-language",
                )
            written = {k: v for k, v in parts.model_dump().items() if v}
            for text in written.values():
                _check_placeholders(text)
            texts.setdefault(STEP_TEMPLATES[step].value, {})[language] = written
    return Sequence(
        first_day=countdown.month_day(body.first_day),
        cutoff=countdown.month_day(body.cutoff),
        steps=tuple(Step(STEP_TEMPLATES[s.step], s.days_before, s.on_date) for s in body.steps),
        texts=texts,
        own_steps=tuple(_own_step(s) for s in body.own_steps),
    )


def _check_placeholders(text: str) -> None:
    try:
        names = {n for _, n, _, _ in string.Formatter().parse(text) if n is not None}
    except ValueError:
        names = {"{"}  # a lone brace
    if not names <= PLACEHOLDERS:
        raise DomainError(
            "a text may use only {child}, {date} and {long_date}", code="unknown-placeholder"
        )


def _own_step(body: OwnStepBody) -> OwnStep:
    """A district's step as the domain keeps it, refused when its texts or event are not
    whole: English always; every part of its kind in each language it writes."""
    if body.on_date is not None and body.days_before is not None:
        raise DomainError("a step has days_before or on_date, not both", code="two-days")
    if "en" not in body.texts:
        raise DomainError(
            "a step's texts need English, read by every other family", code="english-required"
        )
    needed, allowed = (
        (("title", "place"), EVENT_PARTS)
        if body.kind == "event"
        else (MESSAGE_PARTS, MESSAGE_PARTS)
    )
    texts: dict[str, dict[str, str]] = {}
    for language, parts in body.texts.items():
        if language not in SUPPORTED_LANGUAGES:
            raise DomainError(
                f"texts are for the platform's languages: {', '.join(SUPPORTED_LANGUAGES)}",
                code="unsupported-language",
            )
        written = {k: v for k, v in parts.model_dump().items() if v}
        if not set(needed) <= set(written) or not set(written) <= set(allowed):
            raise DomainError(
                f"a {body.kind} step's texts are {', '.join(allowed)} in each language",
                code="step-texts",
            )
        if body.kind == "message":
            for text in written.values():
                _check_placeholders(text)
        texts[language] = written
    return OwnStep(
        step_id=body.id,
        kind=body.kind,
        texts=texts,
        days_before=body.days_before,
        on_date=body.on_date,
        event=_event(body),
    )


def _event(body: OwnStepBody) -> EventTime | None:
    if body.kind == "message":
        if body.event is not None:
            raise DomainError("only an event step has an event", code="step-event")
        return None
    event = body.event
    if event is None:
        raise DomainError("an event step needs its day, hours and zone", code="step-event")
    if event.ends <= event.starts:
        raise DomainError("an event ends after it starts", code="step-event")
    try:
        ZoneInfo(event.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DomainError("not a time zone, e.g. America/Chicago", code="step-event") from exc
    return EventTime(event.date, event.starts, event.ends, event.timezone)


@router.get(
    "/countdown/sequence",
    summary="The district's countdown to kindergarten (ours until it writes its own)",
    responses=problems(403),
)
async def get_sequence(principal: DistrictAdmin, mongo: Store) -> SequenceView:
    found = await mongo.run(countdown.get_sequence, district_id=principal.district_id)
    return SequenceView.model_validate(found)


@router.put(
    "/countdown/sequence",
    summary="Change the district's countdown: families added from now on follow it",
    responses=problems(403),
)
async def put_sequence(body: SequenceBody, principal: DistrictAdmin, mongo: Store) -> SequenceView:
    saved = await mongo.run(
        countdown.set_sequence, district_id=principal.district_id, sequence=_sequence(body)
    )
    return SequenceView.model_validate(saved)
