"""Routes of a school's family events and its consolidated year (school admins of the
school, district admins): record an event, its turnout afterwards, list them, and the
consolidation view as JSON, CSV and an SVG chart."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aptt_contracts.scheduling import Relationship
from aptt_platform.deps import Now, SchoolAdmin, Store
from aptt_platform.web import (
    Cursor,
    Limit,
    Page,
    RequestModel,
    decoded_cursor,
    encoded_cursor,
    problems,
)
from fastapi import APIRouter, Header, Query, Response, status
from pydantic import BaseModel, Field, StringConstraints

from aptt_scheduling.api.consolidation_chart import render
from aptt_scheduling.api.schemas import LANGUAGE_TAG, PathId, SchoolYearQuery
from aptt_scheduling.domain.family_events import (
    Consolidation,
    FamilyEvent,
    consolidation_csv,
)
from aptt_scheduling.i18n import CATALOGUES
from aptt_scheduling.service import family_events as service
from aptt_scheduling.service.family_events import EventDraft

router = APIRouter(tags=["family events"])
Title = Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
Kind = Annotated[str, StringConstraints(max_length=40, pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
MAX_FAMILIES = 100_000


class FamilyEventIn(RequestModel):
    title: Title = Field(examples=["Science night"])
    kind: Kind = Field(description="a code such as bake-sale, concert, science-night")
    learning_linked: bool = Field(description="whether the event is about what children learn")
    on: date = Field(description="the school-local date")


class TurnoutIn(RequestModel):
    families_attending: int = Field(ge=0, le=MAX_FAMILIES)
    by_relationship: dict[Relationship, Annotated[int, Field(ge=0, le=MAX_FAMILIES)]] | None = (
        Field(
            default=None,
            max_length=4,
            description="guardians who came, by relationship, when counted",
        )
    )


class FamilyEventOut(BaseModel):
    family_event_id: str
    school_id: str
    title: str
    kind: str
    learning_linked: bool
    on: date
    families_attending: int | None
    by_relationship: dict[Relationship, int] | None

    @classmethod
    def of(cls, event: FamilyEvent) -> FamilyEventOut:
        return cls(**{k: getattr(event, k) for k in cls.model_fields})


class MonthOut(BaseModel):
    month: str
    linked: int
    unlinked: int
    total: int
    crowded: bool


class ItemOut(BaseModel):
    source: str = Field(description="school (recorded), team_meeting or conference_window")
    item_id: str
    kind: str
    title: str | None
    learning_linked: bool
    on: date
    families_attending: int | None


class CandidateOut(BaseModel):
    item: ItemOut
    reasons: list[str]
    nearest_team_meeting: date | None


class ConsolidationOut(BaseModel):
    school_id: str
    school_year: str
    aim: int = Field(description="about one learning-linked event a month")
    total: int
    linked: int
    unlinked: int
    months: list[MonthOut]
    candidates: list[CandidateOut] = Field(description="unlinked events to merge or cut")
    items: list[ItemOut]

    @classmethod
    def of(cls, view: Consolidation) -> ConsolidationOut:
        def item(i: object) -> ItemOut:
            return ItemOut.model_validate(i, from_attributes=True)

        return cls(
            school_id=view.school_id,
            school_year=view.school_year,
            aim=view.aim,
            total=view.total,
            linked=view.linked,
            unlinked=view.unlinked,
            months=[MonthOut(**m.__dict__, total=m.total) for m in view.months],
            candidates=[
                CandidateOut(
                    item=item(c.item),
                    reasons=list(c.reasons),
                    nearest_team_meeting=c.nearest_team_meeting,
                )
                for c in view.candidates
            ],
            items=[item(i) for i in view.items],
        )


@router.post(
    "/schools/{school_id}/family-events",
    status_code=status.HTTP_201_CREATED,
    summary="Record one of the school's family events",
    responses=problems(403, 404),
)
async def record_event(
    school_id: PathId, body: FamilyEventIn, principal: SchoolAdmin, mongo: Store, now: Now
) -> FamilyEventOut:
    draft = EventDraft(
        title=body.title, kind=body.kind, learning_linked=body.learning_linked, on=body.on
    )
    event = await mongo.run(
        service.record_event, principal=principal, school_id=school_id, draft=draft, now=now
    )
    return FamilyEventOut.of(event)


@router.put(
    "/family-events/{family_event_id}/turnout",
    summary="Record how many families came (and who, when counted)",
    responses=problems(403, 404),
)
async def record_turnout(
    family_event_id: PathId, body: TurnoutIn, principal: SchoolAdmin, mongo: Store, now: Now
) -> FamilyEventOut:
    event = await mongo.run(
        service.record_turnout,
        principal=principal,
        family_event_id=family_event_id,
        families=body.families_attending,
        by_relationship=body.by_relationship,
        now=now,
    )
    return FamilyEventOut.of(event)


def _after(raw: str) -> tuple[date, str]:
    day, event_id = raw.split("|", 1)
    return date.fromisoformat(day), event_id


@router.get(
    "/schools/{school_id}/family-events",
    summary="The family events the school recorded in a school year, by date",
    responses=problems(403, 404),
)
async def list_events(
    school_id: PathId,
    principal: SchoolAdmin,
    mongo: Store,
    school_year: SchoolYearQuery,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[FamilyEventOut]:
    events = await mongo.run(
        service.list_events,
        principal=principal,
        school_id=school_id,
        school_year=school_year,
        after=decoded_cursor(cursor, _after) if cursor else None,
        limit=limit,
    )
    next_cursor = (
        encoded_cursor(events[-1].on, events[-1].family_event_id) if len(events) == limit else None
    )
    return Page(items=[FamilyEventOut.of(e) for e in events], next_cursor=next_cursor)


async def _view(principal: SchoolAdmin, mongo: Store, school_id: str, year: str) -> Consolidation:
    return await mongo.run(
        service.consolidation, principal=principal, school_id=school_id, school_year=year
    )


# The .csv and .svg routes are declared before the JSON one, whose path would match them.
@router.get(
    "/schools/{school_id}/event-consolidation.csv",
    summary="The consolidated year as CSV: one row per event",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **problems(403, 404)},
)
async def consolidation_file(
    school_id: PathId, principal: SchoolAdmin, mongo: Store, school_year: SchoolYearQuery
) -> Response:
    view = await _view(principal, mongo, school_id, school_year)
    name = f"event-consolidation-{school_id}-{school_year}.csv"
    return Response(
        consolidation_csv(view),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/schools/{school_id}/event-consolidation.svg",
    summary="The consolidated year as a chart: events per month, linked and not",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, **problems(403, 404)},
)
async def consolidation_chart(
    school_id: PathId,
    principal: SchoolAdmin,
    mongo: Store,
    school_year: SchoolYearQuery,
    lang: str | None = Query(default=None, max_length=35, pattern=LANGUAGE_TAG),
    accept_language: str | None = Header(default=None, max_length=1000),
) -> Response:
    view = await _view(principal, mongo, school_id, school_year)
    language = CATALOGUES.language_for(lang) if lang else CATALOGUES.negotiate(accept_language)
    return Response(render(view, language=language), media_type="image/svg+xml")


@router.get(
    "/schools/{school_id}/event-consolidation",
    summary="The school's year: events per month against the aim, and what to merge or cut",
    responses=problems(403, 404),
)
async def consolidation(
    school_id: PathId, principal: SchoolAdmin, mongo: Store, school_year: SchoolYearQuery
) -> ConsolidationOut:
    return ConsolidationOut.of(await _view(principal, mongo, school_id, school_year))
