"""Who may see or act on which student, goal and classroom.

Everything is looked up within the caller's district, so another district's records are
simply not found (404). A record of the caller's district that the caller may not reach is
the platform's `out_of_reach` answer: 404 for a guardian, who learns nothing of other
families, 403 for staff (docs/decisions/0405-goals-platform-v2.md). A record that does not
exist reads exactly like one a guardian may not reach.
"""

from __future__ import annotations

from collections.abc import Sequence

from aptt_platform.auth import STAFF_ROLES, Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import NotFound
from aptt_platform.mongo import UnitOfWork

from aptt_goals import store
from aptt_goals.domain import Classroom, Goal, Student
from aptt_goals.settings import GoalRules


def _missing(what: str) -> NotFound:
    # The same words as out_of_reach's 404, so a guardian cannot tell the two apart.
    return NotFound(f"no {what}")


async def _staff_may_see(uow: UnitOfWork, principal: Principal, student: Student) -> bool:
    if principal.is_district_admin:
        return True
    if principal.has_any("school_admin") and student.school_id in principal.school_ids:
        return True
    if principal.has_any("teacher"):
        classrooms = await store.classrooms_of_student(
            uow, principal.district_id, student.student_id
        )
        return any(principal.subject in c.teacher_ids for c in classrooms)
    return False


async def _may_read(uow: UnitOfWork, principal: Principal, student: Student) -> bool:
    if principal.is_guardian and student.has_guardian(principal.subject):
        return True
    return await _staff_may_see(uow, principal, student)


async def readable_student(uow: UnitOfWork, principal: Principal, student_id: str) -> Student:
    """The student, if the caller is one of its guardians or staff who may see it; a student
    who left too, since their goals stay readable."""
    student = await store.get_student(uow, principal.district_id, student_id, removed=True)
    if student is None:
        raise _missing("student")
    if not await _may_read(uow, principal, student):
        raise out_of_reach(principal, "student")
    return student


async def guardian_student(uow: UnitOfWork, principal: Principal, student_id: str) -> Student:
    """The student, if the caller is one of its guardians and it is still enrolled."""
    student = await store.get_student(uow, principal.district_id, student_id)
    if student is None:
        raise _missing("student")
    if not (principal.is_guardian and student.has_guardian(principal.subject)):
        raise out_of_reach(principal, "student")
    return student


async def readable_goal(uow: UnitOfWork, principal: Principal, goal_id: str) -> Goal:
    goal = await store.get_goal(uow, principal.district_id, goal_id)
    if goal is None:
        raise _missing("goal")
    student = await store.get_student(uow, principal.district_id, goal.student_id, removed=True)
    if student is None or not await _may_read(uow, principal, student):
        raise out_of_reach(principal, "goal")
    return goal


async def guardian_goal(uow: UnitOfWork, principal: Principal, goal_id: str) -> Goal:
    """A goal the caller may act on: theirs as a guardian of a student still enrolled."""
    goal = await store.get_goal(uow, principal.district_id, goal_id)
    if goal is None:
        raise _missing("goal")
    student = await store.get_student(uow, principal.district_id, goal.student_id)
    if student is None or not (principal.is_guardian and student.has_guardian(principal.subject)):
        raise out_of_reach(principal, "goal")
    return goal


async def readable_classroom(uow: UnitOfWork, principal: Principal, classroom_id: str) -> Classroom:
    classroom = await store.get_classroom(uow, principal.district_id, classroom_id)
    if classroom is None:
        raise _missing("classroom")
    if (
        principal.is_district_admin
        or (principal.has_any("school_admin") and classroom.school_id in principal.school_ids)
        or (principal.has_any("teacher") and principal.subject in classroom.teacher_ids)
    ):
        return classroom
    raise out_of_reach(principal, "classroom")


async def disclose(
    uow: UnitOfWork, principal: Principal, student_ids: Sequence[str], what: str
) -> None:
    """Record staff reads of students' goals; a guardian reading their own child is not one."""
    if not principal.has_any(*STAFF_ROLES):
        return
    await store.record_disclosure(
        uow,
        principal.district_id,
        student_ids=student_ids,
        viewer_id=principal.subject,
        roles=sorted(principal.roles),
        what=what,
    )


async def school_timezone(
    uow: UnitOfWork, district_id: str, school_id: str, rules: GoalRules
) -> str:
    return await store.school_timezone(uow, district_id, school_id) or rules.default_timezone


async def student_grade(uow: UnitOfWork, district_id: str, student: Student) -> int | None:
    if student.grade is not None:
        return student.grade
    for classroom in await store.classrooms_of_student(uow, district_id, student.student_id):
        if classroom.grade is not None:
            return classroom.grade
    return None
