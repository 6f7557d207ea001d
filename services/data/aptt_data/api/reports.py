"""Class reports for team meetings (JSON and a projector-ready SVG) and private numbers."""

from __future__ import annotations

from typing import Annotated

from aptt_platform.deps import Guardian, Store
from fastapi import APIRouter, Query, Response

from aptt_data.api import chart
from aptt_data.api.deps import Id, StudentReader, problems
from aptt_data.service import report_views
from aptt_data.service.report_views import ClassReport, PrivateNumber

router = APIRouter(tags=["class reports"])


@router.get(
    "/meetings/{meeting_id}/class-report",
    summary="The anonymous class report of a team meeting (staff of the class, its families)",
    responses=problems(403, 404, 410, 422),
)
async def class_report(meeting_id: Id, principal: StudentReader, mongo: Store) -> ClassReport:
    return await mongo.run(report_views.class_report, principal=principal, meeting_id=meeting_id)


@router.get(
    "/meetings/{meeting_id}/class-report.svg",
    summary="The class chart to project: one bar per private number, the benchmark line",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, **problems(403, 404, 410, 422)},
)
async def class_chart(
    meeting_id: Id,
    principal: StudentReader,
    mongo: Store,
    lang: Annotated[
        str | None,
        Query(max_length=35, description="BCP 47 tag; default: the school's language"),
    ] = None,
) -> Response:
    found = await mongo.run(
        report_views.class_report_for_chart,
        principal=principal,
        meeting_id=meeting_id,
        language=lang,
    )
    svg = chart.render(
        found.report, skill_name=found.skill_name, unit=found.unit, language=found.language
    )
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"Content-Language": found.language, "Cache-Control": "private, no-store"},
    )


@router.get(
    "/meetings/{meeting_id}/private-numbers/{student_id}",
    summary="A student's private number for one meeting (the student's guardians only)",
    responses=problems(403, 404, 410, 422),
)
async def private_number(
    meeting_id: Id, student_id: Id, principal: Guardian, mongo: Store
) -> PrivateNumber:
    return await mongo.run(
        report_views.private_number,
        principal=principal,
        meeting_id=meeting_id,
        student_id=student_id,
    )
