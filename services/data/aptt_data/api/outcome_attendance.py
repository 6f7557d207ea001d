"""Routes of attendance against the 92% reference, for a classroom (meeting by meeting), a
school (classroom by classroom) and the district (school by school): JSON (rows paginated),
CSV and an SVG chart; every cell under the district's minimum is withheld (decision 0231)."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Literal

from aptt_platform.deps import Now, Staff, Store
from aptt_platform.web import Cursor, Limit, Page, decoded_cursor, encoded_cursor
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from aptt_data.api import outcome_chart
from aptt_data.api.deps import OUTCOME_ANSWERS as ANSWERS
from aptt_data.api.deps import Id, SchoolYear
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
    next_cursor = encoded_cursor(end) if end < len(rows) else None
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


CSV = {200: {"content": {"text/csv": {}}}, **ANSWERS}
SVG = {200: {"content": {"image/svg+xml": {}}}, **ANSWERS}
Lang = Annotated[str | None, Query(max_length=35, description="BCP 47 tag; default English")]


async def _classroom(classroom_id: Id) -> str:
    return classroom_id


async def _school(school_id: Id) -> str:
    return school_id


async def _district(principal: Staff) -> str:
    return principal.district_id


# Each scope: its path, where its id comes from, and the words of its summaries.
SCOPES: dict[Kind, tuple[str, Callable[..., Awaitable[str]], str, str]] = {
    "classroom": (
        "/classrooms/{classroom_id}",
        _classroom,
        "A classroom's attendance, meeting by meeting",
        "A classroom's attendance against the 92% reference, meeting over meeting",
    ),
    "school": (
        "/schools/{school_id}",
        _school,
        "A school's attendance, classroom by classroom",
        "A school's attendance against the 92% reference, by classroom and month",
    ),
    "district": (
        "/district",
        _district,
        "The district's attendance, school by school",
        "The district's attendance against the 92% reference, by school and month",
    ),
}


def _register(kind: Kind) -> None:
    prefix, scope, by, against = SCOPES[kind]
    # A default, not an annotation: the annotations are strings, read in the module's names.
    target_of = Depends(scope)
    path = f"{prefix}/outcomes/attendance"

    async def as_csv(
        principal: Staff, mongo: Store, now: Now, school_year: SchoolYear, target: str = target_of
    ) -> Response:
        found = await _attendance(kind, target, principal, mongo, school_year, now)
        name = f"attendance-{kind}-{target}-{school_year}.csv"
        return Response(
            _attendance_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def as_svg(
        principal: Staff,
        mongo: Store,
        now: Now,
        school_year: SchoolYear,
        lang: Lang = None,
        target: str = target_of,
    ) -> Response:
        found = await _attendance(kind, target, principal, mongo, school_year, now)
        svg, language = outcome_chart.render(found, school_year=school_year, language=lang)
        return Response(
            svg,
            media_type="image/svg+xml",
            headers={"Content-Language": language, "Cache-Control": "private, no-store"},
        )

    async def as_json(
        principal: Staff,
        mongo: Store,
        now: Now,
        school_year: SchoolYear,
        limit: Limit = 50,
        cursor: Cursor = None,
        target: str = target_of,
    ) -> AttendanceOut:
        found = await _attendance(kind, target, principal, mongo, school_year, now)
        page = _page(found.rows, _offset(cursor), limit)
        return _attendance_out(kind, target, school_year, found, page)

    # The .csv and .svg routes come before the JSON one, whose path would take them.
    for suffix, fmt, answers, endpoint in (
        (".csv", "as CSV", CSV, as_csv),
        (".svg", "as a chart", SVG, as_svg),
    ):
        router.get(
            f"{path}{suffix}",
            summary=f"{by}, {fmt}",
            name=f"{kind}_attendance_{suffix[1:]}",
            response_class=Response,
            responses=answers,
        )(endpoint)
    router.get(path, summary=against, name=f"{kind}_attendance", responses=ANSWERS)(as_json)


for _kind in SCOPES:
    _register(_kind)
