"""The roster read model (schools, classrooms, students), district skills, and locks."""

from __future__ import annotations

from datetime import datetime

from aptt_platform.mongo import Document, UnitOfWork
from aptt_platform.readmodel import Change, ReadModel

from aptt_scheduling.domain.roster import Classroom, School, Student
from aptt_scheduling.store import CLASSROOMS, LOCKS, SCHOOLS, SKILLS, STUDENTS

# Bounds of roster lists: a school of a large district has a few hundred classrooms.
MAX_CLASSROOMS = 1000

schools = ReadModel(SCHOOLS, "school_id")
classrooms = ReadModel(CLASSROOMS, "classroom_id")
students = ReadModel(STUDENTS, "student_id")


async def lock(uow: UnitOfWork, district_id: str, kind: str, key: str) -> None:
    """Write a lock document, so a concurrent transaction that writes it too must retry.

    Snapshot transactions let two use cases that read the same facts both commit (write
    skew); a write to one shared document turns that into a conflict the driver retries.
    """
    await uow.collection(LOCKS).update_one(
        {"_id": f"{district_id}:{kind}:{key}"},
        {"$inc": {"version": 1}, "$set": {"district_id": district_id}},
        upsert=True,
        session=uow.session,
    )


async def upsert_school(
    uow: UnitOfWork, district_id: str, school: School, version: datetime | None
) -> None:
    await schools.upsert(
        uow,
        district_id,
        school.school_id,
        {"timezone": school.timezone, "language": school.language},
        version=version,
    )


async def upsert_classroom(
    uow: UnitOfWork, district_id: str, classroom: Classroom, version: datetime | None
) -> bool:
    """Record a classroom; True when it was written (not an older event)."""
    applied = await classrooms.upsert(
        uow,
        district_id,
        classroom.classroom_id,
        {
            "school_id": classroom.school_id,
            "grade": classroom.grade,
            "teacher_ids": sorted(classroom.teacher_ids),
            "student_ids": sorted(classroom.student_ids),
        },
        version=version,
    )
    return applied.written


async def remove_classroom(
    uow: UnitOfWork, district_id: str, classroom_id: str, school_id: str, version: datetime | None
) -> None:
    # The tombstone keeps its school: the classroom's meetings stay readable by its admins.
    await classrooms.remove(
        uow, district_id, classroom_id, version=version, keep={"school_id": school_id}
    )


async def upsert_students(
    uow: UnitOfWork, found: list[tuple[str, Student, datetime | None]]
) -> None:
    """Students of a run of events (district, student, event time), in two round trips."""
    await students.apply_many(
        uow,
        [
            Change(
                district_id,
                student.student_id,
                version,
                {"school_id": student.school_id, "guardian_ids": sorted(student.guardian_ids)},
            )
            for district_id, student, version in found
        ],
    )


async def remove_student(
    uow: UnitOfWork, district_id: str, student_id: str, school_id: str, version: datetime | None
) -> None:
    await students.remove(
        uow, district_id, student_id, version=version, keep={"school_id": school_id}
    )


def _school(doc: Document) -> School:
    return School(
        school_id=doc["school_id"], timezone=doc.get("timezone"), language=doc["language"]
    )


def _classroom(doc: Document) -> Classroom:
    return Classroom(
        classroom_id=doc["classroom_id"],
        school_id=doc["school_id"],
        grade=doc.get("grade"),
        teacher_ids=frozenset(doc.get("teacher_ids", ())),
        student_ids=frozenset(doc.get("student_ids", ())),
        removed=bool(doc.get("removed")),
    )


def _student(doc: Document) -> Student:
    return Student(
        student_id=doc["student_id"],
        school_id=doc["school_id"],
        guardian_ids=frozenset(doc.get("guardian_ids", ())),
        removed=bool(doc.get("removed")),
    )


async def get_school(uow: UnitOfWork, district_id: str, school_id: str) -> School | None:
    doc = await schools.get(uow, district_id, school_id)
    return _school(doc) if doc else None


async def get_classroom(uow: UnitOfWork, district_id: str, classroom_id: str) -> Classroom | None:
    """A classroom, also one removed from the roster: its meetings stay readable."""
    doc = await classrooms.get(uow, district_id, classroom_id, removed=True)
    return _classroom(doc) if doc else None


async def classrooms_of_school(
    uow: UnitOfWork, district_id: str, school_id: str
) -> list[Classroom]:
    docs = await classrooms.find_live(
        uow, district_id, {"school_id": school_id}, sort="classroom_id", limit=MAX_CLASSROOMS
    )
    return [_classroom(doc) for doc in docs]


async def school_is_known(uow: UnitOfWork, district_id: str, school_id: str) -> bool:
    """A school is known from its own event or from a classroom that names it."""
    query = {"district_id": district_id, "school_id": school_id}
    return bool(
        await uow.collection(SCHOOLS).find_one(query, session=uow.session)
        or await uow.collection(CLASSROOMS).find_one(query, session=uow.session)
    )


async def current_students(
    uow: UnitOfWork, district_id: str, student_ids: list[str]
) -> list[Student]:
    """The students of these ids the roster holds and has not removed."""
    docs = await students.find_live(
        uow, district_id, {"student_id": {"$in": student_ids}}, limit=len(student_ids)
    )
    return [_student(doc) for doc in docs]


async def add_skill(
    uow: UnitOfWork, district_id: str, skill_code: str, definition: Document | None = None
) -> None:
    """A district skill; its definition (scale, benchmarks) serves home-visit coverage."""
    fields: Document = {"district_id": district_id, "skill_code": skill_code}
    if definition is not None:
        fields["definition"] = definition
    await uow.collection(SKILLS).update_one(
        {"district_id": district_id, "skill_code": skill_code},
        {"$set": fields},
        upsert=True,
        session=uow.session,
    )


async def skill_definition(uow: UnitOfWork, district_id: str, skill_code: str) -> Document | None:
    doc = await uow.collection(SKILLS).find_one(
        {"district_id": district_id, "skill_code": skill_code}, session=uow.session
    )
    return doc.get("definition") if doc else None


async def district_skills(uow: UnitOfWork, district_id: str) -> set[str]:
    cursor = uow.collection(SKILLS).find({"district_id": district_id}, session=uow.session)
    return {doc["skill_code"] async for doc in cursor}


async def children_of(uow: UnitOfWork, district_id: str, guardian_id: str) -> list[Student]:
    docs = await students.find_live(uow, district_id, {"guardian_ids": guardian_id}, limit=50)
    return [_student(doc) for doc in docs]


async def classrooms_of_students(
    uow: UnitOfWork, district_id: str, student_ids: list[str]
) -> list[Classroom]:
    docs = await classrooms.find_live(
        uow, district_id, {"student_ids": {"$in": student_ids}}, limit=200
    )
    return [_classroom(doc) for doc in docs]
