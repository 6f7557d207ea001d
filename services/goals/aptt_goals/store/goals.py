"""Goals and their practice logs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime

from aptt_platform.mongo import Document, UnitOfWork, utcnow
from pymongo import ASCENDING, DESCENDING

from aptt_goals.domain import (
    Goal,
    GoalStatus,
    PlannedActivity,
    PracticeLog,
)
from aptt_goals.store.common import (
    GOALS,
    PRACTICE,
    cursor_filter,
    day,
    parse_day,
    required_day,
)


def goal_doc(goal: Goal) -> Document:
    return {
        "district_id": goal.district_id,
        "goal_id": goal.goal_id,
        "student_id": goal.student_id,
        "school_id": goal.school_id,
        "guardian_id": goal.guardian_id,
        "skill_code": goal.skill_code,
        "higher_is_better": goal.higher_is_better,
        "baseline": goal.baseline,
        "baseline_source": goal.baseline_source,
        "target": goal.target,
        "activities": [asdict(a) for a in goal.activities],
        "starts_on": day(goal.starts_on),
        "ends_on": day(goal.ends_on),
        "closes_at": goal.closes_at,
        "created_at": goal.created_at,
        "status": goal.status,
        "outcome": goal.outcome,
        "closed_on": day(goal.closed_on),
        "closed_reason": goal.closed_reason,
        "latest_score": goal.latest_score,
        "latest_assessed_on": day(goal.latest_assessed_on),
        "latest_result_id": goal.latest_result_id,
        "progress_percent": goal.progress_percent,
        "met_on": day(goal.met_on),
        "practice_sessions": goal.practice_sessions,
        "practice_minutes": goal.practice_minutes,
        "last_practiced_on": day(goal.last_practiced_on),
    }


def goal_from_doc(doc: Document) -> Goal:
    return Goal(
        goal_id=doc["goal_id"],
        district_id=doc["district_id"],
        student_id=doc["student_id"],
        school_id=doc["school_id"],
        guardian_id=doc["guardian_id"],
        skill_code=doc["skill_code"],
        higher_is_better=doc["higher_is_better"],
        baseline=doc["baseline"],
        baseline_source=doc["baseline_source"],
        target=doc["target"],
        activities=tuple(PlannedActivity(**a) for a in doc["activities"]),
        starts_on=required_day(doc["starts_on"]),
        ends_on=required_day(doc["ends_on"]),
        closes_at=doc["closes_at"],
        created_at=doc["created_at"],
        status=doc["status"],
        outcome=doc.get("outcome"),
        closed_on=parse_day(doc.get("closed_on")),
        closed_reason=doc.get("closed_reason"),
        latest_score=doc.get("latest_score"),
        latest_assessed_on=parse_day(doc.get("latest_assessed_on")),
        latest_result_id=doc.get("latest_result_id"),
        progress_percent=doc.get("progress_percent", 0),
        met_on=parse_day(doc.get("met_on")),
        practice_sessions=doc.get("practice_sessions", 0),
        practice_minutes=doc.get("practice_minutes", 0),
        last_practiced_on=parse_day(doc.get("last_practiced_on")),
    )


async def insert_goal(uow: UnitOfWork, goal: Goal) -> None:
    """Raises DuplicateKeyError when the student already has an active goal for the skill.

    The goal's recorded events go to the outbox with the commit (`uow.track`)."""
    await uow.collection(GOALS).insert_one(goal_doc(goal), session=uow.session)
    uow.track(goal)


async def save_goal(uow: UnitOfWork, goal: Goal) -> None:
    await uow.collection(GOALS).update_one(
        {"district_id": goal.district_id, "goal_id": goal.goal_id},
        {"$set": goal_doc(goal)},
        session=uow.session,
    )
    uow.track(goal)


async def get_goal(uow: UnitOfWork, district_id: str, goal_id: str) -> Goal | None:
    doc = await uow.collection(GOALS).find_one(
        {"district_id": district_id, "goal_id": goal_id}, session=uow.session
    )
    return goal_from_doc(doc) if doc is not None else None


async def active_goal(
    uow: UnitOfWork, district_id: str, student_id: str, skill_code: str
) -> Goal | None:
    doc = await uow.collection(GOALS).find_one(
        {
            "district_id": district_id,
            "student_id": student_id,
            "skill_code": skill_code,
            "status": "active",
        },
        session=uow.session,
    )
    return goal_from_doc(doc) if doc is not None else None


async def list_goals(
    uow: UnitOfWork,
    district_id: str,
    student_ids: Sequence[str],
    *,
    status: GoalStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Goal], str | None]:
    """A page of the students' goals, newest first, and the cursor of the next page.

    The students' goals (a few each) are read on (district, student); the status, the
    cursor and the order are applied here, since a status or an `_id` range beside the
    `$in` is a collection scan on the database (docs/platform.md)."""
    query: Document = {"district_id": district_id, "student_id": {"$in": list(student_ids)}}
    before = cursor_filter(cursor).get("_id", {}).get("$lt")
    docs = [
        d
        for d in await uow.collection(GOALS).find(query, session=uow.session).to_list()
        if (status is None or d["status"] == status) and (before is None or d["_id"] < before)
    ]
    docs.sort(key=lambda d: d["_id"], reverse=True)
    more = len(docs) > limit
    docs = docs[:limit]
    return [goal_from_doc(d) for d in docs], (str(docs[-1]["_id"]) if more and docs else None)


async def districts_with_active_goals(uow: UnitOfWork) -> list[str]:
    return [
        str(d)
        for d in await uow.collection(GOALS).distinct(
            "district_id", {"status": "active"}, session=uow.session
        )
    ]


async def due_goal_ids(uow: UnitOfWork, district_id: str, now: datetime, limit: int) -> list[str]:
    docs = uow.collection(GOALS).find(
        {"district_id": district_id, "status": "active", "closes_at": {"$lte": now}},
        {"goal_id": 1},
        session=uow.session,
    )
    return [doc["goal_id"] async for doc in docs.sort("closes_at", ASCENDING).limit(limit)]


async def insert_practice(uow: UnitOfWork, district_id: str, log: PracticeLog) -> None:
    await uow.collection(PRACTICE).insert_one(
        {
            "district_id": district_id,
            **asdict(log),
            "practiced_on": day(log.practiced_on),
            "logged_at": utcnow(),
        },
        session=uow.session,
    )


async def minutes_on(uow: UnitOfWork, district_id: str, goal_id: str, on: date) -> int:
    docs = uow.collection(PRACTICE).find(
        {"district_id": district_id, "goal_id": goal_id, "practiced_on": day(on)},
        {"minutes": 1},
        session=uow.session,
    )
    return sum([int(doc["minutes"]) async for doc in docs])


async def list_practice(
    uow: UnitOfWork, district_id: str, goal_id: str, *, cursor: str | None, limit: int
) -> tuple[list[PracticeLog], str | None]:
    query: Document = {"district_id": district_id, "goal_id": goal_id, **cursor_filter(cursor)}
    found = uow.collection(PRACTICE).find(query, session=uow.session).sort("_id", DESCENDING)
    docs = await found.limit(limit + 1).to_list()
    more = len(docs) > limit
    docs = docs[:limit]
    logs = [
        PracticeLog(
            practice_id=d["practice_id"],
            goal_id=d["goal_id"],
            student_id=d["student_id"],
            practiced_on=required_day(d["practiced_on"]),
            minutes=d["minutes"],
            activity_code=d.get("activity_code"),
            logged_by=d["logged_by"],
        )
        for d in docs
    ]
    return logs, (str(docs[-1]["_id"]) if more and docs else None)
