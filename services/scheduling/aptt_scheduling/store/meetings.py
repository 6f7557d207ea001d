"""Team meetings, RSVPs, attendance records and the class reports data published for them."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime, timedelta

from aptt_platform.mongo import Document, UnitOfWork

from aptt_scheduling.domain.attendance import AttendanceRecord, Rsvp
from aptt_scheduling.domain.meetings import MAX_MINUTES, ClassReportRef, TeamMeeting
from aptt_scheduling.store import ATTENDANCE, CLASS_REPORTS, MEETINGS, RSVPS


def _meeting_doc(meeting: TeamMeeting) -> Document:
    doc: Document = {
        f.name: getattr(meeting, f.name) for f in fields(meeting) if f.name != "events"
    }
    doc["agenda"] = list(meeting.agenda)
    doc["previous_starts"] = list(meeting.previous_starts)
    return doc


def _meeting(doc: Document) -> TeamMeeting:
    kept = {k: v for k, v in doc.items() if k in TeamMeeting.__dataclass_fields__}
    kept["agenda"] = tuple(kept.get("agenda", ()))
    kept["previous_starts"] = tuple(kept.get("previous_starts", ()))
    return TeamMeeting(**kept)


async def insert_meeting(uow: UnitOfWork, meeting: TeamMeeting) -> None:
    await uow.collection(MEETINGS).insert_one(_meeting_doc(meeting), session=uow.session)
    uow.track(meeting)


async def save_meeting(uow: UnitOfWork, meeting: TeamMeeting) -> None:
    await uow.collection(MEETINGS).replace_one(
        {"district_id": meeting.district_id, "meeting_id": meeting.meeting_id},
        _meeting_doc(meeting),
        session=uow.session,
    )
    uow.track(meeting)


async def get_meeting(uow: UnitOfWork, district_id: str, meeting_id: str) -> TeamMeeting | None:
    doc = await uow.collection(MEETINGS).find_one(
        {"district_id": district_id, "meeting_id": meeting_id}, session=uow.session
    )
    return _meeting(doc) if doc else None


async def active_meetings_near(
    uow: UnitOfWork, district_id: str, classroom_id: str, starts_at: datetime, minutes: int
) -> list[TeamMeeting]:
    """Active meetings of a classroom that could overlap [starts_at, starts_at + minutes)."""
    cursor = uow.collection(MEETINGS).find(
        {
            "district_id": district_id,
            "classroom_id": classroom_id,
            "starts_at": {
                "$gt": starts_at - timedelta(minutes=MAX_MINUTES),
                "$lt": starts_at + timedelta(minutes=minutes),
            },
        },
        session=uow.session,
    )
    # The status is checked here: beside the (classroom, start) index, SecantusDB would plan
    # it as a scan of every district's meetings (docs/platform.md, Storage).
    return [_meeting(doc) async for doc in cursor if doc["status"] == "scheduled"]


async def meetings_of_classroom(
    uow: UnitOfWork,
    district_id: str,
    classroom_id: str,
    *,
    after: tuple[datetime, str] | None,
    status: str | None,
    limit: int,
) -> list[TeamMeeting]:
    """A page of a classroom's meetings by start time, after the cursor (start, id)."""
    query: Document = {"district_id": district_id, "classroom_id": classroom_id}
    if status is not None:
        query["status"] = status
    if after is not None:
        start, meeting_id = after
        query["$or"] = [
            {"starts_at": {"$gt": start}},
            {"starts_at": start, "meeting_id": {"$gt": meeting_id}},
        ]
    cursor = uow.collection(MEETINGS).find(query, session=uow.session)
    return [
        _meeting(doc)
        async for doc in cursor.sort([("starts_at", 1), ("meeting_id", 1)]).limit(limit)
    ]


async def upcoming_meetings(
    uow: UnitOfWork, district_id: str, classroom_ids: list[str], *, since: datetime, limit: int
) -> list[TeamMeeting]:
    """Meetings of these classrooms that end after `since`, soonest first."""
    cursor = uow.collection(MEETINGS).find(
        {
            "district_id": district_id,
            "classroom_id": {"$in": classroom_ids},
            "starts_at": {"$gt": since - timedelta(minutes=MAX_MINUTES)},
        },
        session=uow.session,
    )
    ordered = cursor.sort([("starts_at", 1), ("meeting_id", 1)]).limit(limit + 20)
    found = [_meeting(doc) async for doc in ordered]
    return [m for m in found if m.ends_at > since][:limit]


