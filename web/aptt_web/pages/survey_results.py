"""Survey results for staff, per meeting, class and school (district admins: the district),
as notify gives them: a group under the district's minimum reads "too few to show", never 0;
a meeting's family comments come without who wrote them (decisions 0514, 0606)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from aptt_web.pages.common import SignedIn, Visit
from aptt_web.pages.staff import school_rooms, schools_of
from aptt_web.pages.teacher import Id, _staff
from aptt_web.services import ServiceProblem

router = APIRouter()
AUDIENCES = ("family", "teacher")
AT_ONCE = 8
COMMENTS = 100


async def _results(v: Visit, **scope: str) -> dict[str, dict[str, Any]]:
    """Both audiences' results for one scope (none named: the district)."""
    found = await asyncio.gather(
        *(
            v.services.get("notify", v.token, "/v1/surveys/results", audience=a, **scope)
            for a in AUDIENCES
        )
    )
    return dict(zip(AUDIENCES, found, strict=True))


@router.get("/teach/classes/{classroom_id}/surveys", response_class=Response)
async def class_results(v: SignedIn, classroom_id: Id) -> Response:
    _staff(v)
    roster = await v.services.get("data", v.token, f"/v1/classrooms/{classroom_id}/class-list")
    results, meetings = await asyncio.gather(
        _results(v, classroom_id=classroom_id),
        v.services.get("scheduling", v.token, f"/v1/classrooms/{classroom_id}/team-meetings"),
    )
    return v.render(
        "teach/survey_results.html",
        classroom=roster["classroom"],
        results=results,
        meetings=[
            {**m, "when": v.when(m["starts_at"], m["timezone"])}
            for m in meetings["items"]
            if m.get("status") != "cancelled"
        ],
    )


@router.get("/teach/meetings/{meeting_id}/surveys", response_class=Response)
async def meeting_results(v: SignedIn, meeting_id: Id) -> Response:
    """A meeting's results and its families' comments: for the staff of its class only."""
    _staff(v)
    meeting = await v.services.get("scheduling", v.token, f"/v1/team-meetings/{meeting_id}")
    results, comments = await asyncio.gather(
        _results(v, meeting_id=meeting_id),
        v.services.get(
            "notify", v.token, "/v1/surveys/comments", meeting_id=meeting_id, limit=COMMENTS
        ),
    )
    return v.render(
        "teach/meeting_survey.html",
        meeting=meeting,
        when=v.when(meeting["starts_at"], meeting["timezone"]),
        results=results,
        comments=[{**c, "day": v.date(c["at"]) if c.get("at") else ""} for c in comments["items"]],
    )


def _admin(v: Visit) -> None:
    if not v.user.is_admin:
        raise ServiceProblem(403)


@router.get("/school/surveys", response_class=Response)
async def survey_schools(v: SignedIn) -> Response:
    _admin(v)
    district = await _results(v) if v.user.has("district_admin") else None
    return v.render("school/survey_schools.html", schools=await schools_of(v), district=district)


@router.get("/school/surveys/{school_id}", response_class=Response)
async def school_results(v: SignedIn, school_id: Id) -> Response:
    _admin(v)
    name, rooms = await school_rooms(v, school_id)
    school = await _results(v, school_id=school_id)
    limit = asyncio.Semaphore(AT_ONCE)

    async def one(room: dict[str, Any]) -> dict[str, Any]:
        async with limit:
            families = await v.services.get(
                "notify",
                v.token,
                "/v1/surveys/results",
                audience="family",
                classroom_id=room["classroom_id"],
            )
        return {"classroom": room, "results": families, "means": _means(families)}

    classrooms = list(await asyncio.gather(*(one(r) for r in rooms)))
    questions = sorted({q for r in classrooms for q in r["means"]} | _asked(school["family"]))
    return v.render(
        "school/survey_results.html",
        school_id=school_id,
        school_name=name,
        results=school,
        classrooms=classrooms,
        questions=questions,
    )


def _asked(results: dict[str, Any]) -> set[str]:
    return {q["question_id"] for q in results["questions"]}


def _means(results: dict[str, Any]) -> dict[str, float | None]:
    """Each question's mean; None where notify withheld it."""
    return {q["question_id"]: q["mean"] for q in results["questions"]}
