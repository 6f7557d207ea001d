"""Which students and classrooms a member of staff may reach in notify's roster read model.

Notes, replies and survey comments are about one child: only the teachers of that child's
classroom (its `teacher_ids`) write and read them. Reach and survey results are counts:
school admins see their schools, district admins their district. A record of another
district is not found; one of this district out of reach is 403 (`out_of_reach`).
"""

from __future__ import annotations

from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import NotFound
from aptt_platform.mongo import Document, UnitOfWork

from aptt_notify import store
from aptt_notify.settings import Config

# A teacher's classrooms: homeroom and subjects, a few dozen at most.
MAX_CLASSROOMS_OF_TEACHER = 200

roster = store.roster


async def student(uow: UnitOfWork, principal: Principal, student_id: str) -> Document:
    found = await roster.students.get(uow, principal.district_id, student_id)
    if found is None or "school_id" not in found:  # unknown, or a waiting placeholder
        raise NotFound("no such student")
    return found


async def taught_classroom(uow: UnitOfWork, principal: Principal, student_id: str) -> Document:
    """The caller's classroom this student is in; out of reach when they teach none of it."""
    await student(uow, principal, student_id)
    found = await teacher_classrooms(uow, principal.district_id, principal.subject, student_id)
    if not found:
        raise out_of_reach(principal, "student")
    return found[0]


async def teacher_classrooms(
    uow: UnitOfWork, district_id: str, teacher_id: str, student_id: str | None = None
) -> list[Document]:
    # The student is matched here: a second field beside the teacher index would make the
    # local database scan the collection (docs/platform.md, Storage).
    found = await roster.classrooms.find_live(
        uow, district_id, {"teacher_ids": teacher_id}, limit=MAX_CLASSROOMS_OF_TEACHER
    )
    return [c for c in found if student_id is None or student_id in c.get("student_ids", [])]


async def classroom(
    uow: UnitOfWork, principal: Principal, classroom_id: str, *, teachers_only: bool = False
) -> Document:
    """A classroom the caller teaches, or (unless `teachers_only`) one of their schools'."""
    found = await roster.classrooms.get(uow, principal.district_id, classroom_id)
    if found is None:
        raise NotFound("no such classroom")
    if principal.subject in found.get("teacher_ids", []):
        return found
    if not teachers_only and admin_of(principal, found.get("school_id", "")):
        return found
    raise out_of_reach(principal, "classroom")


def admin_of(principal: Principal, school_id: str) -> bool:
    admin = principal.has_any("district_admin", "school_admin")
    return admin and principal.may_see_school(school_id)


async def min_group(uow: UnitOfWork, district_id: str) -> int:
    """The district's smallest group staff read figures of (survey results, a teacher's
    reach read by an admin); never below the platform's floor."""
    floor = uow.config_as(Config).survey_min_answers
    own = await store.surveys.settings_of(uow, district_id) or {}
    return max(floor, int(own.get("min_answers") or floor))


def school(principal: Principal, school_id: str) -> None:
    if not admin_of(principal, school_id):
        raise out_of_reach(principal, "school")
