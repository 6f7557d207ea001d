"""Class reports for team meetings (JSON and a projector-ready SVG) and private numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from aptt_data.api import chart
from aptt_data.api.deps import ConfigDep, Guardian, RuntimeDep, Staff
from aptt_data.domain.skills import display
from aptt_data.service import report_views

router = APIRouter(tags=["class reports"])
BandName = Literal["well_below", "below", "at", "above"]


class ReportBar(BaseModel):
    number: int
    score: float | None
    previous_score: float | None
    growth: float | None
    band: BandName | None


class Growth(BaseModel):
    previous_report_id: str | None
    compared_count: int
    median: float | None


class ClassReport(BaseModel):
    report_id: str
    meeting_id: str
    classroom_id: str
    school_id: str
    skill_code: str
    starts_at: datetime
    grade: int | None
    season: str | None
    benchmark: float | None
    suppressed: bool
    suppressed_reason: str | None
    min_group_size: int | None
    student_count: int
    scored_count: int
    bands: dict[BandName, int]
    bars: list[ReportBar]
    growth: Growth


@router.get(
    "/meetings/{meeting_id}/class-report",
    summary="The anonymous class report of a team meeting (no student ids or names)",
)
async def class_report(meeting_id: str, principal: Staff, runtime: RuntimeDep) -> ClassReport:
    view = await runtime.mongo.run(
        report_views.class_report, principal=principal, meeting_id=meeting_id
    )
    return ClassReport.model_validate(view)


@router.get(
    "/meetings/{meeting_id}/class-report.svg",
    summary="The class chart to project: one bar per private number, the benchmark line",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def class_chart(
    meeting_id: str,
    principal: Staff,
    runtime: RuntimeDep,
    config: ConfigDep,
    lang: Annotated[
        str | None, Query(description="BCP 47 tag; default: the school's language")
    ] = None,
) -> Response:
    found = await runtime.mongo.run(
        report_views.class_report_for_chart,
        principal=principal,
        meeting_id=meeting_id,
        default_language=config.default_language,
    )
    language = lang or found.school_language
    skill_name, unit = (
        display(found.skill, language) if found.skill else (found.report["skill_code"], "")
    )
    svg = chart.render(found.report, skill_name=skill_name, unit=unit, language=language)
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"Content-Language": language, "Cache-Control": "private, no-store"},
    )


class PrivateNumber(BaseModel):
    meeting_id: str
    student_id: str
    number: int


@router.get(
    "/meetings/{meeting_id}/private-numbers/{student_id}",
    summary="A student's private number for one meeting (the student's guardians only)",
)
async def private_number(
    meeting_id: str, student_id: str, principal: Guardian, runtime: RuntimeDep
) -> PrivateNumber:
    found = await runtime.mongo.run(
        report_views.private_number,
        principal=principal,
        meeting_id=meeting_id,
        student_id=student_id,
    )
    return PrivateNumber.model_validate(found)
