"""The roster as scheduling knows it (a read model of `aptt.data.roster.v1`), and who may
reach which classroom, student and meeting.

Events of different aggregates arrive in any order (a student before its classroom), so the
read model keeps each aggregate on its own and joins them only when a question is asked.
Events of one aggregate can also arrive late (a retried record after a newer one): the
store keeps the roster through `aptt_platform.readmodel.ReadModel`, which applies an event
only when it is newer than what it holds and keeps removals as tombstones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class School:
    school_id: str
    timezone: str | None = None
    language: str = "en"


@dataclass(frozen=True)
class Classroom:
    classroom_id: str
    school_id: str
    grade: int | None = None
    teacher_ids: frozenset[str] = field(default_factory=frozenset)
    student_ids: frozenset[str] = field(default_factory=frozenset)
    removed: bool = False


@dataclass(frozen=True)
class Student:
    student_id: str
    school_id: str
    guardian_ids: frozenset[str] = field(default_factory=frozenset)
    removed: bool = False


@dataclass(frozen=True)
class ClassList:
    """A classroom with its current students (enrolled and not removed)."""

    classroom: Classroom
    students: tuple[Student, ...]

    @property
    def student_ids(self) -> frozenset[str]:
        return frozenset(s.student_id for s in self.students)

    def student(self, student_id: str) -> Student | None:
        return next((s for s in self.students if s.student_id == student_id), None)

    def students_of_guardian(self, guardian_id: str) -> frozenset[str]:
        return frozenset(s.student_id for s in self.students if guardian_id in s.guardian_ids)


def class_list(classroom: Classroom, students: list[Student]) -> ClassList:
    """Join a classroom with the students the read model knows; unknown ids are left out."""
    current = tuple(
        sorted(
            (s for s in students if s.student_id in classroom.student_ids and not s.removed),
            key=lambda s: s.student_id,
        )
    )
    return ClassList(classroom=classroom, students=current)


class Caller(Protocol):
    """Who is asking (aptt_platform.auth.Principal has this shape)."""

    @property
    def subject(self) -> str: ...
    @property
    def roles(self) -> frozenset[str]: ...
    @property
    def school_ids(self) -> frozenset[str]: ...


def manages_school(caller: Caller, school_id: str) -> bool:
    """District admins manage every school of their district; school admins their own."""
    return "district_admin" in caller.roles or (
        "school_admin" in caller.roles and school_id in caller.school_ids
    )


def manages_classroom(caller: Caller, classroom: Classroom) -> bool:
    """Staff who may schedule, change and take attendance for a classroom's team meetings."""
    if manages_school(caller, classroom.school_id):
        return True
    return "teacher" in caller.roles and caller.subject in classroom.teacher_ids


def guardian_students(caller: Caller, classes: ClassList) -> frozenset[str]:
    """The caller's own children in a class (empty for anyone who is not their guardian)."""
    if "guardian" not in caller.roles:
        return frozenset()
    return classes.students_of_guardian(caller.subject)
