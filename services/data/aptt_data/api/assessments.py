"""Skills, assessment result imports, and a student's results."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aptt_contracts.skills import GradeBenchmark, Skill
from aptt_platform.auth import CurrentPrincipal, Principal, require_roles
from aptt_platform.errors import DomainError, NotFound
from aptt_platform.web import Limit
from fastapi import APIRouter, Depends, File, UploadFile
from pydantic import BaseModel

from aptt_data.api.deps import (
    ConfigDep,
    DistrictAdmin,
    RejectedRow,
    RuntimeDep,
    SchoolAdmin,
    read_upload,
)
from aptt_data.domain.assessments import ResultRows, read_gradebook, read_plain
from aptt_data.oneroster.csvfile import FileRejected
from aptt_data.oneroster.package import PackageError, unzip
from aptt_data.service import assessments
from aptt_data.store import ASSESSMENT_IMPORTS
from aptt_data.store import roster as roster_store

router = APIRouter(tags=["skills and assessments"])
ZIP_MAGIC = b"PK\x03\x04"
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
