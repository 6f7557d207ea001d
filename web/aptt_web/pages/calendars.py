"""A school's engagement calendars for its staff: the calendar of each school year with its
team-meeting and conference windows, and applying a template for a school year (scheduling's
engagement calendars). School and district admins; scheduling decides which schools."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from aptt_platform.schoolyear import school_year_of
from babel.dates import format_date
from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from aptt_web.pages.common import Form, SignedIn, Visit, text
from aptt_web.pages.form_errors import FormErrors, form_errors, problem_code
from aptt_web.pages.school_events import admin_only
from aptt_web.pages.staff import Id, schools_of
from aptt_web.services import ServiceProblem

router = APIRouter(prefix="/school")


@router.get("/calendars", response_class=Response)
async def calendars_index(v: SignedIn) -> Response:
    admin_only(v)
    return v.render("school/calendars.html", schools=await schools_of(v))


def _month(month: int, language: str) -> str:
    return format_date(date(2000, month, 1), format="LLLL", locale=language)


def windows_of(template: dict[str, Any], language: str) -> list[dict[str, Any]]:
    """A template's windows with the months they span, in the reader's words."""
    start = int(template.get("start_month") or 8)
    shown = []
    for window in template.get("windows") or []:
        offset = window.get("month_offset")
        if offset is None:
            offset = (int(window["month"]) - start) % 12
        first = (start - 1 + int(offset)) % 12 + 1
        last = (first - 1 + int(window.get("span_months") or 1) - 1) % 12 + 1
        months = _month(first, language)
        if last != first:
            months += " \u2013 " + _month(last, language)
        minutes = window.get("duration_minutes") or (75 if window["kind"] == "team_meeting" else 30)
        shown.append({**window, "months": months, "minutes": minutes})
    return shown


def _years() -> list[str]:
    this = school_year_of(date.today())
    first = int(this[:4])
    return [this, f"{first + 1}-{first + 2}"]


async def _calendars_page(
    v: Visit,
    school_id: str,
    *,
    draft: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    # The school's calendars first: scheduling refuses another school's here.
    found = await v.services.get(
        "scheduling", v.token, f"/v1/schools/{school_id}/engagement-calendars"
    )
    templates, schools = await asyncio.gather(
        v.services.get("scheduling", v.token, "/v1/calendar-templates"), schools_of(v)
    )
    by_id = {t["template_id"]: t for t in templates["items"]}
    name = next((s["name"] for s in schools if s["school_id"] == school_id), school_id)
    calendars = []
    for calendar in sorted(found["items"], key=lambda c: str(c["school_year"]), reverse=True):
        template = by_id.get(calendar["template_id"], {})
        calendars.append(
            {
                **calendar,
                "template_name": template.get("name") or calendar["template_id"],
                "windows": windows_of(template, v.language),
            }
        )
    return v.render(
        "school/school_calendars.html",
        status=status,
        school_id=school_id,
        school_name=name,
        calendars=calendars,
        templates=templates["items"],
        years=_years(),
        draft=draft or {},
        errors=errors or FormErrors(),
        notice=notice,
    )


@router.get("/calendars/{school_id}", response_class=Response)
async def school_calendars(v: SignedIn, school_id: Id, done: str | None = None) -> Response:
    admin_only(v)
    notice = {
        "created": v._("The calendar is applied: every classroom has its meeting windows."),
        "again": v._(
            "The school already had this calendar; classrooms added since got their windows."
        ),
    }.get(done or "")
    return await _calendars_page(v, school_id, notice=notice)


@router.post("/calendars/{school_id}", response_class=Response)
async def apply_calendar(v: SignedIn, form: Form, school_id: Id) -> Response:
    admin_only(v)
    typed = {"template_id": text(form, "template_id"), "school_year": text(form, "school_year")}
    try:
        answer = await v.services.call(
            "scheduling",
            v.token,
            "POST",
            f"/v1/schools/{school_id}/engagement-calendars",
            json=typed,
        )
    except ServiceProblem as problem:
        # A template gone is the form's business; another school stays "not found".
        if problem.status not in (409, 422) and problem_code(problem) != "unknown-template":
            raise
        errors = form_errors(
            problem,
            fields={
                "template_id": v._("Choose a calendar template."),
                "school_year": v._("Choose a school year."),
            },
            codes={
                "unknown-template": ("template_id", v._("Choose a calendar template.")),
                "calendar-exists": (
                    "school_year",
                    v._(
                        "The school already follows another calendar in that school year. "
                        "Choose another school year."
                    ),
                ),
                "school-year-over": (
                    "school_year",
                    v._("Every window of that school year has already ended."),
                ),
            },
            otherwise=v._("The calendar could not be applied. Check the form and try again."),
        )
        return await _calendars_page(v, school_id, draft=typed, errors=errors, status=422)
    done = "created" if answer.status_code == 201 else "again"
    return RedirectResponse(f"/school/calendars/{school_id}?done={done}", status_code=303)
