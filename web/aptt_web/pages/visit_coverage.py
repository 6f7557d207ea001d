"""The coordinator's home-visit coverage: for each class, families invited, saying yes and
visited, and whether the visited families look targeted, in plain words (decision 0324)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from aptt_platform.schoolyear import school_year_of
from fastapi import APIRouter, Query
from fastapi.responses import Response

from aptt_web.pages.common import SignedIn, Visit
from aptt_web.services import ServiceProblem

router = APIRouter(prefix="/school")
SchoolYear = Annotated[
    str | None, Query(alias="school_year", pattern=r"^\d{4}-\d{4}$", max_length=9)
]
SkillCode = Annotated[
    str | None, Query(alias="skill_code", pattern=r"^[A-Za-z0-9._\-]+$", max_length=41)
]
# A district admin's district can hold hundreds of classes: a few coverage calls at a time.
AT_ONCE = 8


@router.get("/visit-coverage", response_class=Response)
async def coverage(v: SignedIn, year: SchoolYear = None, skill: SkillCode = None) -> Response:
    if not v.user.is_admin:
        raise ServiceProblem(403)
    this_year = school_year_of(date.today())
    first = int(this_year[:4])
    years = [this_year, f"{first - 1}-{first}"]
    chosen_year = year or this_year
    skills, classrooms = await asyncio.gather(
        v.services.get("data", v.token, "/v1/skills"),
        v.services.get("data", v.token, "/v1/me/classrooms"),
    )
    names = {s["code"]: _skill_name(s, v.language) for s in skills}
    chosen_skill = skill if skill is not None and skill in names else next(iter(names), "")
    limit = asyncio.Semaphore(AT_ONCE)
    found = await asyncio.gather(
        *(_class_coverage(v, limit, c, chosen_year, chosen_skill) for c in classrooms["items"])
    )
    return v.render(
        "school/visit_coverage.html",
        years=years,
        chosen_year=chosen_year,
        skills=names,
        chosen_skill=chosen_skill,
        rows=[
            {"classroom": c, "coverage": f, "pattern": _pattern(v, f) if f else ""}
            for c, f in zip(classrooms["items"], found, strict=True)
        ],
    )


def _skill_name(skill: dict[str, Any], language: str) -> str:
    name: dict[str, str] = skill.get("name") or {}
    return name.get(language) or name.get("en") or str(skill["code"])


async def _class_coverage(
    v: Visit, limit: asyncio.Semaphore, classroom: dict[str, Any], year: str, skill: str
) -> dict[str, Any] | None:
    """None while scheduling has not yet received the class's roster (404)."""
    async with limit:
        try:
            found: dict[str, Any] = await v.services.get(
                "scheduling",
                v.token,
                f"/v1/classrooms/{classroom['classroom_id']}/visit-coverage",
                school_year=year,
                skill_code=skill,
            )
        except ServiceProblem as problem:
            if problem.status == 404:
                return None
            raise
    return found


def _pattern(v: Visit, coverage: dict[str, Any]) -> str:
    """The targeting check in the reader's words; the service words it in English only."""
    bands = coverage["bands"]
    if bands["suppressed"] or not bands["visited_scored"] or not bands["scored"]:
        return v._(
            "Too few students with results to compare: not broken down, so no one can be "
            "singled out."
        )
    share = round(100 * bands["visited_struggling"] / bands["visited_scored"])
    class_share = round(100 * bands["struggling"] / bands["scored"])
    if bands["flagged"]:
        text = v._(
            "Looks targeted: {share}% of the visited students are below benchmark, against "
            "{class_share}% of the class. Visit all families, or a random cross-section."
        )
    else:
        text = v._(
            "{share}% of the visited students are below benchmark, against {class_share}% "
            "of the class: within what a random choice gives."
        )
    return text.format(share=share, class_share=class_share)
