"""Use cases of home practice: a family logs a session; the goal keeps the totals."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from aptt_platform.auth import Principal
from aptt_platform.errors import DomainError
from aptt_platform.mongo import UnitOfWork

from aptt_goals import i18n, store
from aptt_goals.domain import Goal, PracticeLog, local_today
from aptt_goals.service.access import disclose, guardian_goal, readable_goal, school_timezone
from aptt_goals.settings import GoalRules


async def log_practice(
    uow: UnitOfWork,
    *,
    principal: Principal,
    goal_id: str,
    practiced_on: date,
    minutes: int,
    activity_code: str | None,
    now: datetime,
    rules: GoalRules,
    language: str,
) -> tuple[PracticeLog, Goal]:
    """A guardian logs a session of home practice for a running goal."""
    goal = await guardian_goal(uow, principal, goal_id)
    timezone = await school_timezone(uow, goal.district_id, goal.school_id, rules)
    problem = goal.practice_problem(
        practiced_on=practiced_on,
        minutes=minutes,
        activity_code=activity_code,
        today=local_today(now, timezone),
        minutes_already=await store.minutes_on(uow, goal.district_id, goal_id, practiced_on),
    )
    if problem is not None:
        raise DomainError(i18n.render(problem, language), code="practice-not-logged")
    log = PracticeLog(
        practice_id=str(uuid.uuid4()),
        goal_id=goal_id,
        student_id=goal.student_id,
        practiced_on=practiced_on,
        minutes=minutes,
        activity_code=activity_code,
        logged_by=principal.subject,
    )
    await store.insert_practice(uow, goal.district_id, log)
    goal.log_practice(practiced_on=practiced_on, minutes=minutes)
    await store.save_goal(uow, goal)
    return log, goal


async def list_practice(
    uow: UnitOfWork, *, principal: Principal, goal_id: str, cursor: str | None, limit: int
) -> tuple[list[PracticeLog], str | None]:
    goal = await readable_goal(uow, principal, goal_id)
    await disclose(uow, principal, [goal.student_id], "practice")
    return await store.list_practice(
        uow, principal.district_id, goal_id, cursor=cursor, limit=limit
    )
