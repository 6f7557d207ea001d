"""Goal routes: check and set a SMART goal, read goals, log practice, close early."""

from __future__ import annotations

from typing import Annotated, Literal

from aptt_platform.deps import CurrentUser, Guardian, Staff, Store
from aptt_platform.web import Cursor, Limit
from fastapi import APIRouter, Query, status

from aptt_goals import service
from aptt_goals.api.deps import ClassroomId, ConfigDep, GoalId, Language, StudentId
from aptt_goals.api.schemas import (
    BaselineOut,
    CheckAnswer,
    CheckOut,
    GoalIn,
    GoalOut,
    GoalPage,
    GoalSetOut,
    GoalSettingOut,
    PracticeIn,
    PracticeLogged,
    PracticeOut,
    PracticePage,
    PracticeSummaryOut,
    problems,
)
from aptt_goals.service import metrics

router = APIRouter(tags=["goals"])
StatusFilter = Annotated[Literal["active", "closed"] | None, Query(alias="status")]


def _request(body: GoalIn) -> service.GoalRequest:
    return service.GoalRequest(
        student_id=body.student_id,
        skill_code=body.skill_code,
        baseline=body.baseline,
        target=body.target,
        activities=[a.planned() for a in body.activities],
        starts_on=body.starts_on,
        ends_on=body.ends_on,
    )


def _checks(checks: list[service.RenderedCheck]) -> list[CheckOut]:
    return [CheckOut.model_validate(c, from_attributes=True) for c in checks]


@router.post(
    "/goals",
    status_code=status.HTTP_201_CREATED,
    summary="Set a SMART goal for your child (guardian)",
    responses=problems(
        403,
        404,
        409,
        422,
        described={
            403: "`goal-setting-not-open` before attending, or not a guardian",
            409: "`active-goal-exists` (with `goal_id`)",
            422: "`not-smart`: `checks` say what to change; or `validation`",
        },
    ),
)
async def set_goal(
    body: GoalIn, who: Guardian, mongo: Store, config: ConfigDep, language: Language
) -> GoalSetOut:
    goal, checks = await mongo.run(
        service.set_goal,
        principal=who,
        request=_request(body),
        now=config.now(),
        rules=config.rules,
        language=language,
    )
    metrics.GOALS_SET.inc()
    return GoalSetOut(
        **GoalOut.of(goal).model_dump(),
        checks=_checks(service.render_checks(checks, language)),
    )


@router.post(
    "/goals/check",
    summary="Check a goal draft against the five SMART rules",
    responses=problems(403, 404, 422),
)
async def check_goal(
    body: GoalIn, who: CurrentUser, mongo: Store, config: ConfigDep, language: Language
) -> CheckAnswer:
    checked = await mongo.run(
        service.check_goal,
        principal=who,
        request=_request(body),
        now=config.now(),
        rules=config.rules,
    )
    for check in checked.checks:
        metrics.SMART_CHECKS.labels(check.name, "passed" if check.passed else "failed").inc()
    return CheckAnswer(
        smart=all(c.passed for c in checked.checks),
        checks=_checks(service.render_checks(checked.checks, language)),
        baseline=checked.draft.baseline,
        baseline_source=checked.baseline_source,
        starts_on=checked.draft.starts_on,
        ends_on=checked.draft.ends_on,
    )


@router.get(
    "/goals/{goal_id}",
    summary="A goal with its progress and practice",
    responses=problems(403, 404, 422),
)
async def get_goal(goal_id: GoalId, who: CurrentUser, mongo: Store) -> GoalOut:
    goal = await mongo.run(service.get_goal, principal=who, goal_id=goal_id)
    return GoalOut.of(goal)


