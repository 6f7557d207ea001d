"""Routes of interpreters: the district's list and each interpreter's schedule (list, .ics)."""

from __future__ import annotations

from datetime import datetime

from aptt_platform.deps import DistrictAdmin, Now, SchoolAdmin, Store
from aptt_platform.errors import DomainError
from aptt_platform.web import Limit, RequestModel, problems
from fastapi import APIRouter, Response, status
from icalendar import Calendar, Event
from pydantic import AwareDatetime, BaseModel, Field

from aptt_scheduling.api.schemas import Language, PathId
from aptt_scheduling.service import interpreters as service
from aptt_scheduling.service.interpreters import InterpreterDraft

router = APIRouter(tags=["interpreters"])


class AvailableIn(RequestModel):
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class InterpreterIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    languages: list[Language] = Field(min_length=1, max_length=10)
    available: list[AvailableIn] = Field(min_length=1, max_length=100)


class InterpreterOut(BaseModel):
    interpreter_id: str
    name: str
    languages: list[str]


class ReservationOut(BaseModel):
    booking_id: str
    slot_id: str
    classroom_id: str
    school_id: str
    language: str
    starts_at: datetime
    ends_at: datetime


class ScheduleOut(BaseModel):
    interpreter: InterpreterOut
    items: list[ReservationOut]


def _out(doc: dict[str, object]) -> InterpreterOut:
    return InterpreterOut.model_validate(
        {k: doc[k] for k in ("interpreter_id", "name", "languages")}
    )


@router.post(
    "/interpreters",
    status_code=status.HTTP_201_CREATED,
    summary="Add an interpreter: languages and when they can be called on (district admin)",
    responses=problems(403),
)
async def register(
    body: InterpreterIn, principal: DistrictAdmin, mongo: Store, now: Now
) -> InterpreterOut:
    if any(a.ends_at <= a.starts_at for a in body.available):
        raise DomainError("each available time must end after it starts", code="bad-hours")
    draft = InterpreterDraft(
        name=body.name,
        languages=tuple(body.languages),
        available=tuple((a.starts_at, a.ends_at) for a in body.available),
    )
    doc = await mongo.run(service.register_interpreter, principal=principal, draft=draft, now=now)
    return _out(doc)


@router.get(
    "/interpreters/{interpreter_id}/schedule.ics",
    summary="An interpreter's coming conferences as an iCalendar feed",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, **problems(403, 404)},
)
async def schedule_feed(
    interpreter_id: PathId, principal: SchoolAdmin, mongo: Store, now: Now
) -> Response:
    _, items = await mongo.run(
        service.interpreter_schedule,
        principal=principal,
        interpreter_id=interpreter_id,
        now=now,
        limit=500,
    )
    calendar = Calendar()
    calendar.add("prodid", "-//APTT Platform//scheduling//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    for item in items:
        event = Event()
        event.add("uid", f"{item['booking_id']}-interpreter@aptt.org")
        event.add("dtstamp", now)
        event.add("dtstart", item["starts_at"])
        event.add("dtend", item["ends_at"])
        event.add("summary", f"Conference interpreting ({item['language']})")
        calendar.add_component(event)
    return Response(calendar.to_ical(), media_type="text/calendar; charset=utf-8")


@router.get(
    "/interpreters/{interpreter_id}/schedule",
    summary="An interpreter's coming conferences, soonest first (school or district admin)",
    responses=problems(403, 404),
)
async def schedule(
    interpreter_id: PathId, principal: SchoolAdmin, mongo: Store, now: Now, limit: Limit = 50
) -> ScheduleOut:
    found, items = await mongo.run(
        service.interpreter_schedule,
        principal=principal,
        interpreter_id=interpreter_id,
        now=now,
        limit=limit,
    )
    return ScheduleOut(
        interpreter=_out(found), items=[ReservationOut.model_validate(i) for i in items]
    )
