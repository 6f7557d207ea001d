"""Routes of home-visit coverage: a class's or a school's families invited, accepted and
visited, and whether the visited group looks targeted (coordinators, district admins)."""

from __future__ import annotations

from typing import Annotated

from aptt_platform.deps import SchoolAdmin, Store
from aptt_platform.web import problems
from fastapi import APIRouter, Query
from pydantic import BaseModel, StringConstraints

from aptt_scheduling.api.schemas import PathId, SchoolYearQuery
from aptt_scheduling.service import visit_coverage as service
from aptt_scheduling.service.visit_coverage import Coverage

router = APIRouter(tags=["home visits"])
SkillCode = Annotated[str, StringConstraints(min_length=1, max_length=42)]
SkillCodeQuery = Annotated[
    SkillCode, Query(description="the skill whose latest results give the bands")
]


class SkewOut(BaseModel):
    suppressed: bool
    suppressed_reason: str | None
    class_bands: dict[str, int] | None
    visited_bands: dict[str, int] | None
    scored: int | None
    struggling: int | None
    visited_scored: int | None
    visited_struggling: int | None
    p_value: float | None
    flagged: bool
    message: str


class CoverageOut(BaseModel):
    scope: str
    scope_id: str
    school_year: str
    skill_code: str
    families: int
    invited: int
    accepted: int
    visited_once: int
    visited_twice: int
    bands: SkewOut

    @classmethod
    def of(cls, coverage: Coverage) -> CoverageOut:
        return cls(
            scope=coverage.scope,
            scope_id=coverage.scope_id,
            school_year=coverage.school_year,
            skill_code=coverage.skill_code,
            **coverage.funnel.__dict__,
            bands=SkewOut(**coverage.skew.__dict__),
        )


@router.get(
    "/classrooms/{classroom_id}/visit-coverage",
    summary="A class's home-visit coverage, with a flag when visits look targeted",
    responses=problems(403, 404),
)
async def classroom_coverage(
    classroom_id: PathId,
    principal: SchoolAdmin,
    mongo: Store,
    school_year: SchoolYearQuery,
    skill_code: SkillCodeQuery,
) -> CoverageOut:
    coverage = await mongo.run(
        service.classroom_coverage,
        principal=principal,
        classroom_id=classroom_id,
        school_year=school_year,
        skill_code=skill_code,
    )
    return CoverageOut.of(coverage)


@router.get(
    "/schools/{school_id}/visit-coverage",
    summary="A school's home-visit coverage, with a flag when visits look targeted",
    responses=problems(403, 404),
)
async def school_coverage(
    school_id: PathId,
    principal: SchoolAdmin,
    mongo: Store,
    school_year: SchoolYearQuery,
    skill_code: SkillCodeQuery,
) -> CoverageOut:
    coverage = await mongo.run(
        service.school_coverage,
        principal=principal,
        school_id=school_id,
        school_year=school_year,
        skill_code=skill_code,
    )
    return CoverageOut.of(coverage)
