"""Skills, assessment result imports, and a student's results."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from aptt_contracts.skills import Skill
from aptt_platform.deps import CurrentUser, DistrictAdmin, RuntimeDep, SchoolAdmin, Store
from aptt_platform.errors import DomainError, NotFound
from aptt_platform.web import Cursor, Limit, RequestModel
from fastapi import APIRouter, File, Path, Query, UploadFile
from pydantic import BaseModel, Field, StringConstraints

from aptt_data.api.deps import (
    ConfigDep,
    Id,
    RejectedRow,
    StudentReader,
    problems,
    read_upload,
)
from aptt_data.domain.assessments import ResultRows, read_gradebook, read_plain
from aptt_data.oneroster.csvfile import FileRejected
from aptt_data.oneroster.package import PackageError, unzip
from aptt_data.service import assessments, results, skills
from aptt_data.service.results import Disclosures, StudentResults
from aptt_data.service.skills import SkillView
from aptt_data.store import ASSESSMENT_IMPORTS
from aptt_data.store import roster as roster_store

router = APIRouter(tags=["skills and assessments"])
ZIP_MAGIC = b"PK\x03\x04"


SKILL_CODE = r"^[a-z][a-z0-9-]{1,40}$"
# A skill's words travel in every SkillDefined event and every class chart: a name or unit
# is a few words, in at most the languages a district's families speak.
MAX_LANGUAGES = 20
MAX_SKILL_TEXT = 120
SkillCode = Annotated[str, StringConstraints(pattern=SKILL_CODE)]
LanguageTag = Annotated[str, StringConstraints(min_length=2, max_length=35)]
SkillText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SKILL_TEXT)]
Score = Annotated[float, Field(allow_inf_nan=False, ge=-1_000_000, le=1_000_000)]


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
    code: Annotated[str, Path(pattern=SKILL_CODE)],
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


class AssessmentImportReport(BaseModel):
    import_id: str
    counts: ResultCounts
    rejected: list[RejectedRow]
    rejected_count: int
    rejected_truncated: bool
    imported_by: str
    imported_at: datetime


def read_results(name: str, data: bytes, *, max_unzipped_bytes: int) -> ResultRows:
    """A plain CSV, or a zip with OneRoster lineItems.csv and results.csv."""
    try:
        if data.startswith(ZIP_MAGIC) or name.lower().endswith(".zip"):
            files = unzip(data, max_unzipped_bytes=max_unzipped_bytes, upload_name=name)
            missing = [f for f in ("lineItems.csv", "results.csv") if f not in files]
            if missing:
                raise PackageError(f"the zip lacks {' and '.join(missing)}", file=name)
            return read_gradebook(files)
        return read_plain(name, data)
    except FileRejected as exc:
        return ResultRows(rejections=[exc.rejection])


@router.post(
    "/assessments/imports",
    summary="Import assessment results: CSV or OneRoster lineItems.csv + results.csv (zip)",
    responses={413: {"description": "Larger than APTT_MAX_UPLOAD_BYTES"}},
)
async def import_results(
    principal: SchoolAdmin,
    runtime: RuntimeDep,
    config: ConfigDep,
    file: Annotated[
        UploadFile, File(description="student_sourced_id,skill_code,score,assessed_on")
    ],
) -> AssessmentImportReport:
    data = await read_upload(file, config.max_upload_bytes)
    name = file.filename or "results.csv"
    try:
        found = await asyncio.to_thread(
            read_results, name, data, max_unzipped_bytes=config.max_unzipped_bytes
        )
    except PackageError as exc:
        raise DomainError(
            exc.reason,
            code="not-a-package",
            rejected=[
                {"file": exc.file or name, "line": None, "column": None, "reason": exc.reason}
            ],
        ) from exc
    report = await runtime.mongo.run(
        assessments.import_results,
        district_id=principal.district_id,
        found=found,
        by=principal,
        today=datetime.now(UTC).date(),
        config=config,
    )
    runtime.wake_relay()
    return AssessmentImportReport.model_validate(report)


@router.get("/assessments/imports/{import_id}", summary="The report of an earlier import")
async def assessment_import(
    import_id: str, principal: SchoolAdmin, runtime: RuntimeDep
) -> AssessmentImportReport:
    doc = await runtime.mongo.run(
        roster_store.get_import, ASSESSMENT_IMPORTS, principal.district_id, import_id
    )
    if doc is None or (not principal.is_district_admin and doc["imported_by"] != principal.subject):
        raise NotFound(f"no assessment import {import_id}")
    return AssessmentImportReport.model_validate(doc)


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
