"""Use cases of goals: check a draft, set a goal, read goals, log practice, close early."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from aptt_platform.auth import Principal
from aptt_platform.errors import Conflict, DomainError, Forbidden
from aptt_platform.mongo import UnitOfWork
from pymongo.errors import DuplicateKeyError

from aptt_goals import i18n, store
from aptt_goals.domain import (
    BUILT_IN_BY_CODE,
    BUILT_IN_SCALES,
    BaselineSource,
    CheckContext,
    CheckResult,
    Goal,
    GoalDraft,
    GoalStatus,
    LibraryActivity,
    PlannedActivity,
    Result,
    SkillScale,
    Student,
    closes_at,
    is_smart,
    local_today,
    smart_checks,
    text,
)
from aptt_goals.service.access import (
    disclose,
    guardian_goal,
    guardian_student,
    readable_classroom,
    readable_goal,
    readable_student,
    school_timezone,
    student_grade,
)
from aptt_goals.settings import GoalRules


@dataclass(frozen=True)
class GoalRequest:
    """A goal as a guardian fills it in; what is missing, the checks explain."""

    student_id: str
    skill_code: str
    target: float | None
    activities: Sequence[PlannedActivity]
    ends_on: date | None
    starts_on: date | None = None
    baseline: float | None = None


@dataclass(frozen=True)
class CheckedDraft:
    student: Student
    draft: GoalDraft
    baseline_source: BaselineSource | None
    skill: SkillScale | None
    checks: list[CheckResult]
    timezone: str
    today: date


@dataclass(frozen=True)
class GoalSettingStatus:
    student_id: str
    open: bool
    reason: str | None
    max_days: int
    suggested_skill_code: str | None = None
    # The latest result per skill: the starting score a goal would use.
    baselines: list[Result] = field(default_factory=list)
    active_goal_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedCheck:
    """A SMART check in the reader's language."""

    name: str
    passed: bool
    reason: str
    suggestion: str | None


async def skills_of(uow: UnitOfWork, district_id: str) -> dict[str, SkillScale]:
    """Built-in skills and the district's own; a district's definition wins on a shared code."""
    return {**BUILT_IN_SCALES, **{s.code: s for s in await store.district_skills(uow, district_id)}}


async def library_for(
    uow: UnitOfWork, district_id: str, codes: Sequence[str]
) -> dict[str, LibraryActivity]:
    found = {c: BUILT_IN_BY_CODE[c] for c in codes if c in BUILT_IN_BY_CODE}
    rest = [c for c in codes if c not in found]
    if rest:
        found.update({a.code: a for a in await store.activities_by_code(uow, district_id, rest)})
    return found


def render_checks(checks: Sequence[CheckResult], language: str) -> list[RenderedCheck]:
    return [
        RenderedCheck(
            name=check.name,
            passed=check.passed,
            reason=i18n.render(check.reason, language),
            suggestion=i18n.render(check.suggestion, language) if check.suggestion else None,
        )
        for check in checks
    ]


def _source(given: float | None) -> BaselineSource | None:
    return "given" if given is not None else None


async def check_goal(
    uow: UnitOfWork,
    *,
    principal: Principal,
    request: GoalRequest,
    now: datetime,
    rules: GoalRules,
    student: Student | None = None,
) -> CheckedDraft:
    """Run the five SMART checks on a draft, with the student's grade and latest result."""
    district = principal.district_id
    student = student or await readable_student(uow, principal, request.student_id)
    skills = await skills_of(uow, district)
    skill = skills.get(request.skill_code)
    timezone = await school_timezone(uow, district, student.school_id, rules)
    today = local_today(now, timezone)
    baseline, source = request.baseline, _source(request.baseline)
    if baseline is None:
        latest = await store.latest_result(uow, district, student.student_id, request.skill_code)
        if latest is not None:
            baseline, source = latest.score, "latest_result"
    draft = GoalDraft(
        skill_code=request.skill_code,
        baseline=baseline,
        target=request.target,
        activities=tuple(request.activities),
        starts_on=request.starts_on or today,
        ends_on=request.ends_on,
    )
    codes = [a.activity_code for a in request.activities if a.activity_code]
    context = CheckContext(
        skill=skill,
        grade=await student_grade(uow, district, student),
        today=today,
        known_skills=list(skills.values()),
        library=await library_for(uow, district, codes),
        max_days=rules.max_days,
        stretch=rules.stretch,
    )
    return CheckedDraft(
        student=student,
        draft=draft,
        baseline_source=source,
        skill=skill,
        checks=smart_checks(draft, context),
        timezone=timezone,
        today=today,
    )