async def meetings_in_windows(
    uow: UnitOfWork, district_id: str, window_ids: list[str]
) -> dict[str, list[str]]:
    """Active meeting ids by window."""
    cursor = uow.collection(MEETINGS).find(
        {"district_id": district_id, "window_id": {"$in": window_ids}},
        {"window_id": 1, "meeting_id": 1, "status": 1},
        session=uow.session,
    )
    found: dict[str, list[str]] = {}
    async for doc in cursor:
        if doc["status"] == "scheduled":  # here, not in the query: as active_meetings_near
            found.setdefault(doc["window_id"], []).append(doc["meeting_id"])
    return found


async def meeting_starts_in_windows(
    uow: UnitOfWork, district_id: str, window_ids: list[str]
) -> list[datetime]:
    """When each active meeting of these windows starts."""
    cursor = uow.collection(MEETINGS).find(
        {"district_id": district_id, "window_id": {"$in": window_ids}},
        {"starts_at": 1, "status": 1},
        session=uow.session,
    )
    return [doc["starts_at"] async for doc in cursor if doc["status"] == "scheduled"]


def _key(district_id: str, meeting_id: str, student_id: str, guardian_id: str) -> Document:
    return {
        "district_id": district_id,
        "meeting_id": meeting_id,
        "student_id": student_id,
        "guardian_id": guardian_id,
    }


async def get_rsvp(
    uow: UnitOfWork, district_id: str, meeting_id: str, student_id: str, guardian_id: str
) -> Rsvp | None:
    doc = await uow.collection(RSVPS).find_one(
        _key(district_id, meeting_id, student_id, guardian_id), session=uow.session
    )
    return _rsvp(doc) if doc else None


def _rsvp(doc: Document) -> Rsvp:
    return Rsvp(**{k: doc[k] for k in Rsvp.__dataclass_fields__})


async def save_rsvp(uow: UnitOfWork, district_id: str, rsvp: Rsvp, now: datetime) -> None:
    await uow.collection(RSVPS).update_one(
        _key(district_id, rsvp.meeting_id, rsvp.student_id, rsvp.guardian_id),
        {"$set": {**asdict(rsvp), "updated_at": now}, "$setOnInsert": {"created_at": now}},
        upsert=True,
        session=uow.session,
    )


async def rsvps_of_meeting(
    uow: UnitOfWork, district_id: str, meeting_id: str, student_ids: list[str] | None = None
) -> list[Rsvp]:
    query: Document = {"district_id": district_id, "meeting_id": meeting_id}
    if student_ids is not None:
        query["student_id"] = {"$in": student_ids}
    cursor = uow.collection(RSVPS).find(query, session=uow.session)
    return [_rsvp(doc) async for doc in cursor.sort([("student_id", 1), ("guardian_id", 1)])]


async def attendance_of_meeting(
    uow: UnitOfWork, district_id: str, meeting_id: str
) -> list[AttendanceRecord]:
    cursor = uow.collection(ATTENDANCE).find(
        {"district_id": district_id, "meeting_id": meeting_id}, session=uow.session
    )
    return [
        AttendanceRecord(**{k: doc[k] for k in AttendanceRecord.__dataclass_fields__})
        async for doc in cursor.sort([("student_id", 1), ("guardian_id", 1)])
    ]


async def save_attendance(
    uow: UnitOfWork,
    district_id: str,
    meeting_id: str,
    record: AttendanceRecord,
    *,
    recorded_by: str,
    now: datetime,
) -> None:
    await uow.collection(ATTENDANCE).update_one(
        _key(district_id, meeting_id, record.student_id, record.guardian_id),
        {"$set": {**asdict(record), "recorded_by": recorded_by, "updated_at": now}},
        upsert=True,
        session=uow.session,
    )


async def save_class_report(
    uow: UnitOfWork, district_id: str, meeting_id: str, report: ClassReportRef
) -> None:
    await uow.collection(CLASS_REPORTS).update_one(
        {"district_id": district_id, "meeting_id": meeting_id},
        {"$set": {"district_id": district_id, "meeting_id": meeting_id, **asdict(report)}},
        upsert=True,
        session=uow.session,
    )


async def class_report_of(
    uow: UnitOfWork, district_id: str, meeting_id: str
) -> ClassReportRef | None:
    doc = await uow.collection(CLASS_REPORTS).find_one(
        {"district_id": district_id, "meeting_id": meeting_id}, session=uow.session
    )
    return ClassReportRef(report_id=doc["report_id"], suppressed=doc["suppressed"]) if doc else None
