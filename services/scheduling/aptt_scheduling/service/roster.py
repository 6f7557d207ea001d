"""Handled events: the roster read model, district skills, class reports ready for meetings."""

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

from aptt_scheduling.domain.roster import Classroom, School, Student
from aptt_scheduling.service.calendars import give_classroom_its_windows
from aptt_scheduling.store import CLASSROOMS, STUDENTS, roster
from aptt_scheduling.store import meetings as meeting_store


async def school_upserted(uow: UnitOfWork, event: ReceivedEvent, data: SchoolUpserted) -> None:
    school = School(school_id=data.school_id, timezone=data.timezone, language=data.language)
    await roster.upsert_school(uow, data.district_id, school, event.time)


async def classroom_upserted(
    uow: UnitOfWork, event: ReceivedEvent, data: ClassroomUpserted, *, default_timezone: str
) -> None:
    """Record the classroom, and give it the windows of its school's engagement calendars."""
    classroom = Classroom(
        classroom_id=data.classroom_id,
        school_id=data.school_id,
        grade=data.grade,
        teacher_ids=frozenset(data.teacher_ids),
        student_ids=frozenset(data.student_ids),
    )
    if await roster.upsert_classroom(uow, data.district_id, classroom, event.time):
        await give_classroom_its_windows(
            uow, data.district_id, classroom, now=utcnow(), default_timezone=default_timezone
        )


async def classroom_removed(uow: UnitOfWork, event: ReceivedEvent, data: ClassroomRemoved) -> None:
    await roster.mark_removed(
        uow,
        data.district_id,
        CLASSROOMS,
        "classroom_id",
        data.classroom_id,
        data.school_id,
        event.time,
    )


async def student_upserted(uow: UnitOfWork, event: ReceivedEvent, data: StudentUpserted) -> None:
    student = Student(
        student_id=data.student_id,
        school_id=data.school_id,
        guardian_ids=frozenset(data.guardian_ids),
    )
    await roster.upsert_student(uow, data.district_id, student, event.time)


async def student_removed(uow: UnitOfWork, event: ReceivedEvent, data: StudentRemoved) -> None:
    await roster.mark_removed(
        uow, data.district_id, STUDENTS, "student_id", data.student_id, data.school_id, event.time
    )


async def skill_defined(uow: UnitOfWork, event: ReceivedEvent, data: SkillDefined) -> None:
    await roster.add_skill(uow, data.district_id, data.skill_code)


async def class_report_published(
    uow: UnitOfWork, event: ReceivedEvent, data: ClassReportPublished
) -> None:
    """Lets the teacher see on the meeting that its class report is ready."""
    await meeting_store.save_class_report(
        uow,
        data.district_id,
        {
            "meeting_id": data.meeting_id,
            "report_id": data.report_id,
            "suppressed": data.suppressed,
        },
    )
