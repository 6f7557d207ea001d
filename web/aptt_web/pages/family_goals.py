"""Families' goal pages: a child's goals, checking and setting one, a goal and its
practice log. Mobile first; every action is a plain form."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from aptt_web.pages.common import Form, SignedIn, Visit, create_form, text
from aptt_web.pages.family import Id, child_of, guardian_only, today
from aptt_web.services import ServiceProblem

router = APIRouter(prefix="/family")
PRACTICE_MINUTES = (10, 15, 20, 30)


def _draft(form: FormData, student_id: str) -> dict[str, Any]:
    def number(name: str) -> float | None:
        raw = text(form, name).replace(",", ".")
        try:
            return float(raw) if raw else None
        except ValueError:
            return None

    def whole(name: str) -> int | None:
        raw = text(form, name)
        return int(raw) if raw.isdigit() else None

    activity = text(form, "activity_code")
    ends = text(form, "ends_on")
    return {
        "student_id": student_id,
        "ends_on": ends or None,
        "skill_code": text(form, "skill_code"),
        "target": number("target"),
        "activities": [
            {
                "activity_code": activity or None,
                "description": None if activity else (text(form, "description") or None),
                "times": whole("times"),
                "per": "week",
                "minutes": whole("minutes"),
            }
        ],
    }


async def _goal_page(
    v: Visit,
    student_id: str,
    *,
    draft: dict[str, Any] | None = None,
    checks: Any = None,
    status: int = 200,
) -> Response:
    child = await child_of(v, student_id)
    setting, goals = await asyncio.gather(
        v.services.get("goals", v.token, f"/v1/students/{student_id}/goal-setting"),
        v.services.get("goals", v.token, f"/v1/students/{student_id}/goals", limit=10),
    )
    skill = (draft or {}).get("skill_code") or setting.get("suggested_skill_code")
    activities: list[dict[str, Any]] = []
    if skill:
        found = await v.services.get(
            "goals",
            v.token,
            "/v1/activities",
            skill_code=skill,
            grade=child.get("grade"),
            lang=v.language,
            limit=20,
        )
        activities = found["items"]
    return v.render(
        "family/goals.html",
        status=status,
        child=child,
        setting=setting,
        goals=goals["items"],
        skill=skill,
        activities=activities,
        draft=draft or {},
        checks=checks,
        default_end=(today() + timedelta(days=int(setting.get("max_days") or 60))).isoformat(),
        today=today().isoformat(),
    )


@router.get("/children/{student_id}/goals", response_class=Response)
async def goals(v: SignedIn, student_id: Id) -> Response:
    guardian_only(v)
    return await _goal_page(v, student_id)


@router.post("/children/{student_id}/goals/check", response_class=Response)
async def check(v: SignedIn, form: Form, student_id: Id) -> Response:
    """The SMART check of a draft: the whole page, or only its answer for the live check."""
    guardian_only(v)
    draft = _draft(form, student_id)
    try:
        answer = (
            await v.services.call("goals", v.token, "POST", "/v1/goals/check", json=draft)
        ).json()
    except ServiceProblem as problem:
        if problem.status != 422:
            raise
        answer = {"smart": False, "checks": [], "invalid": True}
    if v.request.headers.get("x-fragment") == "smart-check":
        return v.render("family/smart_check.html", checks=answer)
    return await _goal_page(v, student_id, draft=draft, checks=answer)


@router.post("/children/{student_id}/goals", response_class=Response)
@create_form
async def set_goal(v: SignedIn, form: Form, student_id: Id) -> Response:
    guardian_only(v)
    draft = _draft(form, student_id)
    try:
        made = (await v.services.call("goals", v.token, "POST", "/v1/goals", json=draft)).json()
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        checks = {
            "smart": False,
            "checks": problem.problem.get("checks") or [],
            "refused": problem.detail,
        }
        return await _goal_page(v, student_id, draft=draft, checks=checks, status=422)
    return RedirectResponse(f"/family/goals/{made['goal_id']}?new=1", status_code=303)


@router.get("/goals/{goal_id}", response_class=Response)
async def goal(v: SignedIn, goal_id: Id) -> Response:
    guardian_only(v)
    found, practice = await asyncio.gather(
        v.services.get("goals", v.token, f"/v1/goals/{goal_id}"),
        v.services.get("goals", v.token, f"/v1/goals/{goal_id}/practice", limit=7),
    )
    child = await child_of(v, found["student_id"])
    return v.render(
        "family/goal.html",
        goal=found,
        child=child,
        practice=practice["items"],
        minutes=PRACTICE_MINUTES,
        logged=v.request.query_params.get("logged"),
        new=v.request.query_params.get("new") == "1",
    )


@router.post("/goals/{goal_id}/practice", response_class=Response)
async def log_practice(v: SignedIn, form: Form, goal_id: Id) -> Response:
    guardian_only(v)
    minutes = text(form, "minutes")
    await v.services.call(
        "goals",
        v.token,
        "POST",
        f"/v1/goals/{goal_id}/practice",
        json={
            "practiced_on": datetime.now(UTC).date().isoformat(),
            "minutes": int(minutes) if minutes.isdigit() else 0,
        },
    )
    return RedirectResponse(f"/family/goals/{goal_id}?logged={minutes}", status_code=303)
