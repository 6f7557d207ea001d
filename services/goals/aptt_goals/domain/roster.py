"""What the goals service keeps of the roster and of assessment results (read models)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Student:
    student_id: str
    school_id: str
    grade: int | None
    guardian_ids: tuple[str, ...]
    removed: bool = False

    def has_guardian(self, guardian_id: str) -> bool:
        return guardian_id in self.guardian_ids


@dataclass(frozen=True)
class Classroom:
    classroom_id: str
    school_id: str
    grade: int | None
    teacher_ids: tuple[str, ...]
    student_ids: tuple[str, ...]


@dataclass(frozen=True)
class Result:
    result_id: str
    student_id: str
    skill_code: str
    score: float
    assessed_on: date


@dataclass(frozen=True)
class PracticeLog:
    practice_id: str
    goal_id: str
    student_id: str
    practiced_on: date
    minutes: int
    activity_code: str | None
    logged_by: str
