"""Routes of outcome analytics: attendance against the 92% reference (classroom, school,
district), goals (classroom, school), growth of APTT classrooms against comparisons
(district), the marks of APTT classrooms and who viewed which report. JSON (rows paginated),
CSV and an SVG chart; every cell under the district's minimum is withheld (decision 0231)."""

from __future__ import annotations

import base64
import binascii
import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal

from aptt_contracts.bounds import SCHOOL_YEAR_PATTERN
from aptt_platform import schoolyear
from aptt_platform.deps import Now, Staff, Store
from aptt_platform.errors import DomainError
from aptt_platform.web import Cursor, Limit, Page, RequestModel
from fastapi import APIRouter, Query, Response, status
from pydantic import AfterValidator, BaseModel, Field

from aptt_data.api import outcome_chart
from aptt_data.api.deps import Id, problems
from aptt_data.domain.outcomes import (
    AttendanceFigures,
    AttendanceRow,
    FathersCompared,
    GoalFigures,
    Reach,
)
from aptt_data.service import outcomes as service
from aptt_data.service.outcomes import GrowthReport

router = APIRouter(tags=["outcome analytics"])


SchoolYear = Annotated[
    str,
    AfterValidator(schoolyear.checked),
    Query(pattern=SCHOOL_YEAR_PATTERN, max_length=9),
]
Kind = Literal["classroom", "school", "district"]
ANSWERS = problems(403, 404, 422)


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
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise DomainError("the cursor is not one this API gave out", code="bad-cursor") from exc


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


@router.get(
    "/classrooms/{classroom_id}/outcomes/goals",
    summary="Goals of a classroom's families: set after each meeting, met, practice per week",
    responses=ANSWERS,
)
async def classroom_goals(
    classroom_id: Id, principal: Staff, mongo: Store, now: Now, school_year: SchoolYear
) -> GoalFigures:
    _, found = await mongo.run(
        service.goals_report,
        principal=principal,
        kind="classroom",
        scope_id=classroom_id,
        school_year=school_year,
        now=now,
    )
    return found


@router.get(
    "/schools/{school_id}/outcomes/goals",
    summary="Goals of a school's families: set after each meeting, met, practice per week",
    responses=ANSWERS,
)
async def school_goals(
    school_id: Id, principal: Staff, mongo: Store, now: Now, school_year: SchoolYear
) -> GoalFigures:
    _, found = await mongo.run(
        service.goals_report,
        principal=principal,
        kind="school",
        scope_id=school_id,
        school_year=school_year,
        now=now,
    )
    return found


@router.get(
    "/classrooms/{classroom_id}/outcomes/reach",
    summary="Families of a classroom visited at home this school year",
    responses=ANSWERS,
)
async def classroom_reach(
    classroom_id: Id, principal: Staff, mongo: Store, now: Now, school_year: SchoolYear
) -> Reach:
    found: Reach = await mongo.run(
        service.reach_report,
        principal=principal,
        kind="classroom",
        scope_id=classroom_id,
        school_year=school_year,
        now=now,
    )
    return found


@router.get(
    "/schools/{school_id}/outcomes/reach",
    summary="Families of a school visited at home this school year",
    responses=ANSWERS,
)
async def school_reach(
    school_id: Id, principal: Staff, mongo: Store, now: Now, school_year: SchoolYear
) -> Reach:
    found: Reach = await mongo.run(
        service.reach_report,
        principal=principal,
        kind="school",
        scope_id=school_id,
        school_year=school_year,
        now=now,
    )
    return found


class GrowthOut(BaseModel):
    skill_code: str
    grade: int
    school_year: str
    aptt_classrooms: int
    comparison_classrooms: int
    minimum: int
    aptt: dict[str, Any]
    comparison: dict[str, Any]
    difference: float | None = Field(description="APTT mean growth minus comparison's")
    ci_low: float | None = Field(description="95% confidence interval (Welch), low end")
    ci_high: float | None
    df: float | None = Field(description="Welch-Satterthwaite degrees of freedom")
    suppressed: bool

    @classmethod
    def of(cls, report: GrowthReport) -> GrowthOut:
        c = report.comparison
        return cls(
            skill_code=report.skill_code,
            grade=report.grade,
            school_year=report.school_year,
            aptt_classrooms=report.aptt_classrooms,
            comparison_classrooms=report.comparison_classrooms,
            minimum=c.minimum,
            aptt=c.aptt.__dict__,
            comparison=c.comparison.__dict__,
            difference=c.difference,
            ci_low=c.ci_low,
            ci_high=c.ci_high,
            df=c.df,
            suppressed=c.suppressed,
        )


@router.get(
    "/district/outcomes/growth",
    summary="Growth on a skill: APTT classrooms of a grade against the district's others",
    responses=ANSWERS,
)
async def growth(
    principal: Staff,
    mongo: Store,
    now: Now,
    school_year: SchoolYear,
    skill_code: Annotated[str, Query(min_length=1, max_length=40)],
    grade: Annotated[int, Query(ge=0, le=12)],
) -> GrowthOut:
    report = await mongo.run(
        service.growth_report,
        principal=principal,
        skill_code=skill_code,
        grade=grade,
        school_year=school_year,
        now=now,
    )
    return GrowthOut.of(report)


class AptMarkIn(RequestModel):
    runs_aptt: bool


@router.put(
    "/classrooms/{classroom_id}/aptt",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Mark whether a classroom runs APTT (the others are comparisons)",
    responses=problems(403, 404),
)
async def mark(
    classroom_id: Id, body: AptMarkIn, principal: Staff, mongo: Store, now: Now
) -> Response:
    await mongo.run(
        service.mark_classroom,
        principal=principal,
        classroom_id=classroom_id,
        runs_aptt=body.runs_aptt,
        now=now,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class ReportViewOut(BaseModel):
    viewer: str
    roles: list[str]
    report: str
    scope: str
    scope_id: str
    at: datetime
    school_year: str | None = None
    skill_code: str | None = None


@router.get(
    "/district/outcomes/views",
    summary="Who viewed which outcome report, newest first (district admins)",
    responses=problems(403),
)
async def views(
    principal: Staff, mongo: Store, limit: Limit = 50, cursor: Cursor = None
) -> Page[ReportViewOut]:
    before = None
    if cursor:
        try:
            before = datetime.fromisoformat(base64.urlsafe_b64decode(cursor.encode()).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise DomainError("the cursor is not one this API gave out", code="bad-cursor") from exc
    docs = await mongo.run(service.report_views, principal=principal, before=before, limit=limit)
    items = [ReportViewOut.model_validate(d, from_attributes=False) for d in docs]
    next_cursor = (
        base64.urlsafe_b64encode(items[-1].at.isoformat().encode()).decode()
        if len(items) == limit
        else None
    )
    return Page(items=items, next_cursor=next_cursor)
