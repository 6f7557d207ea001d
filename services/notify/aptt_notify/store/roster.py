"""Read models of other services' aggregates: schools, classrooms, students, skills, and the
guardians (their contacts from the restricted topic, with the preferences they set here).

All go through `aptt_platform.readmodel.ReadModel`: an event older than what is kept is not
applied, and a removal is a tombstone every read hides, so a late retried upsert cannot
bring a removed classroom or student back. Meetings keep their own version (`version_at`)
because a cancellation is final whatever comes after it (store/meetings.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from aptt_platform.mongo import Document, UnitOfWork
from aptt_platform.readmodel import ReadModel
from pymongo import IndexModel

from aptt_notify.store.collections import (
    CLASSROOMS,
    GUARDIANS,
    SCHOOLS,
    SKILLS,
    STUDENTS,
    by_district,
)

# A student is in a handful of classrooms (homeroom and subjects); the bound is generous.
MAX_CLASSROOMS_OF_STUDENT = 50

schools = ReadModel(SCHOOLS, "school_id")
classrooms = ReadModel(CLASSROOMS, "classroom_id")
students = ReadModel(STUDENTS, "student_id")
skills = ReadModel(SKILLS, "skill_code")
# The contact is the read model's part (versioned by its event); `preferences` are the
# guardian's own choices in this service and are written beside it.
guardians = ReadModel(GUARDIANS, "guardian_id")

INDEXES: dict[str, Sequence[IndexModel]] = {
    SCHOOLS: [schools.index()],
    CLASSROOMS: [
        classrooms.index(),
        by_district("student_ids", name="by_student"),
        by_district("teacher_ids", name="by_teacher"),
    ],
    STUDENTS: [
        students.index(),
        by_district("guardian_ids", name="by_guardian"),
        by_district("school_id", name="by_school"),
    ],
    GUARDIANS: [
        guardians.index(),
        # An incoming kindergarten family finds the roster guardian it may already be; a
        # reply finds its guardians by phone.
        by_district("contact.phone", name="by_phone"),
        by_district("contact.email", name="by_email"),
    ],
    SKILLS: [skills.index()],
}


async def guardians_of_students(
    uow: UnitOfWork, district_id: str, student_ids: Iterable[str]
) -> set[str]:
    wanted = list(student_ids)
    docs = await students.find_live(
        uow,
        district_id,
        {"student_id": {"$in": wanted}},
        projection={"guardian_ids": 1},
        limit=len(wanted),
    )
    return {g for doc in docs for g in doc.get("guardian_ids", [])}


async def classrooms_of_student(uow: UnitOfWork, district_id: str, student_id: str) -> list[str]:
    docs = await classrooms.find_live(
        uow,
        district_id,
        {"student_ids": student_id},
        projection={"classroom_id": 1},
        limit=MAX_CLASSROOMS_OF_STUDENT,
    )
    return [doc["classroom_id"] for doc in docs]


async def classroom_guardians(uow: UnitOfWork, district_id: str, classroom_id: str) -> set[str]:
    """Guardians of the students of a classroom that is not removed."""
    classroom = await classrooms.get(uow, district_id, classroom_id)
    if classroom is None:
        return set()
    return await guardians_of_students(uow, district_id, classroom.get("student_ids", []))


async def await_document(
    uow: UnitOfWork, model: ReadModel, district_id: str, value: str, now: datetime
) -> None:
    """Write to the document a message waits for, existing or not yet. The event that brings
    it writes the same document, so the two transactions cannot both miss each other: one
    of them hits a write conflict and runs again, seeing the other's result. A placeholder
    has no event version, so the first real event applies over it."""
    await uow.collection(model.collection).update_one(
        model.key(district_id, value),
        {"$set": {"awaited_at": now}},
        upsert=True,
        session=uow.session,
    )


async def set_guardian_preferences(
    uow: UnitOfWork, district_id: str, guardian_id: str, fields: Document
) -> None:
    """The guardian's own choices; the contact and its version stay as they are."""
    await uow.collection(GUARDIANS).update_one(
        guardians.key(district_id, guardian_id),
        {"$set": fields},
        upsert=True,
        session=uow.session,
    )
