"""The read models notify keeps from the data service's events.

Contacts are restricted: they are kept here and nowhere else (never logged, never in an
event). A change to the roster reaches guardians that open notices could not reach before;
a contact or a school that arrives wakes the messages that were waiting for it.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aptt_contracts.data import (
    ClassroomRemoved,
    ClassroomUpserted,
    GuardianContactUpdated,
    SchoolUpserted,
    SkillDefined,
    StudentRemoved,
    StudentUpserted,
)
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork, utcnow

from aptt_notify import store
from aptt_notify.domain.model import REMINDER_TEMPLATES, MessageStatus
from aptt_notify.domain.timing import ReminderOffset, reminder_time
from aptt_notify.service.notices import expand_open_notices
from aptt_notify.service.policy import Policy


async def wake_waiting(uow: UnitOfWork, query: dict[str, object]) -> None:
    """Look again now at messages that wait for this (or are about to find it missing).

    Messages not looked at yet are woken too: a dispatch running right now may be deciding
    to wait; writing to its message makes one of the two transactions run again with the
    other's result, instead of the message waiting for the next recheck."""
    await store.set_messages(
        uow,
        {
            **query,
            "status": MessageStatus.PENDING.value,
            "wait_reason": {"$in": ["contact", "school", None]},
        },
        {"next_check_at": utcnow()},
    )


async def on_school_upserted(uow: UnitOfWork, event: ReceivedEvent, *, policy: Policy) -> None:
    data = event.data
    assert isinstance(data, SchoolUpserted)
    district_id = event.district_id
    before = await store.get(uow, store.SCHOOLS, store.doc_id(district_id, data.school_id))
    await store.upsert(
        uow,
        store.SCHOOLS,
        store.doc_id(district_id, data.school_id),
        {
            "district_id": district_id,
            "school_id": data.school_id,
            "timezone": data.timezone,
            "language": data.language,
        },
    )
    await wake_waiting(uow, {"district_id": district_id, "school_id": data.school_id})
    if (before or {}).get("timezone") != data.timezone:
        await retime_reminders(uow, district_id, data.school_id, policy.zone(data.timezone))


async def retime_reminders(
    uow: UnitOfWork, district_id: str, school_id: str, zone: ZoneInfo
) -> None:
    """Reminders planned before the school's zone was known (or after it changed) keep the
    meeting's local time in the zone that is right now."""
    now = utcnow()
    for notice in await store.notices(
        uow,
        {
            "district_id": district_id,
            "school_id": school_id,
            "status": "scheduled",
            "template": {"$in": [str(t) for t in REMINDER_TEMPLATES.values()]},
        },
    ):
        meeting = await store.get(
            uow, store.MEETINGS, store.doc_id(district_id, notice["meeting_id"])
        )
        if meeting is None or meeting.get("cancelled") or "starts_at" not in meeting:
            continue
        offset = ReminderOffset(notice["template"].rsplit("-", 1)[1])
        due_at = reminder_time(meeting["starts_at"], offset, zone)
        if due_at != notice["due_at"]:
            await store.set_notices(uow, {"_id": notice["_id"]}, {"due_at": max(due_at, now)})


async def on_classroom_upserted(uow: UnitOfWork, event: ReceivedEvent, *, policy: Policy) -> None:
    data = event.data
    assert isinstance(data, ClassroomUpserted)
    district_id = event.district_id
    await store.upsert(
        uow,
        store.CLASSROOMS,
        store.doc_id(district_id, data.classroom_id),
        {
            "district_id": district_id,
            "classroom_id": data.classroom_id,
            "school_id": data.school_id,
            "grade": data.grade,
            "student_ids": sorted(set(data.student_ids)),
        },
    )
    await expand_open_notices(
        uow,
        {"district_id": district_id, "audience.classroom_id": data.classroom_id},
        now=utcnow(),
        policy=policy,
    )


async def on_classroom_removed(uow: UnitOfWork, event: ReceivedEvent, *, policy: Policy) -> None:
    data = event.data
    assert isinstance(data, ClassroomRemoved)
    await store.delete(uow, store.CLASSROOMS, store.doc_id(event.district_id, data.classroom_id))


async def on_student_upserted(uow: UnitOfWork, event: ReceivedEvent, *, policy: Policy) -> None:
    data = event.data
    assert isinstance(data, StudentUpserted)
    district_id = event.district_id
    await store.upsert(
        uow,
        store.STUDENTS,
        store.doc_id(district_id, data.student_id),
        {
            "district_id": district_id,
            "student_id": data.student_id,
            "school_id": data.school_id,
            "grade": data.grade,
            "guardian_ids": sorted(set(data.guardian_ids)),
        },
    )
    await wake_waiting(uow, {"district_id": district_id, "student_id": data.student_id})
    classrooms = await store.classrooms_of_student(uow, district_id, data.student_id)
    await expand_open_notices(
        uow,
        {
            "district_id": district_id,
            "$or": [
                {"audience.student_id": data.student_id},
                {"audience.classroom_id": {"$in": classrooms}},
            ],
        },
        now=utcnow(),
        policy=policy,
    )


async def on_student_removed(uow: UnitOfWork, event: ReceivedEvent, *, policy: Policy) -> None:
    data = event.data
    assert isinstance(data, StudentRemoved)
    await store.delete(uow, store.STUDENTS, store.doc_id(event.district_id, data.student_id))


async def on_contact_updated(uow: UnitOfWork, event: ReceivedEvent, *, policy: Policy) -> None:
    """Keep the guardian's contact points; the preferences they set in the app stay."""
    data = event.data
    assert isinstance(data, GuardianContactUpdated)
    district_id = event.district_id
    await store.upsert(
        uow,
        store.GUARDIANS,
        store.doc_id(district_id, data.guardian_id),
        {
            "district_id": district_id,
            "guardian_id": data.guardian_id,
            "contact": {
                "given_name": data.given_name,
                "family_name": data.family_name,
                "language": data.preferred_language,
                "email": data.email or None,
                "phone": data.phone or None,
                "student_ids": sorted(set(data.student_ids)),
                "school_ids": sorted(set(data.school_ids)),
            },
        },
    )
    if data.phone:
        # Replies to STOP or HELP from this number are worded in this guardian's language.
        await store.set_sms_number(
            uow, data.phone, {"language": data.preferred_language, "district_id": district_id}
        )
    await wake_waiting(uow, {"district_id": district_id, "recipient_id": data.guardian_id})


async def on_skill_defined(uow: UnitOfWork, event: ReceivedEvent, *, policy: Policy) -> None:
    data = event.data
    assert isinstance(data, SkillDefined)
    district_id = event.district_id
    await store.upsert(
        uow,
        store.SKILLS,
        store.doc_id(district_id, data.skill_code),
        {
            "district_id": district_id,
            "skill_code": data.skill_code,
            "names": data.name,
            "units": data.unit,
        },
    )