@router.post(
    "/goals/{goal_id}/close",
    summary="Close a running goal early (guardian)",
    responses=problems(403, 404, 409, 422),
)
async def close_goal(
    goal_id: GoalId, who: Guardian, mongo: Store, config: ConfigDep, language: Language
) -> GoalOut:
    goal = await mongo.run(
        service.close_goal_early,
        principal=who,
        goal_id=goal_id,
        now=config.now(),
        rules=config.rules,
        language=language,
    )
    metrics.GOALS_CLOSED.labels(goal.outcome or "not_met", "closed_early").inc()
    return GoalOut.of(goal)


@router.post(
    "/goals/{goal_id}/practice",
    status_code=status.HTTP_201_CREATED,
    summary="Log a session of home practice (guardian)",
    responses=problems(403, 404, 422),
)
async def log_practice(
    goal_id: GoalId,
    body: PracticeIn,
    who: Guardian,
    mongo: Store,
    config: ConfigDep,
    language: Language,
) -> PracticeLogged:
    log, goal = await mongo.run(
        service.log_practice,
        principal=who,
        goal_id=goal_id,
        practiced_on=body.practiced_on,
        minutes=body.minutes,
        activity_code=body.activity_code,
        now=config.now(),
        rules=config.rules,
        language=language,
    )
    metrics.PRACTICE_LOGGED.inc()
    return PracticeLogged(
        **PracticeOut.of(log).model_dump(),
        practice=PracticeSummaryOut(
            sessions=goal.practice_sessions,
            minutes=goal.practice_minutes,
            last_practiced_on=goal.last_practiced_on,
        ),
    )


@router.get(
    "/goals/{goal_id}/practice",
    summary="Practice logged for a goal, newest first",
    responses=problems(403, 404, 422),
)
async def list_practice(
    goal_id: GoalId, who: CurrentUser, mongo: Store, limit: Limit = 50, cursor: Cursor = None
) -> PracticePage:
    logs, next_cursor = await mongo.run(
        service.list_practice, principal=who, goal_id=goal_id, cursor=cursor, limit=limit
    )
    return PracticePage(items=[PracticeOut.of(log) for log in logs], next_cursor=next_cursor)


@router.get(
    "/students/{student_id}/goals",
    summary="A student's goals, newest first",
    responses=problems(403, 404, 422),
)
async def list_student_goals(
    student_id: StudentId,
    who: CurrentUser,
    mongo: Store,
    goal_status: StatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> GoalPage:
    found, next_cursor = await mongo.run(
        service.list_student_goals,
        principal=who,
        student_id=student_id,
        status=goal_status,
        cursor=cursor,
        limit=limit,
    )
    return GoalPage(items=[GoalOut.of(g) for g in found], next_cursor=next_cursor)


@router.get(
    "/students/{student_id}/goal-setting",
    summary="Whether you may set a goal now, and the starting scores it would use",
    responses=problems(403, 404, 422),
)
async def goal_setting(
    student_id: StudentId, who: CurrentUser, mongo: Store, config: ConfigDep, language: Language
) -> GoalSettingOut:
    found = await mongo.run(
        service.goal_setting_status,
        principal=who,
        student_id=student_id,
        rules=config.rules,
        language=language,
    )
    return GoalSettingOut(
        student_id=found.student_id,
        open=found.open,
        reason=found.reason,
        max_days=found.max_days,
        suggested_skill_code=found.suggested_skill_code,
        baselines=[
            BaselineOut(skill_code=b.skill_code, score=b.score, assessed_on=b.assessed_on)
            for b in found.baselines
        ],
        active_goal_ids=found.active_goal_ids,
    )


@router.get(
    "/classrooms/{classroom_id}/goals",
    summary="Goals of a classroom's students (staff)",
    responses=problems(403, 404, 422),
)
async def list_classroom_goals(
    classroom_id: ClassroomId,
    who: Staff,
    mongo: Store,
    goal_status: StatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> GoalPage:
    found, next_cursor = await mongo.run(
        service.list_classroom_goals,
        principal=who,
        classroom_id=classroom_id,
        status=goal_status,
        cursor=cursor,
        limit=limit,
    )
    return GoalPage(items=[GoalOut.of(g) for g in found], next_cursor=next_cursor)
