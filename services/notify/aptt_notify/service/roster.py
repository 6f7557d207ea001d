"""The read models notify keeps from the data service's events.

Every read model applies an event only when it is newer than what it holds (version: the
event's time), and keeps removals as tombstones, because retries can reorder events: a late
`ClassroomUpserted` must not bring back a classroom that was removed, and an old contact
update must not undo a newer one. Contacts are restricted: they are kept here and nowhere
else (never logged, never in an event). A change to the roster reaches guardians that open
notices could not reach before; a contact or a school that arrives wakes the messages that
were waiting for it.
"""

from __future__ import annotations

from typing import Any
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
from aptt_notify.service import countdown
from aptt_notify.service.notices import expand_open_notices
from aptt_notify.settings import Config

roster = store.roster


async def wake_waiting(uow: UnitOfWork, query: dict[str, object]) -> None:
    """Look again now at messages that wait for this (or are about to find it missing).

    Messages not looked at yet are woken too: a dispatch running right now may be deciding
    to wait; writing to its message makes one of the two transactions run again with the
    other's result, instead of the message waiting for the next recheck. The messages are
    found on an index (`query` and the status) and written by `_id` with their conditions."""
    reasons = ["contact", "school", None]
    ids = await store.messages.pending_message_ids(
        uow, {**query, "status": MessageStatus.PENDING.value}, wait_reasons=reasons
    )
    if ids:
        await store.messages.set_messages(
            uow,
            {
                "_id": {"$in": ids},
                "status": MessageStatus.PENDING.value,
                "wait_reason": {"$in": reasons},
            },
            {"next_check_at": utcnow()},
        )


async def record_school(uow: UnitOfWork, event: SchoolUpserted, meta: ReceivedEvent) -> None:
    district_id = meta.district_id
    applied = await roster.schools.upsert(
        uow,
        district_id,
        event.school_id,
        {"timezone": event.timezone, "language": event.language},
        version=meta.time,
    )
    if not applied.written:
        return
    await wake_waiting(uow, {"district_id": district_id, "school_id": event.school_id})
    if (applied.before or {}).get("timezone") != event.timezone:
        zone = uow.config_as(Config).zone(event.timezone)
        await retime_reminders(uow, district_id, event.school_id, zone)


async def retime_reminders(
    uow: UnitOfWork, district_id: str, school_id: str, zone: ZoneInfo
) -> None:
    """Reminders planned before the school's zone was known (or after it changed) keep the
    meeting's local time in the zone that is right now."""
    now = utcnow()
    reminders = {str(t) for t in REMINDER_TEMPLATES.values()}
    scheduled = await store.notices.notices(
        uow, {"district_id": district_id, "school_id": school_id, "status": "scheduled"}
    )
    # The template is checked here: beside the school's index it would make a scan.
    for notice in (n for n in scheduled if n["template"] in reminders):
        meeting = await store.meetings.get_meeting(uow, district_id, notice["meeting_id"])
        if meeting is None or meeting.get("cancelled") or "starts_at" not in meeting:
            continue
        offset = ReminderOffset(notice["template"].rsplit("-", 1)[1])
        due_at = reminder_time(meeting["starts_at"], offset, zone)
        if due_at != notice["due_at"]:
            await store.notices.set_notices(
                uow, {"_id": notice["_id"]}, {"due_at": max(due_at, now)}
            )


async def record_classroom(uow: UnitOfWork, event: ClassroomUpserted, meta: ReceivedEvent) -> None:
    district_id = meta.district_id
    applied = await roster.classrooms.upsert(
        uow,
        district_id,
        event.classroom_id,
        {
            "school_id": event.school_id,
            "grade": event.grade,
            "student_ids": sorted(set(event.student_ids)),
            # Who may write notes to the class's families and read their replies.
            "teacher_ids": sorted(set(event.teacher_ids)),
        },
        version=meta.time,
    )
    if applied.written:
        await expand_open_notices(
            uow, district_id, [{"audience.classroom_id": event.classroom_id}], now=utcnow()
        )


async def remove_classroom(uow: UnitOfWork, event: ClassroomRemoved, meta: ReceivedEvent) -> None:
    await roster.classrooms.remove(uow, meta.district_id, event.classroom_id, version=meta.time)


async def record_student(uow: UnitOfWork, event: StudentUpserted, meta: ReceivedEvent) -> None:
    district_id = meta.district_id
    applied = await roster.students.upsert(
        uow,
        district_id,
        event.student_id,
        {
            "school_id": event.school_id,
            "grade": event.grade,
            "guardian_ids": sorted(set(event.guardian_ids)),
        },
        version=meta.time,
    )
    if not applied.written:
        return
    await wake_waiting(uow, {"district_id": district_id, "student_id": event.student_id})
    classrooms = await roster.classrooms_of_student(uow, district_id, event.student_id)
    audiences: list[dict[str, Any]] = [{"audience.student_id": event.student_id}]
    if classrooms:
        audiences.append({"audience.classroom_id": {"$in": classrooms}})
    await expand_open_notices(uow, district_id, audiences, now=utcnow())


async def remove_student(uow: UnitOfWork, event: StudentRemoved, meta: ReceivedEvent) -> None:
    await roster.students.remove(uow, meta.district_id, event.student_id, version=meta.time)


async def record_contact(
    uow: UnitOfWork, event: GuardianContactUpdated, meta: ReceivedEvent
) -> None:
    """Keep the guardian's contact points; the preferences they set in the app stay.
    A contact update older than the one kept is not applied."""
    district_id = meta.district_id
    applied = await roster.guardians.upsert(
        uow,
        district_id,
        event.guardian_id,
        {
            "contact": {
                "given_name": event.given_name,
                "family_name": event.family_name,
                "language": event.preferred_language,
                "email": event.email or None,
                "phone": event.phone or None,
                "student_ids": sorted(set(event.student_ids)),
                "school_ids": sorted(set(event.school_ids)),
                # For matching incoming kindergarten families (service/countdown.py).
                "student_birth_dates": {
                    s: born.isoformat() for s, born in event.student_birth_dates.items()
                },
            },
        },
        version=meta.time,
    )
    if not applied.written:
        return
    if event.phone:
        # Replies to STOP or HELP from this number are worded in this guardian's language.
        await store.limits.set_sms_number(
            uow, event.phone, {"language": event.preferred_language, "district_id": district_id}
        )
    if event.email:
        # A reply by email is filed in this district (docs/decisions/0513).
        await store.talk.set_email_district(uow, event.email, district_id)
    await wake_waiting(uow, {"district_id": district_id, "recipient_id": event.guardian_id})
    # Countdown to kindergarten: the child of an incoming family may just have enrolled.
    await countdown.match_enrolled(uow, district_id, event)


async def record_skill(uow: UnitOfWork, event: SkillDefined, meta: ReceivedEvent) -> None:
    await roster.skills.upsert(
        uow,
        meta.district_id,
        event.skill_code,
        {"names": event.name, "units": event.unit},
        version=meta.time,
    )
