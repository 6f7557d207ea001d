"""A school's recorded family events, and the team meetings and attendance the
consolidation view reads beside them.

Event dates are school-local dates stored as ISO strings, like meeting windows' dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from aptt_platform.mongo import Document, UnitOfWork
from pymongo import ASCENDING, IndexModel

from aptt_scheduling.domain.family_events import FamilyEvent
from aptt_scheduling.domain.meetings import TeamMeeting
from aptt_scheduling.store import ATTENDANCE, MEETINGS
from aptt_scheduling.store.meetings import _meeting

FAMILY_EVENTS = "family_events"
# Attendance is read for a bounded list of meetings at a time.
MEETING_CHUNK = 200
# A school records a few dozen events a year; the view reads at most this many.
MAX_EVENTS_PER_YEAR = 1000
MAX_MEETINGS_PER_YEAR = 5000


def _index(name: str, *fields: str, unique: bool = False) -> IndexModel:
    keys = [(f, ASCENDING) for f in ("district_id", *fields)]
    return IndexModel(keys, name=name, unique=unique)


FAMILY_EVENT_INDEXES: dict[str, Sequence[IndexModel]] = {
    FAMILY_EVENTS: [
        _index("one_per_family_event", "family_event_id", unique=True),
        _index("by_school_day", "school_id", "on"),
    ],
}
# The consolidation view finds a school's meetings of a year without a scan.
MEETING_INDEXES: list[IndexModel] = [_index("by_school_start", "school_id", "starts_at")]


def _doc(event: FamilyEvent) -> Document:
    return {**event.__dict__, "on": event.on.isoformat()}


def _event(doc: Document) -> FamilyEvent:
    kept = {k: v for k, v in doc.items() if k in FamilyEvent.__dataclass_fields__}
    kept["on"] = date.fromisoformat(kept["on"])
    return FamilyEvent(**kept)


async def insert_event(uow: UnitOfWork, event: FamilyEvent) -> None:
    await uow.collection(FAMILY_EVENTS).insert_one(_doc(event), session=uow.session)


async def get_event(uow: UnitOfWork, district_id: str, family_event_id: str) -> FamilyEvent | None:
    doc = await uow.collection(FAMILY_EVENTS).find_one(
        {"district_id": district_id, "family_event_id": family_event_id}, session=uow.session
    )
    return _event(doc) if doc else None


async def save_attendance(uow: UnitOfWork, event: FamilyEvent) -> None:
    await uow.collection(FAMILY_EVENTS).update_one(
        {"district_id": event.district_id, "family_event_id": event.family_event_id},
        {
            "$set": {
                "families_attending": event.families_attending,
                "by_relationship": event.by_relationship,
                "updated_at": event.updated_at,
            }
        },
        session=uow.session,
    )


async def events_of_school(
    uow: UnitOfWork,
    district_id: str,
    school_id: str,
    first: date,
    last: date,
    *,
    after: tuple[date, str] | None = None,
    limit: int = MAX_EVENTS_PER_YEAR,
) -> list[FamilyEvent]:
    """A school's events from `first` to `last` (inclusive) by date, after the cursor."""
    start = after[0].isoformat() if after else first.isoformat()
    cursor = uow.collection(FAMILY_EVENTS).find(
        {
            "district_id": district_id,
            "school_id": school_id,
            "on": {"$gte": start, "$lte": last.isoformat()},
        },
        session=uow.session,
    )
    ordered = cursor.sort([("on", 1), ("family_event_id", 1)]).limit(MAX_EVENTS_PER_YEAR)
    found = [_event(d) async for d in ordered]
    if after:
        found = [e for e in found if (e.on, e.family_event_id) > after]
    return found[:limit]


async def meetings_of_school(
    uow: UnitOfWork, district_id: str, school_id: str, since: datetime, until: datetime
) -> list[TeamMeeting]:
    """A school's meetings starting in [since, until), cancelled ones included."""
    cursor = uow.collection(MEETINGS).find(
        {
            "district_id": district_id,
            "school_id": school_id,
            "starts_at": {"$gte": since, "$lt": until},
        },
        session=uow.session,
    )
    return [_meeting(d) async for d in cursor.limit(MAX_MEETINGS_PER_YEAR)]


async def families_present(
    uow: UnitOfWork, district_id: str, meeting_ids: list[str]
) -> dict[str, int]:
    """Families (students with at least one guardian present) per meeting."""
    families: dict[str, set[str]] = {}
    for start in range(0, len(meeting_ids), MEETING_CHUNK):
        cursor = uow.collection(ATTENDANCE).find(
            {
                "district_id": district_id,
                "meeting_id": {"$in": meeting_ids[start : start + MEETING_CHUNK]},
            },
            {"meeting_id": 1, "student_id": 1, "present": 1},
            session=uow.session,
        )
        async for doc in cursor:
            if doc["present"]:
                families.setdefault(doc["meeting_id"], set()).add(doc["student_id"])
    return {m: len(s) for m, s in families.items()}
