"""Team meeting attendance: a guardian who came counts as a personal contact (reach), and
gets the meeting's survey (docs/decisions/0512, 0514)."""

from __future__ import annotations

from datetime import timedelta

from aptt_contracts.scheduling import AttendanceRecorded
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork, utcnow

from aptt_notify import store
from aptt_notify.service.reach import TEAM_MEETING, record_personal_contact
from aptt_notify.service.surveys import start_surveys

DEFAULT_MINUTES = 75


async def on_attendance(uow: UnitOfWork, event: AttendanceRecorded, meta: ReceivedEvent) -> None:
    if not event.present:
        return
    await record_personal_contact(
        uow,
        district_id=meta.district_id,
        student_id=event.student_id,
        kind=TEAM_MEETING,
        source_id=event.meeting_id,
        at=meta.time or utcnow(),
        school_id=event.school_id,
    )
    meeting = await store.meetings.get_meeting(uow, meta.district_id, event.meeting_id) or {}
    starts_at = meeting.get("starts_at") or event.meeting_starts_at
    minutes = meeting.get("duration_minutes") or DEFAULT_MINUTES
    if meeting:
        # Written so that a teacher ending the meeting at this moment (surveys.send_now)
        # conflicts with this transaction instead of missing its survey.
        await store.meetings.put_meeting(
            uow, meta.district_id, event.meeting_id, {"surveyed_at": utcnow()}
        )
    if meeting.get("ended_at"):
        starts_at, minutes = None, 0
    await start_surveys(
        uow,
        district_id=meta.district_id,
        source_id=event.meeting_id,
        classroom_id=event.classroom_id,
        school_id=event.school_id,
        student_id=event.student_id,
        guardian_id=event.guardian_id,
        now=utcnow(),
        # After the meeting: attendance is often taken at its start.
        ask_at=starts_at + timedelta(minutes=minutes) if starts_at else None,
    )
