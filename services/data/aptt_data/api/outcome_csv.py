"""A school's goals and home-visit reach as CSV, in the style of the attendance CSV: one
row per meeting (goals) or for the school (reach), a withheld cell left empty (0231)."""

from __future__ import annotations

import csv
import io

from aptt_platform.deps import Now, Staff, Store
from fastapi import APIRouter, Response

from aptt_data.api.deps import OUTCOME_ANSWERS as ANSWERS
from aptt_data.api.deps import Id, SchoolYear
from aptt_data.domain.outcomes import GoalFigures, Reach
from aptt_data.service import outcomes as service

router = APIRouter()
CSV = {200: {"content": {"text/csv": {}}}, **ANSWERS}


def _cell(value: object) -> object:
    return "" if value is None else value


def _csv(header: list[str], rows: list[list[object]], name: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def goals_csv(found: GoalFigures, school_id: str, year: str) -> Response:
    rows: list[list[object]] = []
    for m in found.meetings:
        meeting: list[object] = [f"meeting:{m.meeting_id}", m.starts_on.isoformat()]
        rows.append([*meeting, m.families_attended, m.families_with_goal, "", "", ""])
    rows.append(["total", "", "", "", found.goals_set, found.goals_met, found.met_rate])
    return _csv(
        [
            "row",
            "starts_on",
            "families_attended",
            "families_with_goal",
            "goals_set",
            "goals_met",
            "met_rate",
        ],
        rows,
        f"goals-school-{school_id}-{year}.csv",
    )


def reach_csv(found: Reach, school_id: str, year: str) -> Response:
    row: list[object] = [
        "total",
        found.families,
        found.visited,
        found.visited_share,
        found.visited_twice,
    ]
    return _csv(
        ["row", "families", "visited", "visited_share", "visited_twice"],
        [row],
        f"reach-school-{school_id}-{year}.csv",
    )


@router.get(
    "/schools/{school_id}/outcomes/goals.csv",
    summary="A school's goals, meeting by meeting, as CSV",
    response_class=Response,
    responses=CSV,
)
async def school_goals_csv(
    school_id: Id, principal: Staff, mongo: Store, now: Now, school_year: SchoolYear
) -> Response:
    _, found = await mongo.run(
        service.goals_report,
        principal=principal,
        kind="school",
        scope_id=school_id,
        school_year=school_year,
        now=now,
    )
    return goals_csv(found, school_id, school_year)


@router.get(
    "/schools/{school_id}/outcomes/reach.csv",
    summary="A school's families visited at home, as CSV",
    response_class=Response,
    responses=CSV,
)
async def school_reach_csv(
    school_id: Id, principal: Staff, mongo: Store, now: Now, school_year: SchoolYear
) -> Response:
    found: Reach = await mongo.run(
        service.reach_report,
        principal=principal,
        kind="school",
        scope_id=school_id,
        school_year=school_year,
        now=now,
    )
    return reach_csv(found, school_id, school_year)
