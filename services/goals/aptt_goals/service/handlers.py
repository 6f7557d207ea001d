"""Use cases for the events the goals service consumes: read models and progress.

Each takes the payload, typed, and its envelope (`meta`): roster and skill events are kept
as of `meta.time`, so a retried older event cannot undo a newer one, nor bring back a
removed student or classroom.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aptt_contracts.data import (
    AssessmentResultRecorded,
    ClassroomRemoved,
    ClassroomUpserted,
    SchoolUpserted,
    SkillDefined,
    StudentRemoved,
    StudentUpserted,
)
from aptt_contracts.scheduling import AttendanceRecorded
from aptt_platform.events import ReceivedEvent
from aptt_platform.logging import get_logger
from aptt_platform.mongo import UnitOfWork

from aptt_goals import store
from aptt_goals.domain import Classroom, Result, SkillScale, Student

log = get_logger(__name__)


async def record_student(uow: UnitOfWork, event: StudentUpserted, meta: ReceivedEvent) -> None:
    await store.upsert_student(
        uow,
        event.district_id,
        Student(
            student_id=event.student_id,
            school_id=event.school_id,
            grade=event.grade,
            guardian_ids=tuple(event.guardian_ids),
        ),
        version=meta.time,
    )


async def remove_student(uow: UnitOfWork, event: StudentRemoved, meta: ReceivedEvent) -> None:
    """No new goals for a student who left; their goals stay for the family to read."""
    await store.remove_student(
        uow, event.district_id, event.student_id, event.school_id, version=meta.time
    )


async def record_classroom(uow: UnitOfWork, event: ClassroomUpserted, meta: ReceivedEvent) -> None:
    await store.upsert_classroom(
        uow,
        event.district_id,
        Classroom(
            classroom_id=event.classroom_id,
            school_id=event.school_id,
            grade=event.grade,
            teacher_ids=tuple(event.teacher_ids),
            student_ids=tuple(event.student_ids),
        ),
        version=meta.time,
    )


async def remove_classroom(uow: UnitOfWork, event: ClassroomRemoved, meta: ReceivedEvent) -> None:
    await store.remove_classroom(
        uow, event.district_id, event.classroom_id, event.school_id, version=meta.time
    )


async def record_school(uow: UnitOfWork, event: SchoolUpserted, meta: ReceivedEvent) -> None:
    """Keep the school's time zone; one this machine does not know is not kept (the default
    time zone applies) rather than failing every goal of the school later."""
    try:
        ZoneInfo(event.timezone)
        timezone: str | None = event.timezone
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown school time zone", school_id=event.school_id)
        timezone = None
    await store.upsert_school(
        uow, event.district_id, event.school_id, timezone, event.language, version=meta.time
    )


async def record_skill(uow: UnitOfWork, event: SkillDefined, meta: ReceivedEvent) -> None:
    await store.upsert_skill(
        uow, event.district_id, SkillScale.from_defined(event), version=meta.time
    )


async def record_result(
    uow: UnitOfWork, event: AssessmentResultRecorded, meta: ReceivedEvent
) -> None:
    """Keep the result (a later goal's default baseline) and move the running goal's progress.

    A result is a fact, not an aggregate with versions: kept by its id, and the goal itself
    decides whether a late or repeated result counts."""
    result = Result(
        result_id=event.result_id,
        student_id=event.student_id,
        skill_code=event.skill_code,
        score=event.score,
        assessed_on=event.assessed_on,
    )
    await store.upsert_result(uow, event.district_id, result)
    goal = await store.active_goal(uow, event.district_id, event.student_id, event.skill_code)
    if goal is not None and goal.record_result(
        result_id=result.result_id, score=result.score, assessed_on=result.assessed_on
    ):
        await store.save_goal(uow, goal)


async def record_attendance(
    uow: UnitOfWork, event: AttendanceRecorded, meta: ReceivedEvent
) -> None:
    """A guardian present at a team meeting may set goals for that student from then on."""
    await store.record_opening(
        uow,
        event.district_id,
        student_id=event.student_id,
        guardian_id=event.guardian_id,
        meeting_id=event.meeting_id,
        present=event.present,
        focus_skill_code=event.focus_skill_code,
    )
