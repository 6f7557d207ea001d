"""Routes of attendance against the 92% reference, for a classroom (meeting by meeting), a
school (classroom by classroom) and the district (school by school): JSON (rows paginated),
CSV and an SVG chart; every cell under the district's minimum is withheld (decision 0231)."""

from __future__ import annotations

import base64
import csv
import io
from datetime import datetime
from typing import Annotated, Literal

from aptt_platform.deps import Now, Staff, Store
from aptt_platform.web import Cursor, Limit, Page
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from aptt_data.api import outcome_chart
from aptt_data.api.deps import OUTCOME_ANSWERS as ANSWERS
from aptt_data.api.deps import Id, SchoolYear, decoded_cursor
from aptt_data.domain.outcomes import AttendanceFigures, AttendanceRow, FathersCompared
from aptt_data.service import outcomes as service

router = APIRouter()  # tagged by the outcomes router that includes it
Kind = Literal["classroom", "school", "district"]


class AttendanceOut(BaseModel):
    scope: Kind
    scope_id: str
    school_year: str
    reference_rate: float = Field(description="the model's reference: 92% of families")
    minimum: int = Field(description="counts under this are withheld (null)")
    suppressed: bool = Field(description="too few families attended to show anything")
    meetings: int
    families: int = Field(description="families in class, summed over meetings")
    attended: int | None
    rate: float | None
    guardians_present: int | None
    by_relationship: dict[str, int | None]
    trend: list[AttendanceRow] = Field(description="by month")
    fathers: FathersCompared | None = Field(
        default=None,
        description="school and district: fathers among guardians at APTT meetings and at "
        "the school's unlinked events counted by relationship",
    )
    rows: Page[AttendanceRow] = Field(
        description="meetings of a classroom (with the change from the one before), "
        "classrooms of a school, schools of the district"
    )


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    return decoded_cursor(cursor, int)


def _page(rows: list[AttendanceRow], start: int, limit: int) -> Page[AttendanceRow]:
    end = start + limit
    next_cursor = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(rows) else None
    return Page(items=rows[start:end], next_cursor=next_cursor)


def _attendance_out(
    kind: Kind, scope_id: str, year: str, found: AttendanceFigures, page: Page[AttendanceRow]
) -> AttendanceOut:
    values = {k: v for k, v in found.__dict__.items() if k not in ("rows",)}
    return AttendanceOut(scope=kind, scope_id=scope_id, school_year=year, rows=page, **values)


async def _attendance(
    kind: Kind, scope_id: str, principal: Staff, mongo: Store, year: str, now: datetime
) -> AttendanceFigures:
    _, found = await mongo.run(
        service.attendance_report,
        principal=principal,
        kind=kind,
        scope_id=scope_id,
        school_year=year,
        now=now,
    )
    return found


def _attendance_csv(found: AttendanceFigures) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["row", "meetings", "families", "attended", "rate", "reference_rate"])
    shown = [
        *found.rows,
        AttendanceRow("total", found.meetings, found.families, found.attended, found.rate),
    ]
    for row in shown:
        writer.writerow(
            [
                row.key,
                row.meetings,
                row.families,
                "" if row.attended is None else row.attended,
                "" if row.rate is None else row.rate,
                found.reference_rate,
            ]
        )
    return out.getvalue()


Format = Literal["json", "csv", "svg"]