async def set_goal(
    uow: UnitOfWork,
    *,
    principal: Principal,
    request: GoalRequest,
    now: datetime,
    rules: GoalRules,
    language: str,
) -> tuple[Goal, list[CheckResult]]:
    """Record a guardian's SMART goal; refuse it, saying why, when it is not SMART."""
    district = principal.district_id
    student = await guardian_student(uow, principal, request.student_id)
    if rules.require_attendance and not await store.goal_setting_open(
        uow, district, student.student_id, principal.subject
    ):
        raise Forbidden(
            i18n.render(
                text("Goal setting opens once you have attended your child's team meeting."),
                language,
            ),
            code="goal-setting-not-open",
        )
    active = await store.active_goal(uow, district, student.student_id, request.skill_code)
    if active is not None:
        raise _active_goal_conflict(active, language)
    checked = await check_goal(
        uow, principal=principal, request=request, now=now, rules=rules, student=student
    )
    draft, skill = checked.draft, checked.skill
    if not is_smart(checked.checks):
        raise DomainError(
            i18n.render(text("This goal needs a few changes before it can be saved."), language),
            code="not-smart",
            checks=[asdict(c) for c in render_checks(checked.checks, language)],
        )
    # The checks passed, so these are set; the asserts tell the type checker so.
    assert skill is not None
    assert draft.baseline is not None
    assert draft.target is not None
    assert draft.ends_on is not None
    assert checked.baseline_source is not None
    goal = Goal(
        goal_id=str(uuid.uuid4()),
        district_id=district,
        student_id=student.student_id,
        school_id=student.school_id,
        guardian_id=principal.subject,
        skill_code=skill.code,
        higher_is_better=skill.higher_is_better,
        baseline=draft.baseline,
        baseline_source=checked.baseline_source,
        target=draft.target,
        activities=tuple(draft.activities),
        starts_on=draft.starts_on,
        ends_on=draft.ends_on,
        closes_at=closes_at(draft.ends_on, checked.timezone),
        created_at=now,
    )
    goal.announce()
    try:
        await store.insert_goal(uow, goal)
    except DuplicateKeyError:
        # Another request set a goal for this student and skill a moment ago.
        raise Conflict(
            i18n.render(text("Your child already has a goal for this skill."), language),
            code="active-goal-exists",
        ) from None
    return goal, checked.checks


def _active_goal_conflict(active: Goal, language: str) -> Conflict:
    return Conflict(
        i18n.render(
            text(
                "Your child already has a goal for this skill until {ends_on}. "
                "Close it before setting a new one.",
                ends_on=active.ends_on,
            ),
            language,
        ),
        code="active-goal-exists",
        goal_id=active.goal_id,
    )


async def goal_setting_status(
    uow: UnitOfWork, *, principal: Principal, student_id: str, rules: GoalRules, language: str
) -> GoalSettingStatus:
    """Whether this guardian may set a goal now, and the starting scores it would use."""
    student = await readable_student(uow, principal, student_id)
    district = principal.district_id
    is_guardian = principal.is_guardian and student.has_guardian(principal.subject)
    opened = not rules.require_attendance or (
        is_guardian and await store.goal_setting_open(uow, district, student_id, principal.subject)
    )
    reason = None
    if not opened:
        reason = i18n.render(
            text("Goal setting opens once you have attended your child's team meeting."), language
        )
    baselines: list[Result] = []
    active_ids: dict[str, str] = {}
    for code in sorted(await skills_of(uow, district)):
        latest = await store.latest_result(uow, district, student_id, code)
        if latest is not None:
            baselines.append(latest)
        active = await store.active_goal(uow, district, student_id, code)
        if active is not None:
            active_ids[code] = active.goal_id
    focus = (
        await store.attended_focus_skill(uow, district, student_id, principal.subject)
        if is_guardian
        else None
    )
    return GoalSettingStatus(
        student_id=student_id,
        open=opened and is_guardian and not student.removed,
        reason=reason,
        max_days=rules.max_days,
        suggested_skill_code=focus,
        baselines=baselines,
        active_goal_ids=active_ids,
    )


async def get_goal(uow: UnitOfWork, *, principal: Principal, goal_id: str) -> Goal:
    goal = await readable_goal(uow, principal, goal_id)
    await disclose(uow, principal, [goal.student_id], "goal")
    return goal


async def list_student_goals(
    uow: UnitOfWork,
    *,
    principal: Principal,
    student_id: str,
    status: GoalStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Goal], str | None]:
    student = await readable_student(uow, principal, student_id)
    await disclose(uow, principal, [student.student_id], "goals")
    return await store.list_goals(
        uow, principal.district_id, [student.student_id], status=status, cursor=cursor, limit=limit
    )


async def list_classroom_goals(
    uow: UnitOfWork,
    *,
    principal: Principal,
    classroom_id: str,
    status: GoalStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Goal], str | None]:
    classroom = await readable_classroom(uow, principal, classroom_id)
    goals, next_cursor = await store.list_goals(
        uow, principal.district_id, classroom.student_ids, status=status, cursor=cursor, limit=limit
    )
    await disclose(uow, principal, sorted({g.student_id for g in goals}), "classroom-goals")
    return goals, next_cursor


async def close_goal_early(
    uow: UnitOfWork,
    *,
    principal: Principal,
    goal_id: str,
    now: datetime,
    rules: GoalRules,
    language: str,
) -> Goal:
    """A guardian ends a running goal, to set a new one for the skill."""
    goal = await guardian_goal(uow, principal, goal_id)
    if not goal.is_active:
        raise Conflict(
            i18n.render(text("This goal is already closed."), language), code="goal-closed"
        )
    timezone = await school_timezone(uow, goal.district_id, goal.school_id, rules)
    goal.close(on=local_today(now, timezone), reason="closed_early")
    await store.save_goal(uow, goal)
    return goal
