"""Read models of other services' events: the roster and skills (versioned, with tombstones),
assessment results and goal-setting openings (facts, kept by id).

Roster and skill events can arrive out of order (retries), so they go through the platform's
`ReadModel`: an event older than what is kept is not applied, and a removal stays as a
tombstone that every read here hides unless it asks for it.
"""

from __future__ import annotations

from datetime import datetime

from aptt_platform.mongo import Document, UnitOfWork, utcnow
from aptt_platform.readmodel import Applied, Change, ReadModel
from pymongo import DESCENDING

from aptt_goals.domain import (
    Classroom,
    Result,
    SkillScale,
    Student,
)
from aptt_goals.store.common import (
    CLASSROOMS,
    OPENINGS,
    RESULTS,
    SCHOOLS,
    SKILLS,
    STUDENTS,
    day,
    required_day,
)

STUDENT_MODEL = ReadModel(STUDENTS, "student_id")
CLASSROOM_MODEL = ReadModel(CLASSROOMS, "classroom_id")
SCHOOL_MODEL = ReadModel(SCHOOLS, "school_id")
SKILL_MODEL = ReadModel(SKILLS, "skill_code")


async def upsert_students(
    uow: UnitOfWork, found: list[tuple[str, Student, datetime | None]]
) -> list[Applied]:
    """Students of a run of events (district, student, event time), in two round trips."""
    return await STUDENT_MODEL.apply_many(
        uow,
        [
            Change(
                district_id,
                student.student_id,
                version,
                {
                    "school_id": student.school_id,
                    "grade": student.grade,
                    "guardian_ids": list(student.guardian_ids),
                },
            )
            for district_id, student, version in found
        ],
    )


async def remove_student(
    uow: UnitOfWork, district_id: str, student_id: str, school_id: str, *, version: datetime | None
) -> Applied:
    """A tombstone that keeps the guardian links it had: the family still reads the goals."""
    return await STUDENT_MODEL.remove(
        uow, district_id, student_id, version=version, keep={"school_id": school_id}
    )


async def get_student(
    uow: UnitOfWork, district_id: str, student_id: str, *, removed: bool = False
) -> Student | None:
    """The student; one who left only when asked for (`removed=True`)."""
    doc = await STUDENT_MODEL.get(uow, district_id, student_id, removed=removed)
    if doc is None:
        return None
    return Student(
        student_id=doc["student_id"],
        school_id=doc["school_id"],
        grade=doc.get("grade"),
        guardian_ids=tuple(doc.get("guardian_ids", ())),
        removed=bool(doc.get("removed", False)),
    )


async def upsert_classroom(
    uow: UnitOfWork, district_id: str, classroom: Classroom, *, version: datetime | None
) -> Applied:
    return await CLASSROOM_MODEL.upsert(
        uow,
        district_id,
        classroom.classroom_id,
        {
            "school_id": classroom.school_id,
            "grade": classroom.grade,
            "teacher_ids": list(classroom.teacher_ids),
            "student_ids": list(classroom.student_ids),
        },
        version=version,
    )


async def remove_classroom(
    uow: UnitOfWork,
    district_id: str,
    classroom_id: str,
    school_id: str,
    *,
    version: datetime | None,
) -> Applied:
    return await CLASSROOM_MODEL.remove(
        uow, district_id, classroom_id, version=version, keep={"school_id": school_id}
    )


def _classroom(doc: Document) -> Classroom:
    return Classroom(
        classroom_id=doc["classroom_id"],
        school_id=doc["school_id"],
        grade=doc.get("grade"),
        teacher_ids=tuple(doc.get("teacher_ids", ())),
        student_ids=tuple(doc.get("student_ids", ())),
    )


async def get_classroom(uow: UnitOfWork, district_id: str, classroom_id: str) -> Classroom | None:
    doc = await CLASSROOM_MODEL.get(uow, district_id, classroom_id)
    return _classroom(doc) if doc is not None else None


async def classrooms_of_student(
    uow: UnitOfWork, district_id: str, student_id: str
) -> list[Classroom]:
    docs = await CLASSROOM_MODEL.find_live(uow, district_id, {"student_ids": student_id}, limit=50)
    return [_classroom(doc) for doc in docs]


async def upsert_school(
    uow: UnitOfWork,
    district_id: str,
    school_id: str,
    timezone: str | None,
    language: str,
    *,
    version: datetime | None,
) -> Applied:
    return await SCHOOL_MODEL.upsert(
        uow, district_id, school_id, {"timezone": timezone, "language": language}, version=version
    )


