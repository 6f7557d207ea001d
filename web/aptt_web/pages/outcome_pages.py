"""Goals, reach and growth outcomes for school and district staff, in plain words; every
figure the data service withholds (under the district's minimum) reads as "too few to
show", never as 0 (decisions 0230-0232, 0604)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from aptt_web.pages.common import SignedIn, Visit
from aptt_web.pages.school_years import Year, chosen_year, recent_years
from aptt_web.pages.staff import Id, schools_of
from aptt_web.services import ServiceProblem

router = APIRouter(prefix="/school")
SkillCode = Annotated[
    str | None, Query(alias="skill_code", pattern=r"^[A-Za-z0-9._\-]+$", max_length=40)
]
Grade = Annotated[int | None, Query(ge=0, le=12)]
# A school can hold dozens of classes: a few outcome calls at a time.
AT_ONCE = 8


def _admin(v: Visit, asked: str | None = None) -> str:
    if not v.user.is_admin:
        raise ServiceProblem(403)
    return chosen_year(asked)


async def _classrooms(v: Visit, school_id: str) -> list[dict[str, Any]]:
    found = await v.services.get("data", v.token, "/v1/me/classrooms")
    return [c for c in found["items"] if c["school_id"] == school_id]


async def _per_classroom(
    v: Visit, rooms: list[dict[str, Any]], what: str, year: str
) -> list[dict[str, Any]]:
    limit = asyncio.Semaphore(AT_ONCE)

    async def one(room: dict[str, Any]) -> dict[str, Any]:
        async with limit:
            figures: dict[str, Any] = await v.services.get(
                "data",
                v.token,
                f"/v1/classrooms/{room['classroom_id']}/outcomes/{what}",
                school_year=year,
            )
        return {"classroom": room, "figures": figures}

    return list(await asyncio.gather(*(one(r) for r in rooms)))


async def _school_page(
    v: Visit, what: str, school_id: str, template: str, asked: str | None
) -> Response:
    year = _admin(v, asked)
    # The school's own figures first: the data service refuses another school's (404 here).
    school = await v.services.get(
        "data", v.token, f"/v1/schools/{school_id}/outcomes/{what}", school_year=year
    )
    rooms = await _classrooms(v, school_id)
    return v.render(
        template,
        year=year,
        years=recent_years(),
        school_id=school_id,
        school_name=rooms[0]["school_name"] if rooms else school_id,
        school=school,
        classrooms=await _per_classroom(v, rooms, what, year),
    )


@router.get("/goals", response_class=Response)
async def goals_schools(v: SignedIn, year: Year = None) -> Response:
    chosen = _admin(v, year)
    return v.render(
        "school/outcome_schools.html",
        year=chosen,
        years=recent_years(),
        kind="goals",
        schools=await schools_of(v),
    )


@router.get("/reach", response_class=Response)
async def reach_schools(v: SignedIn, year: Year = None) -> Response:
    chosen = _admin(v, year)
    return v.render(
        "school/outcome_schools.html",
        year=chosen,
        years=recent_years(),
        kind="reach",
        schools=await schools_of(v),
    )


@router.get("/goals/{school_id}", response_class=Response)
async def goals(v: SignedIn, school_id: Id, year: Year = None) -> Response:
    """Families with a goal after each meeting, goals met, practice logged per week."""
    return await _school_page(v, "goals", school_id, "school/goals.html", year)


@router.get("/reach/{school_id}", response_class=Response)
async def reach(v: SignedIn, school_id: Id, year: Year = None) -> Response:
    """Families visited at home in a school year, school and classroom by classroom."""
    return await _school_page(v, "reach", school_id, "school/reach.html", year)


@router.get("/goals/{school_id}/figures.csv", response_class=Response)
async def goals_csv(v: SignedIn, school_id: Id, year: Year = None) -> Response:
    return await _school_csv(v, "goals", school_id, year)


@router.get("/reach/{school_id}/figures.csv", response_class=Response)
async def reach_csv(v: SignedIn, school_id: Id, year: Year = None) -> Response:
    return await _school_csv(v, "reach", school_id, year)


async def _school_csv(
    v: Visit, kind: Literal["goals", "reach"], school_id: str, year: str | None
) -> Response:
    """The data service's CSV, fetched with the reader's token and passed on as a file."""
    chosen = _admin(v, year)
    found = await v.services.call(
        "data",
        v.token,
        "GET",
        f"/v1/schools/{school_id}/outcomes/{kind}.csv",
        params={"school_year": chosen},
    )
    return Response(
        found.content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{kind}-{school_id}-{chosen}.csv"'},
    )


@router.get("/growth", response_class=Response)
async def growth(
    v: SignedIn, skill: SkillCode = None, grade: Grade = None, year: Year = None
) -> Response:
    """APTT classrooms of a grade against the district's other classrooms (decision 0232)."""
    year = _admin(v, year)
    if not v.user.has("district_admin"):
        raise ServiceProblem(403)
    skills, rooms = await asyncio.gather(
        v.services.get("data", v.token, "/v1/skills"),
        v.services.get("data", v.token, "/v1/me/classrooms"),
    )
    names = {s["code"]: _skill_name(s, v.language) for s in skills}
    grades = sorted({r["grade"] for r in rooms["items"] if r["grade"] is not None})
    chosen_skill = skill if skill in names else next(iter(names), "")
    chosen_grade = grade if grade in grades else next(iter(grades), None)
    report = None
    if chosen_skill and chosen_grade is not None:
        report = await v.services.get(
            "data",
            v.token,
            "/v1/district/outcomes/growth",
            school_year=year,
            skill_code=chosen_skill,
            grade=chosen_grade,
        )
    return v.render(
        "school/growth.html",
        year=year,
        years=recent_years(),
        skills=names,
        grades=grades,
        chosen_skill=chosen_skill,
        chosen_grade=chosen_grade,
        report=report,
        verdict=verdict(v._, report) if report else "",
    )


def _skill_name(skill: dict[str, Any], language: str) -> str:
    name: dict[str, str] = skill.get("name") or {}
    return name.get(language) or name.get("en") or str(skill["code"])


def verdict(_: Callable[[str], str], report: dict[str, Any]) -> str:
    """What the method lets a reader say about the difference (decision 0232)."""
    low, high = report["ci_low"], report["ci_high"]
    if report["suppressed"] or report["difference"] is None or low is None or high is None:
        return _(
            "Too few students with two results in one of the groups: no difference is shown, "
            "so no one can be singled out."
        )
    if low <= 0 <= high:
        return _(
            "The range of likely differences includes zero: these results do not show a "
            "difference between APTT classrooms and the others."
        )
    if low > 0:
        return _(
            "Students in APTT classrooms grew more, and the whole range of likely differences "
            "is above zero. APTT classrooms chose to run it: this compares groups and does not "
            "prove that APTT caused the difference."
        )
    return _(
        "Students in APTT classrooms grew less, and the whole range of likely differences is "
        "below zero. APTT classrooms chose to run it: this compares groups and does not prove "
        "that APTT caused the difference."
    )
