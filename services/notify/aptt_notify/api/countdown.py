"""The district's countdown to kindergarten: its first day, cut-off, steps and own texts."""

from __future__ import annotations

import string
from datetime import date
from typing import Annotated, Literal

from aptt_contracts.bounds import MAX_LANGUAGES, LanguageTag
from aptt_platform.deps import DistrictAdmin, Store
from aptt_platform.errors import DomainError
from aptt_platform.web import RequestModel, problems
from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator

from aptt_notify.domain.countdown import PLACEHOLDERS, STEP_TEMPLATES, Sequence, Step
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

    @field_validator("first_day", "cutoff")
    @classmethod
    def _a_day(cls, value: str) -> str:
        month, day = (int(part) for part in value.split("-"))
        try:
            date(2024, month, day)
        except ValueError as exc:
            raise ValueError("not a month and day, e.g. 08-20") from exc
        return value


class SequenceView(BaseModel):
    first_day: str
    cutoff: str
    steps: list[dict[str, str | int | None]]  # step, days_before, on_date
    texts: dict[str, dict[str, dict[str, str]]]


def _sequence(body: SequenceBody) -> Sequence:
    if len({s.step for s in body.steps}) != len(body.steps):
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
                names = {n for _, n, _, _ in string.Formatter().parse(text) if n is not None}
                if not names <= PLACEHOLDERS:
                    raise DomainError(
                        "a text may use only {child}, {date} and {long_date}",
                        code="unknown-placeholder",
                    )
            texts.setdefault(STEP_TEMPLATES[step].value, {})[language] = written
    return Sequence(
        first_day=countdown.month_day(body.first_day),
        cutoff=countdown.month_day(body.cutoff),
        steps=tuple(Step(STEP_TEMPLATES[s.step], s.days_before, s.on_date) for s in body.steps),
        texts=texts,
    )


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
