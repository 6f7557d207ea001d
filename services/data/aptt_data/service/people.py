"""Who is who, for the pages: a guardian's children, a teacher's classes, a class list.

Names come from the roster the district imported; contacts never leave the data service
here (notify keeps its own copy for sending). Reach is decided as for every student
record (access.py): a guardian's own children, a classroom's staff.
"""

from __future__ import annotations

from typing import Literal

from aptt_platform.auth import Principal
from aptt_platform.errors import NotFound
from aptt_platform.mongo import Document, UnitOfWork
from pydantic import BaseModel, Field

from aptt_data.service.access import check_classroom_staff
from aptt_data.store import CLASSROOMS, GUARDIANS, STUDENTS, find_in
from aptt_data.store import roster as roster_store

MAX_CLASSROOMS = 500


class TeacherRef(BaseModel):
    teacher_id: str
    given_name: str
    family_name: str


class ClassroomRef(BaseModel):
    classroom_id: str
    title: str
    grade: int | None
    school_id: str
    school_name: str
    timezone: str | None = Field(description="IANA name; null until the school's is set")
    teachers: list[TeacherRef] = Field(
        description="Who teaches the class, by name (no contact): reach per teacher (0606)"
    )


class Child(BaseModel):
    student_id: str
    given_name: str
    family_name: str
    grade: int | None
    school_id: str
    school_name: str
    classrooms: list[ClassroomRef]


class Children(BaseModel):
    items: list[Child]


class Classrooms(BaseModel):
    items: list[ClassroomRef]


class GuardianRef(BaseModel):
    guardian_id: str
    given_name: str
    family_name: str
    relationship: str
    language: str


class ClassStudent(BaseModel):
    student_id: str
    given_name: str
    family_name: str
    guardians: list[GuardianRef]


class ClassList(BaseModel):
    classroom: ClassroomRef
    students: list[ClassStudent]


async def my_children(uow: UnitOfWork, *, principal: Principal) -> Children:
    district = principal.district_id
    students = await roster_store.students_of_guardian(uow, district, principal.subject)
    classrooms = await find_in(
        uow.collection(CLASSROOMS),
        {"district_id": district},
        "student_ids",
        [s["student_id"] for s in students],
        projection={
            "_id": 0,
            "classroom_id": 1,
            "school_id": 1,
            "title": 1,
            "grade": 1,
            "student_ids": 1,
            "teacher_ids": 1,
        },
        session=uow.session,
    )
    names = await roster_store.schools(
        uow, district, {s["school_id"] for s in students} | {c["school_id"] for c in classrooms}
    )
    teachers = await roster_store.teacher_names(uow, district, _teacher_ids(classrooms))
    items = [
        Child(
            student_id=s["student_id"],
            given_name=s["given_name"],
            family_name=s["family_name"],
            grade=s.get("grade"),
            school_id=s["school_id"],
            school_name=names.get(s["school_id"], {}).get("name", s["school_id"]),
            classrooms=[
                _ref(c, names, teachers)
                for c in classrooms
                if s["student_id"] in c.get("student_ids", [])
            ],
        )
        for s in sorted(students, key=lambda s: (s["given_name"], s["student_id"]))
    ]
    return Children(items=items)


async def my_classrooms(uow: UnitOfWork, *, principal: Principal) -> Classrooms:
    """A teacher's classes; a school admin's schools' classes; a district admin's all."""
    district = principal.district_id
    field: Literal["teacher_ids", "school_id"] | None
    values: list[str] | None
    if principal.is_district_admin:
        field, values = None, None
    elif principal.has_any("school_admin"):
        field, values = "school_id", list(principal.school_ids)
    else:
        field, values = "teacher_ids", [principal.subject]
    found = await roster_store.classrooms_where(
        uow, district, field or "classroom_id", values, MAX_CLASSROOMS
    )
    names = await roster_store.schools(uow, district, {c["school_id"] for c in found})
    teachers = await roster_store.teacher_names(uow, district, _teacher_ids(found))
    items = sorted(
        (_ref(c, names, teachers) for c in found), key=lambda c: (c.school_name, c.title)
    )
    return Classrooms(items=items)


async def class_list(uow: UnitOfWork, *, principal: Principal, classroom_id: str) -> ClassList:
    district = principal.district_id
    classroom = await roster_store.get_classroom(uow, district, classroom_id)
    if classroom is None:
        raise NotFound(f"no classroom {classroom_id}")
    await check_classroom_staff(uow, principal, classroom)
    students = await find_in(
        uow.collection(STUDENTS),
        {"district_id": district},
        "student_id",
        classroom.get("student_ids", []),
        projection={
            "_id": 0,
            "student_id": 1,
            "given_name": 1,
            "family_name": 1,
            "guardian_ids": 1,
        },
        session=uow.session,
    )
    guardians = await find_in(
        uow.collection(GUARDIANS),
        {"district_id": district},
        "guardian_id",
        [g for s in students for g in s.get("guardian_ids", [])],
        projection={
            "_id": 0,
            "guardian_id": 1,
            "given_name": 1,
            "family_name": 1,
            "relationship": 1,
            "preferred_language": 1,
        },
        session=uow.session,
    )
    by_id = {g["guardian_id"]: g for g in guardians}
    names = await roster_store.schools(uow, district, [classroom["school_id"]])
    teachers = await roster_store.teacher_names(uow, district, _teacher_ids([classroom]))
    return ClassList(
        classroom=_ref(classroom, names, teachers),
        students=[
            ClassStudent(
                student_id=s["student_id"],
                given_name=s["given_name"],
                family_name=s["family_name"],
                guardians=[
                    GuardianRef(
                        guardian_id=g["guardian_id"],
                        given_name=g["given_name"],
                        family_name=g["family_name"],
                        relationship=g["relationship"],
                        language=g["preferred_language"],
                    )
                    for g in (by_id.get(i) for i in s.get("guardian_ids", []))
                    if g is not None
                ],
            )
            for s in sorted(students, key=lambda s: (s["family_name"], s["given_name"]))
        ],
    )


def _teacher_ids(classrooms: list[Document]) -> set[str]:
    return {t for c in classrooms for t in c.get("teacher_ids", [])}


def _ref(
    classroom: Document, names: dict[str, Document], teachers: dict[str, Document]
) -> ClassroomRef:
    school_id = str(classroom["school_id"])
    school = names.get(school_id, {})
    grade = classroom.get("grade")
    return ClassroomRef(
        classroom_id=str(classroom["classroom_id"]),
        title=str(classroom.get("title") or classroom["classroom_id"]),
        grade=grade if isinstance(grade, int) else None,
        school_id=school_id,
        school_name=school.get("name", school_id),
        timezone=school.get("timezone"),
        teachers=[
            TeacherRef(
                teacher_id=t,
                given_name=teachers[t].get("given_name", ""),
                family_name=teachers[t].get("family_name", t),
            )
            for t in classroom.get("teacher_ids", [])
            if t in teachers
        ],
    )
