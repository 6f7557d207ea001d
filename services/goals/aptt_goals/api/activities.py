"""Activity library routes: list (anyone of the district), add (teachers and admins)."""

from __future__ import annotations

from typing import Annotated

from aptt_platform.deps import CurrentUser, Staff, Store
from aptt_platform.web import Cursor, Limit
from fastapi import APIRouter, Query, status

from aptt_goals import service
from aptt_goals.api.schemas import ActivityIn, ActivityOut, ActivityPage, problems

router = APIRouter(tags=["activities"])


@router.get(
    "/activities",
    summary="Home activities by skill, grade and language",
    responses=problems(422),
)
async def list_activities(
    who: CurrentUser,
    mongo: Store,
    skill_code: Annotated[str | None, Query(max_length=60)] = None,
    grade: Annotated[int | None, Query(ge=0, le=12)] = None,
    lang: Annotated[str | None, Query(max_length=3, pattern=r"^[a-z]{2,3}$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ActivityPage:
    found, next_cursor = await mongo.run(
        service.list_activities,
        principal=who,
        skill_code=skill_code,
        grade=grade,
        lang=lang,
        after=cursor,
        limit=limit,
    )
    return ActivityPage(items=[ActivityOut.of(a, lang) for a in found], next_cursor=next_cursor)


@router.post(
    "/activities",
    status_code=status.HTTP_201_CREATED,
    summary="Add a home activity for the district's families (teacher, admin)",
    responses=problems(
        403,
        422,
        described={422: "`unknown-skill`, `languages-mismatch`, or `validation`"},
    ),
)
async def add_activity(body: ActivityIn, who: Staff, mongo: Store) -> ActivityOut:
    activity = await mongo.run(
        service.add_activity,
        principal=who,
        request=service.ActivityRequest(
            skill_code=body.skill_code,
            grades=body.grades,
            title=body.title,
            instructions=body.instructions,
            times=body.times,
            per=body.per,
            minutes=body.minutes,
        ),
    )
    return ActivityOut.of(activity)
