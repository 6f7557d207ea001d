"""School and district staff: roster and results imports with their reports."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

from aptt_platform.schoolyear import school_year_of
from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import UploadFile

from aptt_web.pages.common import Form, SignedIn, Visit, create_form, text
from aptt_web.pages.school_years import Year, chosen_year, recent_years
from aptt_web.services import ServiceProblem

router = APIRouter(prefix="/school")
Id = Annotated[str, Path(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._:\-]+$")]
Kind = Literal["roster", "results"]
KINDS: tuple[Kind, ...] = ("roster", "results")
API = {"roster": "/v1/roster/imports", "results": "/v1/assessments/imports"}


def _admin(v: Visit) -> None:
    if not v.user.is_admin:
        raise ServiceProblem(403)


@router.get("", response_class=Response)
async def home(v: SignedIn) -> Response:
    _admin(v)
    return v.render("school/home.html")


@router.get("/imports", response_class=Response)
async def imports(v: SignedIn) -> Response:
    _admin(v)
    return v.render("school/imports.html")


@router.post("/imports/{kind}", response_class=Response)
@create_form
async def upload(v: SignedIn, form: Form, request: Request, kind: Kind) -> Response:
    _admin(v)
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return v.render("school/imports.html", status=422, missing=kind)
    limit: int = request.app.state.settings.max_upload_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        return v.render("school/imports.html", status=413, too_large=kind)
    data = {"mode": text(form, "mode", "bulk")} if kind == "roster" else None
    try:
        posted = await v.services.call(
            "data",
            v.token,
            "POST",
            API[kind],
            files={
                "file": (
                    file.filename[:200],
                    content,
                    file.content_type or "application/octet-stream",
                )
            },
            data=data,
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 413, 422):
            raise
        return v.render("school/imports.html", status=problem.status, refused=problem.detail)
    return RedirectResponse(f"/school/imports/{kind}/{posted.json()['import_id']}", status_code=303)


@router.get("/imports/{kind}/{import_id}", response_class=Response)
async def report(v: SignedIn, kind: Kind, import_id: Id) -> Response:
    _admin(v)
    job = await v.services.get("data", v.token, f"{API[kind]}/{import_id}")
    return v.render("school/report.html", kind=kind, job=job, when=v.when(job["imported_at"]))


# A cell a spreadsheet would run as a formula (OWASP's CSV injection list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """A refused row's reason quotes what the file held; a staff member opens this file in a
    spreadsheet, which must show that text, not run it."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


@router.get("/imports/{kind}/{import_id}/rejected.csv", response_class=Response)
async def rejected_csv(v: SignedIn, kind: Kind, import_id: Id) -> Response:
    _admin(v)
    job = await v.services.get("data", v.token, f"{API[kind]}/{import_id}")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["file", "line", "column", "reason"])
    for row in job.get("rejected") or []:
        cells = (row["file"], row.get("line") or "", row.get("column") or "", row["reason"])
        writer.writerow([spreadsheet_safe(str(cell)) for cell in cells])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{kind}-{import_id}-rejected.csv"'},
    )


@router.get("/outcomes", response_class=Response)
async def outcomes(v: SignedIn, year: Year = None) -> Response:
    """Attendance against the 92% reference: the district's schools for a district admin,
    a principal's own school classroom by classroom; small counts are withheld by the data
    service, as in every outcome report."""
    _admin(v)
    year = chosen_year(year)
    scopes = (
        [("district", "/v1/district/outcomes/attendance")]
        if v.user.has("district_admin")
        else [("school", f"/v1/schools/{s}/outcomes/attendance") for s in v.user.school_ids]
    )
    charts = await asyncio.gather(
        *(
            v.services.call(
                "data",
                v.token,
                "GET",
                f"{path}.svg",
                params={"school_year": year, "lang": v.language},
            )
            for _, path in scopes
        )
    )
    return v.render(
        "school/outcomes.html",
        year=year,
        years=recent_years(),
        # Our own data service draws the charts and escapes every label in them.
        charts=[
            {
                "csv": f"/school/outcomes/{scope}.csv?n={n}&year={year}",
                "svg": Markup(chart.text),  # noqa: S704
            }
            for n, ((scope, _), chart) in enumerate(zip(scopes, charts, strict=True))
        ],
    )


@router.get("/outcomes/{scope}.csv", response_class=Response)
async def outcomes_csv(
    v: SignedIn, scope: Literal["district", "school"], n: int = 0, year: Year = None
) -> Response:
    _admin(v)
    year = chosen_year(year)
    if scope == "district":
        path = "/v1/district/outcomes/attendance.csv"
    elif 0 <= n < len(v.user.school_ids):
        path = f"/v1/schools/{v.user.school_ids[n]}/outcomes/attendance.csv"
    else:
        raise ServiceProblem(404)
    found = await v.services.call("data", v.token, "GET", path, params={"school_year": year})
    return Response(
        found.content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="attendance-{scope}-{year}.csv"'},
    )


async def schools_of(v: Visit) -> list[dict[str, str]]:
    """The schools a staff member reads: a principal's own, every school for a district admin
    (the schools of the classes the data service lists for them)."""
    found = await v.services.get("data", v.token, "/v1/me/classrooms")
    schools: dict[str, str] = {}
    for room in found["items"]:
        if v.user.has("district_admin") or room["school_id"] in v.user.school_ids:
            schools[room["school_id"]] = room["school_name"]
    return [{"school_id": k, "name": name} for k, name in sorted(schools.items())]


async def school_rooms(v: Visit, school_id: str) -> tuple[str, list[dict[str, Any]]]:
    """A school the staff member reads, by name, and its classes; any other is Not found
    (a district admin of another district reads no school of this one, not an empty one)."""
    found = await v.services.get("data", v.token, "/v1/me/classrooms")
    rooms = [c for c in found["items"] if c["school_id"] == school_id]
    if not rooms or not (v.user.has("district_admin") or school_id in v.user.school_ids):
        raise ServiceProblem(404)
    return rooms[0]["school_name"], rooms


@router.get("/events", response_class=Response)
async def family_events(v: SignedIn) -> Response:
    """The year's family events per school, against about twelve a year, with the crowded
    months and the events to merge or cut (scheduling's consolidation view)."""
    _admin(v)
    year = school_year_of(date.today())
    schools = await schools_of(v)
    charts = await asyncio.gather(
        *(
            v.services.call(
                "scheduling",
                v.token,
                "GET",
                f"/v1/schools/{s['school_id']}/event-consolidation.svg",
                params={"school_year": year, "lang": v.language},
            )
            for s in schools
        )
    )
    return v.render(
        "school/events.html",
        year=year,
        # Our own scheduling service draws the charts and escapes every label in them.
        schools=[
            {**s, "svg": Markup(chart.text)}  # noqa: S704
            for s, chart in zip(schools, charts, strict=True)
        ],
    )


@router.get("/events/{school_id}.csv", response_class=Response)
async def family_events_csv(v: SignedIn, school_id: Id) -> Response:
    _admin(v)
    year = school_year_of(date.today())
    found = await v.services.call(
        "scheduling",
        v.token,
        "GET",
        f"/v1/schools/{school_id}/event-consolidation.csv",
        params={"school_year": year},
    )
    return Response(
        found.content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="family-events-{year}.csv"'},
    )
