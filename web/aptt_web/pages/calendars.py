"""A school's engagement calendars for its staff: the calendar of each school year with its
team-meeting and conference windows, and applying a template for a school year (scheduling's
engagement calendars). School and district admins; scheduling decides which schools."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from aptt_platform.schoolyear import school_year_of
from babel.dates import format_interval
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


def span(starts_on: str, ends_on: str, language: str) -> str:
    """A window's first and last day as the reader writes a span of dates."""
    first, last = date.fromisoformat(starts_on), date.fromisoformat(ends_on)
    return str(format_interval(first, last, "yMMMd", locale=language))


async def calendar_windows(
    v: Visit, school_id: str, calendars: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each calendar, newest school year first, with its windows at the school's dates."""
    ordered = sorted(calendars, key=lambda c: str(c["school_year"]), reverse=True)
    found = await asyncio.gather(
        *(
            v.services.get(
                "scheduling",
                v.token,
                f"/v1/schools/{school_id}/engagement-calendars/{c['calendar_id']}/windows",
            )
            for c in ordered
        )
    )
    return [
        {
            **calendar,
            "windows": [
                {**w, "span": span(w["starts_on"], w["ends_on"], v.language)}
                for w in windows["items"]
            ],
        }
        for calendar, windows in zip(ordered, found, strict=True)
    ]


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
    calendars = [
        {**c, "template_name": by_id.get(c["template_id"], {}).get("name") or c["template_id"]}
        for c in await calendar_windows(v, school_id, found["items"])
    ]
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
        "moved": v._("The window's new dates are saved for every classroom of the school."),
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
