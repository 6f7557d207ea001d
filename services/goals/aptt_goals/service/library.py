"""Use cases of the activity library: list built-in and district activities, add one."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aptt_platform.auth import Principal
from aptt_platform.errors import DomainError
from aptt_platform.mongo import UnitOfWork

from aptt_goals import store
from aptt_goals.domain import BUILT_IN_ACTIVITIES, LibraryActivity, Per
from aptt_goals.service.goals import skills_of


@dataclass(frozen=True)
class ActivityRequest:
    skill_code: str
    grades: Sequence[int]
    title: Mapping[str, str]
    instructions: Mapping[str, str]
    times: int | None = None
    per: Per | None = None
    minutes: int | None = None


async def list_activities(
    uow: UnitOfWork,
    *,
    principal: Principal,
    skill_code: str | None,
    grade: int | None,
    lang: str | None,
    after: str | None,
    limit: int,
) -> tuple[list[LibraryActivity], str | None]:
    """Built-in and district activities together, in code order; the next page's cursor."""
    built_in = [
        a
        for a in BUILT_IN_ACTIVITIES
        if a.matches(skill_code=skill_code, grade=grade, lang=lang)
        and (not after or a.code > after)
    ]
    own = await store.list_activities(
        uow,
        principal.district_id,
        skill_code=skill_code,
        grade=grade,
        lang=lang,
        after=after,
        limit=limit + 1,
    )
    merged = sorted([*built_in, *own], key=lambda a: a.code)
    page = merged[:limit]
    return page, (page[-1].code if len(merged) > limit else None)


async def add_activity(
    uow: UnitOfWork, *, principal: Principal, request: ActivityRequest
) -> LibraryActivity:
    """A teacher's (or admin's) activity, for every family of the district to use."""
    if request.skill_code not in await skills_of(uow, principal.district_id):
        raise DomainError(
            f"The skill {request.skill_code} is not one of this district's skills.",
            code="unknown-skill",
        )
    languages = set(request.title) & set(request.instructions)
    if not languages or set(request.title) != set(request.instructions):
        raise DomainError(
            "Give a title and instructions in the same languages (at least one).",
            code="languages-mismatch",
        )
    activity = LibraryActivity(
        code=f"act-{uuid.uuid4().hex[:12]}",
        skill_code=request.skill_code,
        grades=tuple(sorted(set(request.grades))),
        title=dict(request.title),
        instructions=dict(request.instructions),
        times=request.times,
        per=request.per,
        minutes=request.minutes,
        source="district",
        created_by=principal.subject,
    )
    await store.insert_activity(uow, principal.district_id, activity)
    return activity
