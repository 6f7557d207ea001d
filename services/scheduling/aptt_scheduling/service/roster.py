"""Handled events: the roster read model, district skills, class reports ready for meetings.

Each handler gets the payload and then its envelope (`meta.time` orders the roster's events).
"""

from __future__ import annotations

from aptt_contracts.data import (
    ClassReportPublished,
    ClassroomRemoved,
    ClassroomUpserted,
    SchoolUpserted,
    SkillDefined,
    StudentRemoved,
    StudentUpserted,
)
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork, utcnow

from aptt_scheduling.domain.meetings import ClassReportRef
from aptt_scheduling.domain.roster import Classroom, School, Student
from aptt_scheduling.service.calendars import give_classroom_its_windows
from aptt_scheduling.store import meetings as meeting_store
from aptt_scheduling.store import roster


async def record_school(uow: UnitOfWork, event: SchoolUpserted, meta: ReceivedEvent) -> None:
    school = School(school_id=event.school_id, timezone=event.timezone, language=event.language)
    await roster.upsert_school(uow, event.district_id, school, meta.time)


async def record_classroom(uow: UnitOfWork, event: ClassroomUpserted, meta: ReceivedEvent) -> None:
    """Record the classroom, and give it the windows of its school's engagement calendars."""
    classroom = Classroom(
        classroom_id=event.classroom_id,
        school_id=event.school_id,
        grade=event.grade,
        teacher_ids=frozenset(event.teacher_ids),
        student_ids=frozenset(event.student_ids),
    )
    if await roster.upsert_classroom(uow, event.district_id, classroom, meta.time):
        await give_classroom_its_windows(uow, event.district_id, classroom, now=utcnow())


async def remove_classroom(uow: UnitOfWork, event: ClassroomRemoved, meta: ReceivedEvent) -> None:
    """The classroom's meetings stay (decision 0302); no new one can be scheduled."""
    await roster.remove_classroom(
        uow, event.district_id, event.classroom_id, event.school_id, meta.time
    )


async def record_students(
    uow: UnitOfWork, events: list[tuple[StudentUpserted, ReceivedEvent]]
) -> None:
    """A run of student upserts at once: an import brings them by the thousand."""
    await roster.upsert_students(
        uow,
        [
            (
                event.district_id,
                Student(
                    student_id=event.student_id,
                    school_id=event.school_id,
                    guardian_ids=frozenset(event.guardian_ids),
                ),
                meta.time,
            )
            for event, meta in events
        ],
    )


async def remove_student(uow: UnitOfWork, event: StudentRemoved, meta: ReceivedEvent) -> None:
    """Their family loses access at once; attendance recorded for them still counts."""
    await roster.remove_student(
        uow, event.district_id, event.student_id, event.school_id, meta.time
    )


async def record_skill(uow: UnitOfWork, event: SkillDefined, meta: ReceivedEvent) -> None:
    definition = event.model_dump(mode="json", exclude={"district_id", "skill_code"})
    await roster.add_skill(uow, event.district_id, event.skill_code, definition)


async def record_class_report(
    uow: UnitOfWork, event: ClassReportPublished, meta: ReceivedEvent
) -> None:
    """Lets the teacher see on the meeting that its class report is ready."""
    await meeting_store.save_class_report(
        uow,
        event.district_id,
        event.meeting_id,
        ClassReportRef(report_id=event.report_id, suppressed=event.suppressed),
    )
