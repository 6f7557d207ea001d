"""Who may see what (docs/decisions/0204-access.md, 0205-platform-v2-shape.md).

Always within the token's district: a record of another district is simply not found.
A guardian reaches only the students whose guardian list (our roster) names them; staff
reach by role: a district admin the whole district, a school admin the schools in the
token, a teacher the classrooms whose teacher list names them. Beyond that reach the
platform's one answer applies (`out_of_reach`): a guardian is told "not found", so a family
cannot even learn that another child's id exists; staff are told "forbidden".
"""

from __future__ import annotations

from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import NotFound
from aptt_platform.mongo import Document, UnitOfWork

from aptt_data.store import roster as roster_store


async def student_for(uow: UnitOfWork, principal: Principal, student_id: str) -> Document:
    """The student, if the caller may see their data."""
    student = await roster_store.get_student(uow, principal.district_id, student_id)
    if student is None:
        raise NotFound(f"no student {student_id}")
    if principal.is_guardian and principal.subject in student.get("guardian_ids", []):
        return student
    if principal.is_district_admin:
        return student
    if principal.has_any("school_admin") and student["school_id"] in principal.school_ids:
        return student
    if principal.has_any("teacher") and await roster_store.teaches_student(
        uow, principal.district_id, principal.subject, student_id
    ):
        return student
    raise out_of_reach(principal, "student")


async def guardian_of(uow: UnitOfWork, principal: Principal, student_id: str) -> Document:
    """The student, if the caller is one of the student's own guardians (private numbers)."""
    student = await roster_store.get_student(uow, principal.district_id, student_id)
    if student is None:
        raise NotFound(f"no student {student_id}")
    if principal.is_guardian and principal.subject in student.get("guardian_ids", []):
        return student
    raise out_of_reach(principal, "student")


async def check_classroom_staff(uow: UnitOfWork, principal: Principal, report: Document) -> None:
    """Class reports are for the classroom's teachers and its school's or district's admins."""
    if principal.is_district_admin:
        return
    if principal.has_any("school_admin") and report["school_id"] in principal.school_ids:
        return
    if principal.has_any("teacher"):
        classroom = await roster_store.get_classroom(
            uow, principal.district_id, report["classroom_id"]
        )
        if classroom is not None and principal.subject in classroom.get("teacher_ids", []):
            return
    raise out_of_reach(principal, "class report")


async def check_report_reader(uow: UnitOfWork, principal: Principal, report: Document) -> None:
    """The anonymous class report is also for the classroom's families: it is the chart
    every family sees projected at the meeting, and a family reads its private number
    against it at home (docs/decisions/0601)."""
    if principal.is_guardian:
        classroom = await roster_store.get_classroom(
            uow, principal.district_id, report["classroom_id"]
        )
        children = await roster_store.students_of_guardian(
            uow, principal.district_id, principal.subject
        )
        in_class = set((classroom or {}).get("student_ids", []))
        if any(child["student_id"] in in_class for child in children):
            return
        raise out_of_reach(principal, "class report")
    await check_classroom_staff(uow, principal, report)
