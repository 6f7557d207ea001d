"""A family moves its home visit: "I can't make this time" offers one or two times that suit
it, or asks the educators for new ones (decision 0326). The choice of a time stays on the
visit's page in `family.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Path
from fastapi.responses import RedirectResponse, Response

from aptt_web.pages.common import Form, SignedIn, text
from aptt_web.pages.family import guardian_only
from aptt_web.services import ServiceProblem

router = APIRouter(prefix="/family")
Id = Annotated[str, Path(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._:\-]+$")]
FAMILY_TIME_FIELDS = ("time-1", "time-2")


def school_zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, ZoneInfoNotFoundError):
        return ZoneInfo("UTC")


@router.post("/home-visits/{visit_id}/move", response_class=Response)
async def move_visit(v: SignedIn, form: Form, visit_id: Id) -> Response:
    guardian_only(v)
    visit = await v.services.get("scheduling", v.token, f"/v1/home-visits/{visit_id}")
    zone = school_zone(visit.get("timezone"))
    times: list[str] = []
    # "Ask for new times" sends none, whatever was typed in the boxes.
    if text(form, "ask") != "new":
        for name in FAMILY_TIME_FIELDS:
            value = text(form, name)
            try:
                if value:
                    times.append(datetime.fromisoformat(value).replace(tzinfo=zone).isoformat())
            except ValueError:
                return RedirectResponse(f"/family/home-visits/{visit_id}?moved=bad", 303)
        if not times:
            return RedirectResponse(f"/family/home-visits/{visit_id}?moved=bad", 303)
    try:
        await v.services.call(
            "scheduling",
            v.token,
            "POST",
            f"/v1/home-visits/{visit_id}/move",
            json={"times": times},
            language=v.language,
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        return RedirectResponse(f"/family/home-visits/{visit_id}?moved=refused", 303)
    return RedirectResponse(f"/family/home-visits/{visit_id}?moved=1", 303)
