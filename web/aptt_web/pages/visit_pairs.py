"""The pair proposes times from its own pages (decision 0326): an educator opted in and
trained at a school sees the school's families who said yes and have no visit pending, and
proposes two or three times with a partner. Scheduling decides who may read and propose;
the families come with ids only, never scores (no targeting, decision 0320)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aptt_platform.schoolyear import school_year_of
from fastapi import APIRouter, Path, Query
from fastapi.responses import RedirectResponse, Response

from aptt_web.pages.common import Form, SignedIn, Visit, create_form, text
from aptt_web.pages.form_errors import FormErrors, form_errors
from aptt_web.pages.visit_admin import (
    DURATIONS,
    TIME_FIELDS,
    propose_codes,
    propose_messages,
    read_times,
)
from aptt_web.services import ServiceProblem

router = APIRouter(prefix="/visits")
ID_PATTERN = r"^[A-Za-z0-9._:\-]+$"
Id = Annotated[str, Path(min_length=1, max_length=255, pattern=ID_PATTERN)]
SchoolId = Annotated[str, Query(min_length=1, max_length=255, pattern=ID_PATTERN)]


async def _families(v: Visit, school_id: str) -> dict[str, Any] | None:
    """The school's families waiting for a visit; None when the educator may not propose
    there (not opted in, or not trained yet)."""
    try:
        found: dict[str, Any] = await v.services.get(
            "scheduling",
            v.token,
            f"/v1/schools/{school_id}/visit-families",
            school_year=school_year_of(date.today()),
        )
    except ServiceProblem as problem:
        if problem.status in (403, 404):
            return None
        raise
    return found


async def waiting_families(v: Visit) -> list[dict[str, Any]]:
    """For /visits: each family waiting, with the school it is at."""
    rows: list[dict[str, Any]] = []
    for school_id in v.user.school_ids:
        found = await _families(v, school_id)
        if found and found["partners"]:
            rows += [{**f, "school_id": school_id} for f in found["families"]]
    return rows


def _educator(v: Visit) -> None:
    if not v.user.has("educator"):
        raise ServiceProblem(403)


async def _form(
    v: Visit,
    invitation_id: str,
    school_id: str,
    *,
    typed: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    found = await _families(v, school_id)
    family = next(
        (f for f in (found or {}).get("families", []) if f["invitation_id"] == invitation_id),
        None,
    )
    if found is None or family is None:
        raise ServiceProblem(404)
    return v.render(
        "visits/pair_propose.html",
        status=status,
        family=family,
        school_id=school_id,
        partners=found["partners"],
        zone=found["timezone"],
        durations=DURATIONS,
        typed=typed or {"duration_minutes": "60"},
        errors=errors or FormErrors(),
    )


@router.get("/propose/{invitation_id}", response_class=Response)
async def propose_page(v: SignedIn, invitation_id: Id, school_id: SchoolId) -> Response:
    _educator(v)
    return await _form(v, invitation_id, school_id)


@router.post("/propose/{invitation_id}", response_class=Response)
@create_form
async def propose(v: SignedIn, form: Form, invitation_id: Id, school_id: SchoolId) -> Response:
    _educator(v)
    typed = {k: text(form, k) for k in (*TIME_FIELDS, "partner", "duration_minutes")}
    found = await _families(v, school_id)
    if found is None:
        raise ServiceProblem(404)
    try:
        zone = ZoneInfo(found["timezone"])
    except (ValueError, ZoneInfoNotFoundError):
        zone = ZoneInfo("UTC")
    times = read_times(form, zone)
    messages = propose_messages(v)
    if times is None or len(times) < 2:
        errors = FormErrors(fields={"times": messages["times"]})
        return await _form(v, invitation_id, school_id, typed=typed, errors=errors, status=422)
    minutes = typed["duration_minutes"]
    body = {
        "invitation_id": invitation_id,
        "educator_ids": [v.user.subject, typed["partner"]],
        "times": times,
        "duration_minutes": int(minutes) if minutes.isdigit() else 60,
    }
    try:
        answer = await v.services.call(
            "scheduling", v.token, "POST", "/v1/home-visits", json=body, language=v.language
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = form_errors(
            problem,
            fields={
                "educator_ids": messages["pair"],
                "times": messages["times"],
                "duration_minutes": messages["duration"],
            },
            codes=propose_codes(v, messages),
            otherwise=v._("The times could not be proposed. Check the form and try again."),
        )
        return await _form(
            v, invitation_id, school_id, typed=typed, errors=errors, status=problem.status
        )
    return RedirectResponse(f"/visits/{answer.json()['visit_id']}", status_code=303)
