"""Skills, assessment result imports, and a student's results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aptt_contracts.skills import GradeBenchmark, Skill
from aptt_platform.auth import CurrentPrincipal, Principal, require_roles
from aptt_platform.errors import DomainError
from aptt_platform.web import Limit
from fastapi import APIRouter, Depends, File, Path, Response, UploadFile
from pydantic import BaseModel

from aptt_data.api.deps import (
    IMPORT_RESPONSES,
    ConfigDep,
    DistrictAdmin,
    ImportError_,
    ImportProgress,
    ImportStatus,
    RejectedRow,
    RuntimeDep,
    SchoolAdmin,
)
from aptt_data.service import assessments, imports

router = APIRouter(tags=["skills and assessments"])
StudentReader = Annotated[
    Principal,
    Depends(require_roles("guardian", "teacher", "school_admin", "district_admin")),
]


class SkillOut(BaseModel):
    code: str
    name: dict[str, str]
    unit: dict[str, str]
    scale_min: float
    scale_max: float
    higher_is_better: bool
    benchmarks: list[GradeBenchmark]
    built_in: bool


def _skill_out(skill: Skill, built_in: bool) -> SkillOut:
    return SkillOut.model_validate({**skill.model_dump(), "built_in": built_in})


@router.get("/skills", summary="Built-in skills and the district's own, with benchmarks")
async def list_skills(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
) -> list[SkillOut]:
    skills = await runtime.mongo.run(assessments.list_skills, district_id=principal.district_id)
    return [_skill_out(skill, built_in) for skill, built_in in skills]


@router.post("/skills", status_code=201, summary="Define one of the district's own skills")
async def define_skill(
    body: Skill, principal: DistrictAdmin, runtime: RuntimeDep, config: ConfigDep
) -> SkillOut:
    skill = await runtime.mongo.run(
        assessments.define_skill,
        district_id=principal.district_id,
        skill=body,
        replace=False,
        config=config,
    )
    runtime.wake_relay()
    return _skill_out(skill, False)


@router.put("/skills/{code}", summary="Change one of the district's own skills")
async def replace_skill(
    code: str, body: Skill, principal: DistrictAdmin, runtime: RuntimeDep, config: ConfigDep
) -> SkillOut:
    if body.code != code:
        raise DomainError("the body's code must be the one in the path", code="code-mismatch")
    skill = await runtime.mongo.run(
        assessments.define_skill,
        district_id=principal.district_id,
        skill=body,
        replace=True,
        config=config,
    )
    runtime.wake_relay()
    return _skill_out(skill, False)


class ResultCounts(BaseModel):
    accepted: int
    unchanged: int


class AssessmentImport(BaseModel):
    """A result import: its state and progress; once done, the report (the fields from
    `counts` on, as a result import always answered)."""

    import_id: str
    status: ImportStatus
    phase: str | None
    progress: ImportProgress
    imported_by: str
    imported_at: datetime
    error: ImportError_ | None = None
    counts: ResultCounts | None = None
    rejected: list[RejectedRow] | None = None
    rejected_count: int | None = None
    rejected_truncated: bool | None = None


@router.post(
    "/assessments/imports",
    status_code=202,
    summary="Import assessment results (CSV, or OneRoster lineItems.csv + results.csv), as a job",
    responses=IMPORT_RESPONSES,
)
async def import_results(
    principal: SchoolAdmin,
    runtime: RuntimeDep,
    config: ConfigDep,
    response: Response,
    file: Annotated[
        UploadFile, File(description="student_sourced_id,skill_code,score,assessed_on")
    ],
) -> AssessmentImport:
    job = await imports.post_import(
        runtime.mongo,
        kind="results",
        source=file.file,
        name=file.filename or "results.csv",
        by=principal,
        config=config,
    )
    response.headers["Location"] = f"/v1/assessments/imports/{job['import_id']}"
    return AssessmentImport.model_validate(job)


@router.get(
    "/assessments/imports/{import_id}",
    summary="A result import's progress, and its report once done",
    responses={404: {"description": "No such import of yours in your district"}},
)
async def assessment_import(
    import_id: Annotated[str, Path(max_length=64)], principal: SchoolAdmin, runtime: RuntimeDep
) -> AssessmentImport:
    job = await runtime.mongo.run(
        imports.get_import,
        district_id=principal.district_id,
        import_id=import_id,
        kind="results",
        by=principal,
    )
    return AssessmentImport.model_validate(job)


class Result(BaseModel):
    result_id: str
    skill_code: str
    score: float
    assessed_on: str
    benchmark: float | None
    band: Literal["well_below", "below", "at", "above"] | None


class StudentResults(BaseModel):
    student_id: str
    items: list[Result]
    next_cursor: str | None


@router.get(
    "/students/{student_id}/results",
    summary="A student's results, newest first (guardians of the student, or staff)",
)
async def student_results(
    student_id: str,
    principal: StudentReader,
    runtime: RuntimeDep,
    limit: Limit = 50,
    skill_code: str | None = None,
    cursor: str | None = None,
) -> StudentResults:
    page = await runtime.mongo.run(
        assessments.student_results,
        principal=principal,
        student_id=student_id,
        skill_code=skill_code,
        limit=limit,
        cursor=cursor,
    )
    return StudentResults.model_validate(page)


class Disclosure(BaseModel):
    student_id: str
    actor_id: str
    actor_roles: list[str]
    what: str
    meeting_id: str | None
    at: datetime


class Disclosures(BaseModel):
    student_id: str
    items: list[Disclosure]


@router.get(
    "/students/{student_id}/disclosures",
    summary="Who looked at this student's data (FERPA record of disclosures)",
)
async def student_disclosures(
    student_id: str,
    principal: StudentReader,
    runtime: RuntimeDep,
    limit: Limit = 50,
) -> Disclosures:
    page: dict[str, Any] = await runtime.mongo.run(
        assessments.disclosures, principal=principal, student_id=student_id, limit=limit
    )
    return Disclosures.model_validate(page)
