"""A school's family events for its staff: the year's events, recording one, and its turnout
afterwards (scheduling's family events, decision 0330). School admins of the school and
district admins, as scheduling decides; everyone else reads "not found"."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from typing import Any

from aptt_platform.schoolyear import school_year_of
from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from aptt_web.pages.common import Form, SignedIn, Visit, create_form, text
from aptt_web.pages.form_errors import FormErrors, form_errors
from aptt_web.pages.staff import Id, schools_of
from aptt_web.services import ServiceProblem

router = APIRouter(prefix="/school")
SCHOOL_YEAR = re.compile(r"^[0-9]{4}-[0-9]{4}$")
RELATIONSHIPS = ("mother", "father", "grandparent", "other")
# The school's list is paged by scheduling; a school runs thirty or so events a year.
MAX_LIST_PAGES = 10


def admin_only(v: Visit) -> None:
    if not v.user.is_admin:
        raise ServiceProblem(403)


def year_of(asked: str | None) -> str:
    if asked and SCHOOL_YEAR.match(asked):
        return asked
    return school_year_of(date.today())


async def _school_name(v: Visit, school_id: str) -> str:
    for school in await schools_of(v):
        if school["school_id"] == school_id:
            return school["name"]
    return school_id


async def _events_page(
    v: Visit,
    school_id: str,
    year: str,
    *,
    draft: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    view, name = await asyncio.gather(
        v.services.get(
            "scheduling",
            v.token,
            f"/v1/schools/{school_id}/event-consolidation",
            school_year=year,
        ),
        _school_name(v, school_id),
    )
    candidates = {c["item"]["item_id"]: c for c in view["candidates"]}
    return v.render(
        "school/school_events.html",
        status=status,
        school_id=school_id,
        school_name=name,
        year=year,
        view=view,
        items=[
            {**item, "when": v.date(item["on"]), "candidate": candidates.get(item["item_id"])}
            for item in view["items"]
        ],
        draft=draft or {},
        errors=errors or FormErrors(),
        notice=notice,
    )


@router.get("/events/{school_id}", response_class=Response)
async def school_events(
    v: SignedIn, school_id: Id, year: str | None = None, done: str | None = None
) -> Response:
    admin_only(v)
    notice = {
        "recorded": v._("The event is recorded."),
        "turnout": v._("The turnout is recorded."),
    }.get(done or "")
    return await _events_page(v, school_id, year_of(year), notice=notice)


def _event_body(form: FormData) -> dict[str, Any]:
    """What the person typed, as scheduling takes it: scheduling checks every field."""
    linked = text(form, "learning_linked")
    return {
        "title": text(form, "title"),
        "kind": text(form, "kind"),
        "learning_linked": {"yes": True, "no": False}.get(linked),
        "on": text(form, "on") or None,
    }


@router.post("/events/{school_id}", response_class=Response)
@create_form
async def record_event(v: SignedIn, form: Form, school_id: Id) -> Response:
    admin_only(v)
    body = _event_body(form)
    try:
        answer = await v.services.call(
            "scheduling", v.token, "POST", f"/v1/schools/{school_id}/family-events", json=body
        )
    except ServiceProblem as problem:
        if problem.status != 422:
            raise
        errors = form_errors(
            problem,
            fields={
                "title": v._("Give the event a name (up to 120 characters)."),
                "on": v._("Give a date that exists, for example 2026-10-14."),
                "kind": v._("Choose what kind of event it is."),
                "learning_linked": v._("Say whether the event is linked to learning."),
            },
            codes={
                "reserved-kind": (
                    "kind",
                    v._("Team meetings and conferences appear on their own: choose another kind."),
                )
            },
            otherwise=v._("The event could not be recorded. Check the form and try again."),
        )
        typed = {k: text(form, k) for k in ("title", "kind", "learning_linked", "on")}
        year = year_of(text(form, "year"))
        return await _events_page(v, school_id, year, draft=typed, errors=errors, status=422)
    recorded = answer.json()
    year = school_year_of(date.fromisoformat(recorded["on"]))
    return RedirectResponse(f"/school/events/{school_id}?year={year}&done=recorded", 303)


async def _find_event(v: Visit, school_id: str, year: str, event_id: str) -> dict[str, Any]:
    """One recorded event of the school's year, from scheduling's list (it has no single
    read); an event of another school or year is not found."""
    cursor = None
    for _page in range(MAX_LIST_PAGES):
        found = await v.services.get(
            "scheduling",
            v.token,
            f"/v1/schools/{school_id}/family-events",
            school_year=year,
            limit=200,
            cursor=cursor,
        )
        for event in found["items"]:
            if event["family_event_id"] == event_id:
                return dict(event)
        cursor = found.get("next_cursor")
        if not cursor:
            break
    raise ServiceProblem(404)


def _turnout_page(
    v: Visit,
    school_id: str,
    year: str,
    event: dict[str, Any],
    *,
    draft: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    counted = event.get("by_relationship") or {}
    if draft is None:
        draft = {
            "families_attending": str(event["families_attending"])
            if event.get("families_attending") is not None
            else "",
            **{r: str(counted[r]) for r in RELATIONSHIPS if r in counted},
        }
    return v.render(
        "school/turnout.html",
        status=status,
        school_id=school_id,
        year=year,
        event=event,
        when=v.date(event["on"]),
        relationships=RELATIONSHIPS,
        draft=draft,
        errors=errors or FormErrors(),
    )


@router.get("/events/{school_id}/{event_id}", response_class=Response)
async def turnout_form(
    v: SignedIn, school_id: Id, event_id: Id, year: str | None = None
) -> Response:
    admin_only(v)
    year = year_of(year)
    event = await _find_event(v, school_id, year, event_id)
    return _turnout_page(v, school_id, year, event)


def _count(value: str) -> int | str | None:
    """A count as typed: a whole number goes as one, anything else as typed, so that
    scheduling refuses it with the field named."""
    if not value:
        return None
    return int(value) if value.isdigit() and len(value) <= 9 else value


@router.post("/events/{school_id}/{event_id}/turnout", response_class=Response)
async def record_turnout(v: SignedIn, form: Form, school_id: Id, event_id: Id) -> Response:
    admin_only(v)
    year = year_of(text(form, "year"))
    event = await _find_event(v, school_id, year, event_id)
    typed = {k: text(form, k) for k in ("families_attending", *RELATIONSHIPS)}
    counted = {r: _count(typed[r]) for r in RELATIONSHIPS if typed[r]}
    body = {
        "families_attending": _count(typed["families_attending"]),
        "by_relationship": counted or None,
    }
    try:
        await v.services.call(
            "scheduling", v.token, "PUT", f"/v1/family-events/{event_id}/turnout", json=body
        )
    except ServiceProblem as problem:
        if problem.status != 422:
            raise
        errors = form_errors(
            problem,
            fields={
                "families_attending": v._(
                    "Give the number of families who came: a whole number, 0 or more."
                ),
                "by_relationship": v._(
                    "Give each count of guardians as a whole number, 0 or more, or leave it empty."
                ),
            },
            codes={
                "relationship-below-families": (
                    "by_relationship",
                    v._(
                        "The guardians counted add up to fewer than the families who came: "
                        "every family sends at least one."
                    ),
                )
            },
            otherwise=v._("The turnout could not be recorded. Check the form and try again."),
        )
        return _turnout_page(v, school_id, year, event, draft=typed, errors=errors, status=422)
    return RedirectResponse(f"/school/events/{school_id}?year={year}&done=turnout", 303)
