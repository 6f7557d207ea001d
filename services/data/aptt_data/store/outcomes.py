"""What outcome analytics keeps from other services' events, and the queries it reads.

- `outcome_attendance`: one record per meeting, student and guardian (a read model: a newer
  record of the same guardian at the same meeting replaces an older one);
- `outcome_meetings`: each meeting's summary, rewritten from its records when they change;
- `outcome_goals` (read model of goals) and `outcome_practice` (one document per log);
- `aptt_classrooms`: which classrooms a district marked as running APTT;
- `outcome_report_views`: who viewed which outcome report (decision 0231).
Dates are ISO strings, as elsewhere in this service.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from aptt_platform.mongo import Document, UnitOfWork
from aptt_platform.readmodel import ReadModel
from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne

from aptt_data.domain.outcomes import GoalRecord, MeetingAttendance
from aptt_data.store import CLASSROOMS, RESULTS, find_in

ATTENDANCE = ReadModel("outcome_attendance", "record_id")
GOALS = ReadModel("outcome_goals", "goal_id")
FAMILY_EVENTS = ReadModel("outcome_family_events", "family_event_id")
VISITS = ReadModel("outcome_visits", "visit_id")
MEETING_SUMMARIES = "outcome_meetings"
PRACTICE = "outcome_practice"
APTT_CLASSROOMS = "aptt_classrooms"
REPORT_VIEWS = "outcome_report_views"
# A safety bound on the meetings of one report (a large district's year: 40,000 classrooms
# with three or four meetings each).
MAX_MEETINGS = 200_000
MAX_CLASSROOMS = 50_000


def _index(
    name: str, *keys: str, unique: bool = False, descending: str | None = None
) -> IndexModel:
    fields = [(k, DESCENDING if k == descending else ASCENDING) for k in ("district_id", *keys)]
    return IndexModel(fields, name=name, unique=unique)


OUTCOME_INDEXES: dict[str, Sequence[IndexModel]] = {
    ATTENDANCE.collection: [ATTENDANCE.index("record"), _index("by_meeting", "meeting_id")],
    MEETING_SUMMARIES: [
        _index("meeting", "meeting_id", unique=True),
        _index("by_classroom_year", "classroom_id", "school_year"),
        _index("by_school_year", "school_id", "school_year"),
        _index("by_year", "school_year"),
    ],
    GOALS.collection: [GOALS.index("goal"), _index("by_student", "student_id")],
    PRACTICE: [_index("log", "event_id", unique=True), _index("by_student", "student_id")],
    APTT_CLASSROOMS: [_index("classroom", "classroom_id", unique=True)],
    FAMILY_EVENTS.collection: [
        FAMILY_EVENTS.index("family_event"),
        _index("by_school_year", "school_id", "school_year"),
        _index("by_year", "school_year"),
    ],
    VISITS.collection: [VISITS.index("visit"), _index("by_student", "student_id")],
    REPORT_VIEWS: [_index("by_time", "at", descending="at")],
}
# Outcome reports find a school's, or a grade's, classrooms in the roster.
CLASSROOM_INDEXES: list[IndexModel] = [
    _index("by_school", "school_id"),
    _index("by_grade", "grade"),
]


def record_id(meeting_id: str, student_id: str, guardian_id: str) -> str:
    return f"{meeting_id}|{student_id}|{guardian_id}"


async def attendance_of_meetings(
    uow: UnitOfWork, district_id: str, meeting_ids: Iterable[str]
) -> list[Document]:
    found = await find_in(
        uow.collection(ATTENDANCE.collection),
        {"district_id": district_id},
        "meeting_id",
        meeting_ids,
        session=uow.session,
    )
    return [d for d in found if not d.get("removed", False)]


async def save_summaries(uow: UnitOfWork, district_id: str, summaries: list[Document]) -> None:
    if summaries:
        await uow.collection(MEETING_SUMMARIES).bulk_write(
            [
                UpdateOne(
                    {"district_id": district_id, "meeting_id": s["meeting_id"]},
                    {"$set": {"district_id": district_id, **s}},
                    upsert=True,
                )
                for s in summaries
            ],
            ordered=False,
            session=uow.session,
        )


def _summary(doc: Document) -> MeetingAttendance:
    return MeetingAttendance(
        meeting_id=doc["meeting_id"],
        classroom_id=doc["classroom_id"],
        school_id=doc["school_id"],
        starts_on=date.fromisoformat(doc["starts_on"]),
        families_in_class=doc["families_in_class"],
        families_attended=doc["families_attended"],
        guardians=doc["guardians"],
    )


async def summaries(
    uow: UnitOfWork, district_id: str, school_year: str, *, field: str | None, value: str | None
) -> list[MeetingAttendance]:
    """The meeting summaries of a year: of one classroom or school, or the whole district."""
    query: dict[str, Any] = {"district_id": district_id}
    if field is not None:
        query[field] = value
    query["school_year"] = school_year
    cursor = uow.collection(MEETING_SUMMARIES).find(query, session=uow.session)
    return [_summary(d) async for d in cursor.limit(MAX_MEETINGS)]


async def classrooms_where(uow: UnitOfWork, district_id: str, **query: Any) -> list[Document]:
    cursor = uow.collection(CLASSROOMS).find(
        {"district_id": district_id, **query},
        {"classroom_id": 1, "school_id": 1, "grade": 1, "student_ids": 1, "teacher_ids": 1},
        session=uow.session,
    )
    return await cursor.limit(MAX_CLASSROOMS).to_list()


async def goals_of_students(
    uow: UnitOfWork, district_id: str, student_ids: Iterable[str]
) -> list[GoalRecord]:
    found = await find_in(
        uow.collection(GOALS.collection),
        {"district_id": district_id},
        "student_id",
        student_ids,
        session=uow.session,
    )
    return [
        GoalRecord(
            goal_id=d["goal_id"],
            student_id=d["student_id"],
            starts_on=date.fromisoformat(d["starts_on"]) if d.get("starts_on") else None,
            outcome=d.get("outcome"),
        )
        for d in found
        if not d.get("removed", False)
    ]


async def add_practice(uow: UnitOfWork, district_id: str, doc: Document) -> None:
    await uow.collection(PRACTICE).update_one(
        {"district_id": district_id, "event_id": doc["event_id"]},
        {"$setOnInsert": {"district_id": district_id, **doc}},
        upsert=True,
        session=uow.session,
    )


async def practice_of_students(
    uow: UnitOfWork, district_id: str, student_ids: Iterable[str], first: date, last: date
) -> list[tuple[str, date, int]]:
    found = await find_in(
        uow.collection(PRACTICE),
        {"district_id": district_id},
        "student_id",
        student_ids,
        session=uow.session,
    )
    days = [(d["student_id"], date.fromisoformat(d["practiced_on"]), d["minutes"]) for d in found]
    return [(s, day, m) for s, day, m in days if first <= day <= last]


async def results_of_students(
    uow: UnitOfWork, district_id: str, student_ids: Iterable[str], skill_code: str
) -> dict[str, list[tuple[date, float]]]:
    found = await find_in(
        uow.collection(RESULTS),
        {"district_id": district_id},
        "student_id",
        student_ids,
        projection={"student_id": 1, "skill_code": 1, "assessed_on": 1, "score": 1},
        session=uow.session,
    )
    results: dict[str, list[tuple[date, float]]] = {}
    for d in found:
        if d["skill_code"] == skill_code:
            results.setdefault(d["student_id"], []).append(
                (date.fromisoformat(d["assessed_on"]), float(d["score"]))
            )
    return results


async def mark_aptt(
    uow: UnitOfWork, district_id: str, classroom_id: str, runs: bool, by: str, now: datetime
) -> None:
    await uow.collection(APTT_CLASSROOMS).update_one(
        {"district_id": district_id, "classroom_id": classroom_id},
        {"$set": {"runs_aptt": runs, "marked_by": by, "marked_at": now}},
        upsert=True,
        session=uow.session,
    )


async def aptt_classrooms(uow: UnitOfWork, district_id: str) -> set[str]:
    cursor = uow.collection(APTT_CLASSROOMS).find(
        {"district_id": district_id}, {"classroom_id": 1, "runs_aptt": 1}, session=uow.session
    )
    return {d["classroom_id"] async for d in cursor.limit(MAX_CLASSROOMS) if d["runs_aptt"]}


async def record_view(uow: UnitOfWork, doc: Document) -> None:
    await uow.collection(REPORT_VIEWS).insert_one(doc, session=uow.session)


async def report_views(
    uow: UnitOfWork, district_id: str, *, before: datetime | None, limit: int
) -> list[Document]:
    query: dict[str, Any] = {"district_id": district_id}
    if before is not None:
        query["at"] = {"$lt": before}
    cursor = uow.collection(REPORT_VIEWS).find(query, {"_id": 0}, session=uow.session)
    return await cursor.sort("at", DESCENDING).limit(limit).to_list()


async def unlinked_turnouts(
    uow: UnitOfWork, district_id: str, school_year: str, school_id: str | None
) -> list[dict[str, int]]:
    """Guardians by relationship at the unlinked events of a school (or the district) whose
    turnout was counted by relationship."""
    query: dict[str, Any] = {"school_year": school_year}
    if school_id is not None:
        query = {"school_id": school_id, **query}
    found = await FAMILY_EVENTS.find_live(uow, district_id, query, limit=MAX_MEETINGS)
    return [
        d["by_relationship"]
        for d in found
        if not d["learning_linked"] and d.get("by_relationship") is not None
    ]


async def visits_of_students(
    uow: UnitOfWork, district_id: str, student_ids: Iterable[str], school_year: str
) -> dict[str, int]:
    """Completed home visits per student in a school year."""
    found = await find_in(
        uow.collection(VISITS.collection),
        {"district_id": district_id},
        "student_id",
        student_ids,
        session=uow.session,
    )
    counts: dict[str, int] = {}
    for d in found:
        if d.get("school_year") == school_year and not d.get("removed", False):
            counts[d["student_id"]] = counts.get(d["student_id"], 0) + 1
    return counts