async def _respond(
    fmt: Format,
    kind: Kind,
    target: str,
    principal: Staff,
    mongo: Store,
    now: Now,
    year: str,
    *,
    limit: int = 50,
    cursor: str | None = None,
    lang: str | None = None,
) -> AttendanceOut | Response:
    found = await _attendance(kind, target, principal, mongo, year, now)
    if fmt == "csv":
        name = f"attendance-{kind}-{target}-{year}.csv"
        return Response(
            _attendance_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    if fmt == "svg":
        svg, language = outcome_chart.render(found, school_year=year, language=lang)
        return Response(
            svg,
            media_type="image/svg+xml",
            headers={"Content-Language": language, "Cache-Control": "private, no-store"},
        )
    return _attendance_out(kind, target, year, found, _page(found.rows, _offset(cursor), limit))


CSV = {200: {"content": {"text/csv": {}}}, **ANSWERS}
SVG = {200: {"content": {"image/svg+xml": {}}}, **ANSWERS}
Lang = Annotated[str | None, Query(max_length=35, description="BCP 47 tag; default English")]


# The .csv and .svg routes come before the JSON ones, whose paths would take them.
@router.get(
    "/classrooms/{classroom_id}/outcomes/attendance.csv",
    summary="A classroom's attendance, meeting by meeting, as CSV",
    response_class=Response,
    responses=CSV,
)
async def classroom_attendance_csv(
    classroom_id: Id, principal: Staff, mongo: Store, now: Now, school_year: SchoolYear
) -> Response:
    answer = await _respond("csv", "classroom", classroom_id, principal, mongo, now, school_year)
    assert isinstance(answer, Response)
    return answer


@router.get(
    "/classrooms/{classroom_id}/outcomes/attendance.svg",
    summary="A classroom's attendance, meeting by meeting, as a chart",
    response_class=Response,
    responses=SVG,
)
async def classroom_attendance_svg(
    classroom_id: Id,
    principal: Staff,
    mongo: Store,
    now: Now,
    school_year: SchoolYear,
    lang: Lang = None,
) -> Response:
    answer = await _respond(
        "svg", "classroom", classroom_id, principal, mongo, now, school_year, lang=lang
    )
    assert isinstance(answer, Response)
    return answer


@router.get(
    "/classrooms/{classroom_id}/outcomes/attendance",
    summary="A classroom's attendance against the 92% reference, meeting over meeting",
    responses=ANSWERS,
)
async def classroom_attendance(
    classroom_id: Id,
    principal: Staff,
    mongo: Store,
    now: Now,
    school_year: SchoolYear,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AttendanceOut:
    answer = await _respond(
        "json",
        "classroom",
        classroom_id,
        principal,
        mongo,
        now,
        school_year,
        limit=limit,
        cursor=cursor,
    )
    assert isinstance(answer, AttendanceOut)
    return answer


@router.get(
    "/schools/{school_id}/outcomes/attendance.csv",
    summary="A school's attendance, classroom by classroom, as CSV",
    response_class=Response,
    responses=CSV,
)
async def school_attendance_csv(
    school_id: Id, principal: Staff, mongo: Store, now: Now, school_year: SchoolYear
) -> Response:
    answer = await _respond("csv", "school", school_id, principal, mongo, now, school_year)
    assert isinstance(answer, Response)
    return answer


@router.get(
    "/schools/{school_id}/outcomes/attendance.svg",
    summary="A school's attendance, classroom by classroom, as a chart",
    response_class=Response,
    responses=SVG,
)
async def school_attendance_svg(
    school_id: Id,
    principal: Staff,
    mongo: Store,
    now: Now,
    school_year: SchoolYear,
    lang: Lang = None,
) -> Response:
    answer = await _respond(
        "svg", "school", school_id, principal, mongo, now, school_year, lang=lang
    )
    assert isinstance(answer, Response)
    return answer


@router.get(
    "/schools/{school_id}/outcomes/attendance",
    summary="A school's attendance against the 92% reference, by classroom and month",
    responses=ANSWERS,
)
async def school_attendance(
    school_id: Id,
    principal: Staff,
    mongo: Store,
    now: Now,
    school_year: SchoolYear,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AttendanceOut:
    answer = await _respond(
        "json",
        "school",
        school_id,
        principal,
        mongo,
        now,
        school_year,
        limit=limit,
        cursor=cursor,
    )
    assert isinstance(answer, AttendanceOut)
    return answer


@router.get(
    "/district/outcomes/attendance.csv",
    summary="The district's attendance, school by school, as CSV",
    response_class=Response,
    responses=CSV,
)
async def district_attendance_csv(
    principal: Staff, mongo: Store, now: Now, school_year: SchoolYear
) -> Response:
    answer = await _respond(
        "csv", "district", principal.district_id, principal, mongo, now, school_year
    )
    assert isinstance(answer, Response)
    return answer


@router.get(
    "/district/outcomes/attendance.svg",
    summary="The district's attendance, school by school, as a chart",
    response_class=Response,
    responses=SVG,
)
async def district_attendance_svg(
    principal: Staff, mongo: Store, now: Now, school_year: SchoolYear, lang: Lang = None
) -> Response:
    answer = await _respond(
        "svg", "district", principal.district_id, principal, mongo, now, school_year, lang=lang
    )
    assert isinstance(answer, Response)
    return answer


@router.get(
    "/district/outcomes/attendance",
    summary="The district's attendance against the 92% reference, by school and month",
    responses=ANSWERS,
)
async def district_attendance(
    principal: Staff,
    mongo: Store,
    now: Now,
    school_year: SchoolYear,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AttendanceOut:
    answer = await _respond(
        "json",
        "district",
        principal.district_id,
        principal,
        mongo,
        now,
        school_year,
        limit=limit,
        cursor=cursor,
    )
    assert isinstance(answer, AttendanceOut)
    return answer
