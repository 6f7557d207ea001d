"""The roster read model (schools, classrooms, students), district skills, and locks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aptt_platform.mongo import Document, UnitOfWork

from aptt_scheduling.domain.roster import Classroom, School, Student, is_newer
from aptt_scheduling.store import CLASSROOMS, LOCKS, SCHOOLS, SKILLS, STUDENTS


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


async def _apply_if_newer(
    uow: UnitOfWork,
    collection: str,
    key: dict[str, str],
    fields: dict[str, Any],
    event_time: datetime | None,
) -> tuple[bool, Document | None]:
    """Write `fields` unless the document already reflects a newer event.

    Returns whether it was written and the document as it was before.
    """
    before = await uow.collection(collection).find_one(key, session=uow.session)
    if before is not None and not is_newer(event_time, before.get("event_time")):
        return False, before
    await uow.collection(collection).update_one(
        key, {"$set": {**fields, "event_time": event_time}}, upsert=True, session=uow.session
    )
    return True, before


async def upsert_school(
    uow: UnitOfWork, district_id: str, school: School, event_time: datetime | None
) -> None:
    await _apply_if_newer(
        uow,
        SCHOOLS,
        {"district_id": district_id, "school_id": school.school_id},
        {"timezone": school.timezone, "language": school.language},
        event_time,
    )


async def upsert_classroom(
    uow: UnitOfWork, district_id: str, classroom: Classroom, event_time: datetime | None
) -> bool:
    """Record a classroom; True when it was written (not an older event)."""
    written, _ = await _apply_if_newer(
        uow,
        CLASSROOMS,
        {"district_id": district_id, "classroom_id": classroom.classroom_id},
        {
            "school_id": classroom.school_id,
            "grade": classroom.grade,
            "teacher_ids": sorted(classroom.teacher_ids),
            "student_ids": sorted(classroom.student_ids),
            "removed": classroom.removed,
        },
        event_time,
    )
    return written


async def upsert_student(
    uow: UnitOfWork, district_id: str, student: Student, event_time: datetime | None
) -> None:
    await _apply_if_newer(
        uow,
        STUDENTS,
        {"district_id": district_id, "student_id": student.student_id},
        {
            "school_id": student.school_id,
            "guardian_ids": sorted(student.guardian_ids),
            "removed": student.removed,
        },
        event_time,
    )


async def mark_removed(
    uow: UnitOfWork,
    district_id: str,
    collection: str,
    id_field: str,
    id_value: str,
    school_id: str,
    event_time: datetime | None,
) -> None:
    """Keep a removed classroom or student as a tombstone, so a late upsert cannot revive it."""
    await _apply_if_newer(
        uow,
        collection,
        {"district_id": district_id, id_field: id_value},
        {"removed": True, "school_id": school_id},
        event_time,
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
    doc = await uow.collection(SCHOOLS).find_one(
        {"district_id": district_id, "school_id": school_id}, session=uow.session
    )
    return _school(doc) if doc else None


async def get_classroom(uow: UnitOfWork, district_id: str, classroom_id: str) -> Classroom | None:
    doc = await uow.collection(CLASSROOMS).find_one(
        {"district_id": district_id, "classroom_id": classroom_id}, session=uow.session
    )
    return _classroom(doc) if doc else None


async def classrooms_of_school(
    uow: UnitOfWork, district_id: str, school_id: str
) -> list[Classroom]:
    cursor = uow.collection(CLASSROOMS).find(
        {"district_id": district_id, "school_id": school_id, "removed": False},
        session=uow.session,
    )
    return [_classroom(doc) async for doc in cursor.sort("classroom_id")]


async def school_is_known(uow: UnitOfWork, district_id: str, school_id: str) -> bool:
    """A school is known from its own event or from a classroom that names it."""
    query = {"district_id": district_id, "school_id": school_id}
    return bool(
        await uow.collection(SCHOOLS).find_one(query, session=uow.session)
        or await uow.collection(CLASSROOMS).find_one(query, session=uow.session)
    )


async def get_student(uow: UnitOfWork, district_id: str, student_id: str) -> Student | None:
    doc = await uow.collection(STUDENTS).find_one(
        {"district_id": district_id, "student_id": student_id}, session=uow.session
    )
    return _student(doc) if doc else None


async def get_students(uow: UnitOfWork, district_id: str, student_ids: list[str]) -> list[Student]:
    cursor = uow.collection(STUDENTS).find(
        {"district_id": district_id, "student_id": {"$in": student_ids}}, session=uow.session
    )
    return [_student(doc) async for doc in cursor]


async def add_skill(uow: UnitOfWork, district_id: str, skill_code: str) -> None:
    await uow.collection(SKILLS).update_one(
        {"district_id": district_id, "skill_code": skill_code},
        {"$set": {"district_id": district_id, "skill_code": skill_code}},
        upsert=True,
        session=uow.session,
    )


async def district_skills(uow: UnitOfWork, district_id: str) -> set[str]:
    cursor = uow.collection(SKILLS).find({"district_id": district_id}, session=uow.session)
    return {doc["skill_code"] async for doc in cursor}


async def children_of(uow: UnitOfWork, district_id: str, guardian_id: str) -> list[Student]:
    cursor = uow.collection(STUDENTS).find(
        {"district_id": district_id, "guardian_ids": guardian_id, "removed": False},
        session=uow.session,
    )
    return [_student(doc) async for doc in cursor.limit(50)]


async def classrooms_of_students(
    uow: UnitOfWork, district_id: str, student_ids: list[str]
) -> list[Classroom]:
    cursor = uow.collection(CLASSROOMS).find(
        {"district_id": district_id, "student_ids": {"$in": student_ids}, "removed": False},
        session=uow.session,
    )
    return [_classroom(doc) async for doc in cursor.limit(200)]
