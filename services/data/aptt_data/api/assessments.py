"""Skills, assessment result imports, and a student's results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aptt_contracts.bounds import Score
from aptt_contracts.skills import Skill
from aptt_platform.deps import CurrentUser, DistrictAdmin, RuntimeDep, SchoolAdmin, Store
from aptt_platform.errors import DomainError
from aptt_platform.web import Cursor, Limit, RequestModel
from fastapi import APIRouter, File, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field, StringConstraints

from aptt_data.api.deps import (
    IMPORT_RESPONSES,
    ConfigDep,
    Id,
    ImportError_,
    ImportProgress,
    ImportStatus,
    RejectedRow,
    StudentReader,
    problems,
)
from aptt_data.service import imports, results, skills
from aptt_data.service.results import Disclosures, StudentResults
from aptt_data.service.skills import SkillView

router = APIRouter(tags=["skills and assessments"])


SKILL_CODE = r"^[a-z][a-z0-9-]{1,40}$"
# A skill's words travel in every SkillDefined event and every class chart: a name or unit
# is a few words, in at most the languages a district's families speak.
MAX_LANGUAGES = 20
MAX_SKILL_TEXT = 120
SkillCode = Annotated[str, StringConstraints(max_length=41, pattern=SKILL_CODE)]
LanguageTag = Annotated[str, StringConstraints(min_length=2, max_length=35)]
SkillText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SKILL_TEXT)]


class BenchmarkBody(RequestModel):
    grade: int = Field(ge=0, le=12, description="0 is kindergarten")
    fall: Score | None
    winter: Score | None
    spring: Score | None
    weekly_growth: Score = Field(gt=0, description="a typical week's gain on the scale")


class SkillBody(RequestModel):
    """A district's own skill: its name and unit by BCP 47 language, its scale, and its
    benchmarks per grade (each grade once)."""

    code: SkillCode
    name: dict[LanguageTag, SkillText] = Field(
        max_length=MAX_LANGUAGES, examples=[{"en": "Spelling"}]
    )
    unit: dict[LanguageTag, SkillText] = Field(
        max_length=MAX_LANGUAGES, examples=[{"en": "words spelled correctly"}]
    )
    scale_min: Score = 0
    scale_max: Score
    higher_is_better: bool = True
    benchmarks: list[BenchmarkBody] = Field(max_length=13)

    def skill(self) -> Skill:
        return Skill.model_validate(self.model_dump())


@router.get("/skills", summary="Built-in skills and the district's own, with benchmarks")
async def list_skills(principal: CurrentUser, mongo: Store) -> list[SkillView]:
    return await mongo.run(skills.list_skills, district_id=principal.district_id)


@router.post(
    "/skills",
    status_code=201,
    summary="Define one of the district's own skills",
    responses=problems(403, 409, 422),
)
async def define_skill(body: SkillBody, principal: DistrictAdmin, mongo: Store) -> SkillView:
    return await mongo.run(
        skills.define_skill, district_id=principal.district_id, skill=body.skill(), replace=False
    )


@router.put(
    "/skills/{code}",
    summary="Change one of the district's own skills",
    responses=problems(403, 404, 422),
)
async def replace_skill(
    code: Annotated[str, Path(max_length=41, pattern=SKILL_CODE)],
    body: SkillBody,
    principal: DistrictAdmin,
    mongo: Store,
) -> SkillView:
    if body.code != code:
        raise DomainError("the body's code must be the one in the path", code="code-mismatch")
    return await mongo.run(
        skills.define_skill, district_id=principal.district_id, skill=body.skill(), replace=True
    )


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
    responses=problems(403, 404, 422),
)
async def assessment_import(
    import_id: Annotated[str, Path(max_length=64)], principal: SchoolAdmin, mongo: Store
) -> AssessmentImport:
    job = await mongo.run(
        imports.get_import,
        district_id=principal.district_id,
        import_id=import_id,
        kind="results",
        by=principal,
    )
    return AssessmentImport.model_validate(job)


@router.get(
    "/students/{student_id}/results",
    summary="A student's results, newest first (guardians of the student, or staff)",
    responses=problems(403, 404, 422),
)
async def student_results(
    student_id: Id,
    principal: StudentReader,
    mongo: Store,
    limit: Limit = 50,
    skill_code: Annotated[str | None, Query(max_length=41)] = None,
    cursor: Cursor = None,
) -> StudentResults:
    return await mongo.run(
        results.student_results,
        principal=principal,
        student_id=student_id,
        skill_code=skill_code,
        limit=limit,
        cursor=cursor,
    )


@router.get(
    "/students/{student_id}/disclosures",
    summary="Who looked at this student's data (FERPA record of disclosures)",
    responses=problems(403, 404, 422),
)
async def student_disclosures(
    student_id: Id,
    principal: StudentReader,
    mongo: Store,
    limit: Limit = 50,
) -> Disclosures:
    return await mongo.run(
        results.disclosures, principal=principal, student_id=student_id, limit=limit
    )
