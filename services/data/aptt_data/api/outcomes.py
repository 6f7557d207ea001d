"""Routes of outcome analytics (decisions 0230-0232): attendance against the 92% reference
(outcome_attendance), goals and home-visit reach (classroom, school), growth of APTT
classrooms against comparisons (district), the marks of APTT classrooms and who viewed which
report. Every cell under the district's minimum is withheld (decision 0231)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aptt_platform.deps import Now, Staff, Store
from aptt_platform.web import Cursor, Limit, Page, RequestModel, decoded_cursor, encoded_cursor
from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from aptt_data.api import outcome_attendance, outcome_csv
from aptt_data.api.deps import OUTCOME_ANSWERS as ANSWERS
from aptt_data.api.deps import Id, SchoolYear, problems
from aptt_data.domain.outcomes import GoalFigures, Reach
from aptt_data.service import outcomes as service
from aptt_data.service.outcomes import GrowthReport

router = APIRouter(tags=["outcome analytics"])
# Attendance first: the routes keep the order (and the OpenAPI document) they had in one module.
router.include_router(outcome_attendance.router)
router.include_router(outcome_csv.router)


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
    before = decoded_cursor(cursor, datetime.fromisoformat) if cursor else None
    docs = await mongo.run(service.report_views, principal=principal, before=before, limit=limit)
    items = [ReportViewOut.model_validate(d, from_attributes=False) for d in docs]
    next_cursor = encoded_cursor(items[-1].at.isoformat()) if len(items) == limit else None
    return Page(items=items, next_cursor=next_cursor)
