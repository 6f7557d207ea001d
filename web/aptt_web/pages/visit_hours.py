"""A school's home-visit hours for a pay period (decision 0323): each educator's visits and
paid hours, the coordinator's approval that freezes them, and the approved period as CSV.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from aptt_web.pages.common import BadForm, Form, SignedIn, Visit, create_form, text
from aptt_web.pages.form_errors import FormErrors, form_errors
from aptt_web.pages.staff import schools_of
from aptt_web.services import ServiceProblem

router = APIRouter(prefix="/school/visits")
ID_PATTERN = r"^[A-Za-z0-9._:\-]+$"
SchoolId = Annotated[
    str | None, Query(alias="school_id", min_length=1, max_length=255, pattern=ID_PATTERN)
]
Day = Annotated[date | None, Query()]


def _coordinator(v: Visit) -> None:
    if not v.user.is_admin:
        raise ServiceProblem(403)


def _this_month() -> tuple[date, date]:
    """A pay period by default: the current calendar month."""
    today = date.today()
    first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, last


def _messages(v: Visit) -> dict[str, tuple[str | None, str]]:
    return {
        "bad-period": (
            None,
            v._("A pay period ends on or after its first day and lasts at most 62 days."),
        ),
        "period-approved": (None, v._("This pay period is already approved.")),
        "not-approved": (None, v._("Approve the pay period before downloading it.")),
    }


async def _hours_page(
    v: Visit,
    school: str | None,
    first: date,
    last: date,
    *,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    schools = await schools_of(v)
    chosen = school or (schools[0]["school_id"] if schools else "")
    period: dict[str, Any] | None = None
    errors = errors or FormErrors()
    if chosen:
        try:
            period = await v.services.get(
                "scheduling",
                v.token,
                f"/v1/schools/{chosen}/visit-hours",
                first_day=first.isoformat(),
                last_day=last.isoformat(),
            )
        except ServiceProblem as problem:
            if problem.status != 422:
                raise
            errors = form_errors(
                problem,
                fields={},
                codes=_messages(v),
                otherwise=v._("Give the first and the last day of the pay period."),
            )
            status = 422
    return v.render(
        "visits/hours.html",
        status=status,
        schools=schools,
        chosen=chosen,
        first=first.isoformat(),
        last=last.isoformat(),
        period=period,
        # Approving is the school's coordinators' (decision 0323); a district admin reads.
        may_approve=v.user.has("school_admin") and chosen in v.user.school_ids,
        approved_at=v.when(period["approved_at"], period["timezone"])
        if period and period["approved_at"]
        else "",
        errors=errors,
        saved=v.request.query_params.get("saved"),
    )


@router.get("/hours", response_class=Response)
async def hours(
    v: SignedIn, school: SchoolId = None, first_day: Day = None, last_day: Day = None
) -> Response:
    _coordinator(v)
    default_first, default_last = _this_month()
    return await _hours_page(v, school, first_day or default_first, last_day or default_last)


@router.post("/hours/approvals", response_class=Response)
@create_form
async def approve(v: SignedIn, form: Form) -> Response:
    """Approving freezes the figures for payroll; a second approval is refused."""
    _coordinator(v)
    school = text(form, "school_id")
    # A path segment of the service's route: only an id, never a path of the caller's.
    if not re.fullmatch(ID_PATTERN, school) or len(school) > 255:
        raise BadForm("the school is not an id")
    try:
        first = date.fromisoformat(text(form, "first_day"))
        last = date.fromisoformat(text(form, "last_day"))
    except ValueError:
        # The days come from the page's hidden fields: only a crafted form lacks them.
        raise BadForm("the pay period's days are missing") from None
    try:
        await v.services.call(
            "scheduling",
            v.token,
            "POST",
            f"/v1/schools/{school}/visit-hours/approvals",
            json={"first_day": first.isoformat(), "last_day": last.isoformat()},
            language=v.language,
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = form_errors(
            problem,
            fields={},
            codes=_messages(v),
            otherwise=v._("The pay period could not be approved. Try again in a minute."),
        )
        return await _hours_page(v, school, first, last, errors=errors, status=problem.status)
    return RedirectResponse(
        f"/school/visits/hours?school_id={school}&first_day={first}&last_day={last}&saved=approved",
        status_code=303,
    )


@router.get("/hours.csv", response_class=Response)
async def hours_csv(
    v: SignedIn, school: SchoolId = None, first_day: Day = None, last_day: Day = None
) -> Response:
    _coordinator(v)
    if not (school and first_day and last_day):
        raise ServiceProblem(404)
    try:
        found = await v.services.call(
            "scheduling",
            v.token,
            "GET",
            f"/v1/schools/{school}/visit-hours.csv",
            params={"first_day": first_day.isoformat(), "last_day": last_day.isoformat()},
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = form_errors(
            problem,
            fields={},
            codes=_messages(v),
            otherwise=v._("Approve the pay period before downloading it."),
        )
        return await _hours_page(
            v, school, first_day, last_day, errors=errors, status=problem.status
        )
    name = f"visit-hours-{school}-{first_day.isoformat()}-{last_day.isoformat()}.csv"
    return Response(
        found.content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
