"""Changing one window of a school's engagement calendar (its dates, for every classroom),
and a teacher's read-only view of their school's calendar with their classes' meetings in
it. Scheduling decides who may change or read which school's calendar (decision 0608)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from babel.numbers import format_decimal
from fastapi import APIRouter, Path
from fastapi.responses import RedirectResponse, Response

from aptt_web.pages.calendars import calendar_windows, span
from aptt_web.pages.common import Form, SignedIn, Visit, text
from aptt_web.pages.form_errors import FormErrors, form_errors
from aptt_web.pages.school_events import admin_only
from aptt_web.pages.staff import Id, schools_of
from aptt_web.services import ServiceProblem

router = APIRouter()
Sequence = Annotated[int, Path(ge=1, le=24)]


def _windows_path(school_id: str, calendar_id: str) -> str:
    return f"/v1/schools/{school_id}/engagement-calendars/{calendar_id}/windows"


async def _window_page(
    v: Visit,
    school_id: str,
    calendar_id: str,
    sequence: int,
    *,
    draft: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    found = await v.services.get("scheduling", v.token, _windows_path(school_id, calendar_id))
    window = next((w for w in found["items"] if w["sequence"] == sequence), None)
    if window is None:
        raise ServiceProblem(404)
    calendars = await v.services.get(
        "scheduling", v.token, f"/v1/schools/{school_id}/engagement-calendars"
    )
    year = next(
        (c["school_year"] for c in calendars["items"] if c["calendar_id"] == calendar_id), ""
    )
    schools = await schools_of(v)
    return v.render(
        "school/calendar_window.html",
        status=status,
        school_id=school_id,
        school_name=next((s["name"] for s in schools if s["school_id"] == school_id), school_id),
        calendar_id=calendar_id,
        school_year=year,
        window={**window, "span": span(window["starts_on"], window["ends_on"], v.language)},
        draft=draft or {"starts_on": window["starts_on"], "ends_on": window["ends_on"]},
        errors=errors or FormErrors(),
    )


WINDOW_PAGE = "/school/calendars/{school_id}/{calendar_id}/windows/{sequence}"


@router.get(WINDOW_PAGE, response_class=Response)
async def window_form(v: SignedIn, school_id: Id, calendar_id: Id, sequence: Sequence) -> Response:
    admin_only(v)
    return await _window_page(v, school_id, calendar_id, sequence)


@router.post(WINDOW_PAGE, response_class=Response)
async def change_window(
    v: SignedIn, form: Form, school_id: Id, calendar_id: Id, sequence: Sequence
) -> Response:
    admin_only(v)
    typed = {"starts_on": text(form, "starts_on"), "ends_on": text(form, "ends_on")}
    try:
        await v.services.call(
            "scheduling",
            v.token,
            "PATCH",
            f"{_windows_path(school_id, calendar_id)}/{sequence}",
            json=typed,
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        outside = problem.problem.get("outside")
        errors = form_errors(
            problem,
            fields={
                "starts_on": v._("Give the first day, for example 2026-10-05."),
                "ends_on": v._("Give the last day, for example 2026-11-20."),
            },
            codes={
                "window-reversed": (
                    "ends_on",
                    v._("The last day cannot come before the first day."),
                ),
                "window-outside-school-year": (
                    "starts_on",
                    v._("Keep the window within the school year."),
                ),
                "windows-overlap": (
                    "starts_on",
                    v._("These dates overlap another window of the same kind."),
                ),
                "window-holds-meetings": (
                    None,
                    v._(
                        "%(count)s team meetings or booked conferences would fall outside "
                        "these dates. Move or cancel them first, or choose dates that keep them."
                    )
                    % {"count": format_decimal(outside or 0, locale=v.language)},
                ),
            },
            otherwise=v._("The dates could not be saved. Check the form and try again."),
        )
        return await _window_page(
            v, school_id, calendar_id, sequence, draft=typed, errors=errors, status=422
        )
    return RedirectResponse(f"/school/calendars/{school_id}?done=moved", status_code=303)


@router.get("/teach/calendars/{school_id}", response_class=Response)
async def teacher_calendar(v: SignedIn, school_id: Id) -> Response:
    """The school's calendars read-only, with the teacher's own classes' meetings in each
    window. Scheduling refuses another school's calendars."""
    if not v.user.has("teacher", "school_admin", "district_admin"):
        raise ServiceProblem(403)
    found, mine = await asyncio.gather(
        v.services.get("scheduling", v.token, f"/v1/schools/{school_id}/engagement-calendars"),
        v.services.get("data", v.token, "/v1/me/classrooms"),
    )
    calendars = await calendar_windows(v, school_id, found["items"])
    classes = [c for c in mine["items"] if c["school_id"] == school_id]
    school_name = next((c["school_name"] for c in classes), school_id)
    given = await asyncio.gather(
        *(
            v.services.get(
                "scheduling", v.token, f"/v1/classrooms/{c['classroom_id']}/meeting-windows"
            )
            for c in classes
        )
    )
    meetings: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for room, windows in zip(classes, given, strict=True):
        for w in windows["items"]:
            key = (w["calendar_id"], w["sequence"])
            meetings.setdefault(key, []).append({**room, "meeting_ids": w["meeting_ids"]})
    for calendar in calendars:
        for w in calendar["windows"]:
            w["classes"] = meetings.get((calendar["calendar_id"], w["sequence"]), [])
    return v.render(
        "teach/calendar.html", school_id=school_id, school_name=school_name, calendars=calendars
    )