async def school_timezone(uow: UnitOfWork, district_id: str, school_id: str) -> str | None:
    doc = await SCHOOL_MODEL.get(uow, district_id, school_id)
    return str(doc["timezone"]) if doc is not None and doc.get("timezone") else None


def _scale_doc(scale: SkillScale) -> Document:
    return {
        "name": dict(scale.name),
        "unit": dict(scale.unit),
        "scale_min": scale.scale_min,
        "scale_max": scale.scale_max,
        "higher_is_better": scale.higher_is_better,
        # BSON keys are strings.
        "growth_by_grade": {str(g): v for g, v in scale.growth_by_grade.items()},
    }


def _scale(doc: Document) -> SkillScale:
    return SkillScale(
        code=doc["skill_code"],
        name=doc["name"],
        unit=doc["unit"],
        scale_min=doc["scale_min"],
        scale_max=doc["scale_max"],
        higher_is_better=doc["higher_is_better"],
        growth_by_grade={int(g): v for g, v in doc["growth_by_grade"].items()},
    )


async def upsert_skill(
    uow: UnitOfWork, district_id: str, scale: SkillScale, *, version: datetime | None
) -> Applied:
    return await SKILL_MODEL.upsert(
        uow, district_id, scale.code, _scale_doc(scale), version=version
    )


async def district_skills(uow: UnitOfWork, district_id: str) -> list[SkillScale]:
    docs = await SKILL_MODEL.find_live(uow, district_id, limit=500)
    return [_scale(doc) for doc in docs]


async def upsert_result(uow: UnitOfWork, district_id: str, result: Result) -> None:
    """A result is a fact, kept by its id: the same event again writes the same values."""
    await uow.collection(RESULTS).update_one(
        {"district_id": district_id, "result_id": result.result_id},
        {
            "$set": {
                "student_id": result.student_id,
                "skill_code": result.skill_code,
                "score": result.score,
                "assessed_on": day(result.assessed_on),
                "received_at": utcnow(),
            }
        },
        upsert=True,
        session=uow.session,
    )


async def latest_result(
    uow: UnitOfWork, district_id: str, student_id: str, skill_code: str
) -> Result | None:
    """The newest result by assessment date; of two on one day, the one received last."""
    doc = await uow.collection(RESULTS).find_one(
        {"district_id": district_id, "student_id": student_id, "skill_code": skill_code},
        sort=[("assessed_on", DESCENDING), ("received_at", DESCENDING)],
        session=uow.session,
    )
    if doc is None:
        return None
    return Result(
        result_id=doc["result_id"],
        student_id=doc["student_id"],
        skill_code=doc["skill_code"],
        score=doc["score"],
        assessed_on=required_day(doc["assessed_on"]),
    )


async def record_opening(
    uow: UnitOfWork,
    district_id: str,
    *,
    student_id: str,
    guardian_id: str,
    meeting_id: str,
    present: bool,
    focus_skill_code: str | None = None,
) -> None:
    await uow.collection(OPENINGS).update_one(
        {
            "district_id": district_id,
            "student_id": student_id,
            "guardian_id": guardian_id,
            "meeting_id": meeting_id,
        },
        {
            "$set": {
                "present": present,
                "focus_skill_code": focus_skill_code,
                "recorded_at": utcnow(),
            }
        },
        upsert=True,
        session=uow.session,
    )


async def attended_focus_skill(
    uow: UnitOfWork, district_id: str, student_id: str, guardian_id: str
) -> str | None:
    """The focus skill of the last team meeting the guardian attended, when known."""
    attended = [
        doc
        for doc in await _openings(uow, district_id, student_id, guardian_id)
        if doc.get("present") and doc.get("focus_skill_code") is not None
    ]
    if not attended:
        return None
    return str(max(attended, key=lambda doc: doc["recorded_at"])["focus_skill_code"])


async def goal_setting_open(
    uow: UnitOfWork, district_id: str, student_id: str, guardian_id: str
) -> bool:
    openings = await _openings(uow, district_id, student_id, guardian_id)
    return any(doc.get("present") for doc in openings)


async def _openings(
    uow: UnitOfWork, district_id: str, student_id: str, guardian_id: str
) -> list[Document]:
    """The guardian's meetings about the student (one each), on the openings' unique index;
    whether they came is checked by the caller, beside the index it would be a scan."""
    query = {"district_id": district_id, "student_id": student_id, "guardian_id": guardian_id}
    return await uow.collection(OPENINGS).find(query, session=uow.session).to_list()
