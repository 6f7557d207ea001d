"""Team meeting attendance: a guardian who came counts as a personal contact (reach), and
gets the meeting's survey (docs/decisions/0512, 0514)."""

from __future__ import annotations

from aptt_contracts.scheduling import AttendanceRecorded
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork, utcnow

from aptt_notify.service.reach import TEAM_MEETING, record_personal_contact


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
