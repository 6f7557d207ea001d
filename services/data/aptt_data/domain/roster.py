"""The roster as the platform sees it, derived from the accepted OneRoster records.

Schools, classrooms, students, guardians and teachers are computed from accepted records, so
the same records always give the same roster (a re-import changes nothing) and each change can
be counted and published once. An import derives a district in batches: for each batch of
entities it reads the records they depend on (`derive` over that window gives the same
entities as over the whole roster).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

Relationship = Literal["parent", "guardian", "relative"]
Kind = Literal["schools", "classrooms", "students", "guardians", "teachers"]
KINDS: tuple[Kind, ...] = ("schools", "classrooms", "students", "guardians", "teachers")
ID_FIELDS: dict[Kind, str] = {
    "schools": "school_id",
    "classrooms": "classroom_id",
    "students": "student_id",
    "guardians": "guardian_id",
    "teachers": "teacher_id",
}

Fields = dict[str, Any]
Records = Mapping[str, Mapping[str, Fields]]  # file -> sourcedId -> fields


@dataclass(frozen=True)
class School:
    school_id: str
    name: str


@dataclass(frozen=True)
class Classroom:
    classroom_id: str
    school_id: str
    title: str
    grade: int | None
    teacher_ids: list[str]
    student_ids: list[str]


@dataclass(frozen=True)
class Student:
    student_id: str
    school_id: str
    grade: int | None
    guardian_ids: list[str]
    given_name: str
    family_name: str


@dataclass(frozen=True)
class Guardian:
    guardian_id: str
    given_name: str
    family_name: str
    relationship: Relationship
    email: str | None
    phone: str | None
    preferred_language: str
    student_ids: list[str]
    school_ids: list[str]
    # Student id -> ISO birth date, where users.csv gives one: notify matches incoming
    # kindergarten families with it (docs/decisions/0220). Restricted, like the contact.
    student_birth_dates: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Teacher:
    teacher_id: str
    given_name: str
    family_name: str
    email: str | None
    school_ids: list[str]


@dataclass
class RosterView:
    schools: dict[str, School] = field(default_factory=dict)
    classrooms: dict[str, Classroom] = field(default_factory=dict)
    students: dict[str, Student] = field(default_factory=dict)
    guardians: dict[str, Guardian] = field(default_factory=dict)
    teachers: dict[str, Teacher] = field(default_factory=dict)

    def documents(self, kind: Kind) -> dict[str, Fields]:
        entities: dict[str, Any] = getattr(self, kind)
        return {key: asdict(value) for key, value in entities.items()}


def grade_number(code: str) -> int | None:
    """CEDS grade code to 0 (kindergarten) .. 12; other levels have no benchmark grade."""
    if code == "KG":
        return 0
    if code.isdigit() and 1 <= int(code) <= 12:
        return int(code)
    return None


def _grade(codes: list[str] | None) -> int | None:
    numbers = [g for g in (grade_number(c) for c in codes or ()) if g is not None]
    # A split class (e.g. 02,03) is charted against the lower grade's benchmark.
    return min(numbers) if numbers else None


def _current(record: Fields, today: date) -> bool:
    begins, ends = record.get("beginDate"), record.get("endDate")
    return not (begins and date.fromisoformat(begins) > today) and not (
        ends and date.fromisoformat(ends) < today
    )


def derive(
    records: Records,
    *,
    today: date,
    school_languages: Mapping[str, str],
    default_language: str,
) -> RosterView:
    """The roster that `records` describe on `today`."""
    orgs = records.get("orgs.csv", {})
    users = records.get("users.csv", {})
    view = RosterView()
    for org_id, org in orgs.items():
        if org["type"] == "school":
            view.schools[org_id] = School(school_id=org_id, name=org["name"])

    roles: dict[str, list[Fields]] = {}
    for role in records.get("roles.csv", {}).values():
        if _current(role, today) and role["userSourcedId"] in users:
            roles.setdefault(role["userSourcedId"], []).append(role)

    def schools_of(user_id: str, role_names: tuple[str, ...]) -> list[str]:
        rows = sorted(
            (r for r in roles.get(user_id, []) if r["role"] in role_names),
            key=lambda r: r["roleType"] != "primary",
        )
        return list(
            dict.fromkeys(r["orgSourcedId"] for r in rows if r["orgSourcedId"] in view.schools)
        )

    student_schools = {
        user_id: schools[0] for user_id in users if (schools := schools_of(user_id, ("student",)))
    }
    guardian_ids = {u for u in users if _guardian_role(roles, u) is not None}
    links: dict[str, set[str]] = {s: set() for s in student_schools}
    for user_id in guardian_ids:
        for agent in users[user_id].get("agentSourcedIds") or ():
            if agent in links:
                links[agent].add(user_id)
    for student_id in links:
        for agent in users[student_id].get("agentSourcedIds") or ():
            if agent in guardian_ids:
                links[student_id].add(agent)

    for student_id, school_id in student_schools.items():
        user = users[student_id]
        given, family = _names(user)
        view.students[student_id] = Student(
            student_id=student_id,
            school_id=school_id,
            grade=_grade(user.get("grades")),
            guardian_ids=sorted(links[student_id]),
            given_name=given,
            family_name=family,
        )

    children: dict[str, list[str]] = {g: [] for g in guardian_ids}
    for student_id, guardians in links.items():
        for guardian_id in guardians:
            children[guardian_id].append(student_id)
    for guardian_id in guardian_ids:
        user = users[guardian_id]
        given, family = _names(user)
        kids = sorted(children[guardian_id])
        schools = sorted({view.students[s].school_id for s in kids})
        language = user.get("metadata.preferredLanguage") or next(
            (school_languages[s] for s in schools if s in school_languages), default_language
        )
        view.guardians[guardian_id] = Guardian(
            guardian_id=guardian_id,
            given_name=given,
            family_name=family,
            relationship=_guardian_role(roles, guardian_id) or "guardian",
            email=user.get("email"),
            phone=user.get("sms") or user.get("phone"),
            preferred_language=language,
            student_ids=kids,
            school_ids=schools,
            student_birth_dates={
                s: born for s in kids if (born := users[s].get("metadata.birthDate")) is not None
            },
        )

    teacher_ids = {u for u in users if any(r["role"] == "teacher" for r in roles.get(u, []))}
    _derive_classrooms(records, view, teacher_ids, today)
    # One pass over the classrooms, not one per teacher (that was quadratic in a district).
    taught_in: dict[str, set[str]] = {}
    for room in view.classrooms.values():
        for teacher_id in room.teacher_ids:
            taught_in.setdefault(teacher_id, set()).add(room.school_id)
    for teacher_id in sorted(teacher_ids):
        user = users[teacher_id]
        given, family = _names(user)
        taught = taught_in.get(teacher_id, set())
        view.teachers[teacher_id] = Teacher(
            teacher_id=teacher_id,
            given_name=given,
            family_name=family,
            email=user.get("email"),
            school_ids=sorted(set(schools_of(teacher_id, ("teacher",))) | taught),
        )
    return view


def _derive_classrooms(
    records: Records, view: RosterView, teacher_ids: set[str], today: date
) -> None:
    courses = records.get("courses.csv", {})
    members: dict[str, tuple[set[str], set[str]]] = {}
    for enrollment in records.get("enrollments.csv", {}).values():
        if not _current(enrollment, today):
            continue
        teachers, students = members.setdefault(enrollment["classSourcedId"], (set(), set()))
        user_id = enrollment["userSourcedId"]
        if enrollment["role"] == "teacher" and user_id in teacher_ids:
            teachers.add(user_id)
        elif enrollment["role"] == "student" and user_id in view.students:
            students.add(user_id)
    for class_id, klass in records.get("classes.csv", {}).items():
        if klass["schoolSourcedId"] not in view.schools:
            continue
        course = courses.get(klass["courseSourcedId"], {})
        teachers, students = members.get(class_id, (set(), set()))
        view.classrooms[class_id] = Classroom(
            classroom_id=class_id,
            school_id=klass["schoolSourcedId"],
            title=klass["title"],
            grade=_grade(klass.get("grades"))
            if klass.get("grades")
            else _grade(course.get("grades")),
            teacher_ids=sorted(teachers),
            student_ids=sorted(students),
        )


def _guardian_role(roles: Mapping[str, list[Fields]], user_id: str) -> Relationship | None:
    names = {r["role"] for r in roles.get(user_id, [])}
    relationships: tuple[Relationship, ...] = ("parent", "guardian", "relative")
    return next((name for name in relationships if name in names), None)


def _names(user: Fields) -> tuple[str, str]:
    return (
        user.get("preferredGivenName") or user["givenName"],
        user.get("preferredFamilyName") or user["familyName"],
    )
