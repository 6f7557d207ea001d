"""Use cases of families at a team meeting: RSVPs, attendance, and its summary."""

from __future__ import annotations

from datetime import datetime

from aptt_contracts.scheduling import RsvpRecorded
from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import Forbidden
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.domain import meetings as rules
from aptt_scheduling.domain.attendance import (
    AttendanceRecord,
    AttendanceSummary,
    Rsvp,
    check_attendance,
    summarize,
)
from aptt_scheduling.service.access import Access, meeting_access
from aptt_scheduling.settings import Config
from aptt_scheduling.store import meetings as store


def _own_student(principal: Principal, access: Access, student_id: str) -> None:
    if student_id in access.own_students:
        return
    if access.manages and not principal.is_guardian:
        raise Forbidden(
            "only a guardian of the student can answer for the family", code="not-guardian"
        )
    raise out_of_reach(principal, "student")


async def record_rsvp(
    uow: UnitOfWork,
    *,
    principal: Principal,
    meeting_id: str,
    student_id: str,
    attending: bool,
    interpreter_language: str | None,
    childcare_count: int,
    now: datetime,
) -> Rsvp:
    """A guardian says whether the family comes, in which language, with how many children."""
    meeting, access = await meeting_access(uow, principal, meeting_id, manage=False)
    _own_student(principal, access, student_id)
    rules.check_rsvp_open(meeting, now)
    rsvp = Rsvp(
        meeting_id=meeting_id,
        student_id=student_id,
        guardian_id=principal.subject,
        attending=attending,
        interpreter_language=interpreter_language if attending else None,
        childcare_count=childcare_count if attending else 0,
    )
    before = await store.get_rsvp(
        uow, principal.district_id, meeting_id, student_id, principal.subject
    )
    if before == rsvp:
        return rsvp
    await store.save_rsvp(uow, principal.district_id, rsvp, now)
    # An RSVP is a record with no behaviour of its own, not an aggregate: published here.
    uow.publish(
        RsvpRecorded(
            district_id=principal.district_id,
            meeting_id=meeting_id,
            guardian_id=rsvp.guardian_id,
            student_id=student_id,
            attending=rsvp.attending,
            interpreter_language=rsvp.interpreter_language,
            childcare_count=rsvp.childcare_count,
            classroom_id=meeting.classroom_id,
            school_id=meeting.school_id,
        )
    )
    return rsvp


async def family_rsvps(
    uow: UnitOfWork, *, principal: Principal, meeting_id: str, student_id: str
) -> list[Rsvp]:
    """The answers a student's guardians gave (staff who run the meeting see them too)."""
    _, access = await meeting_access(uow, principal, meeting_id, manage=False)
    if not access.manages:
        _own_student(principal, access, student_id)
    return await store.rsvps_of_meeting(uow, principal.district_id, meeting_id, [student_id])


async def meeting_rsvps(
    uow: UnitOfWork, *, principal: Principal, meeting_id: str
) -> tuple[list[Rsvp], AttendanceSummary]:
    """Every answer, with the counts a teacher plans with (interpreters, childcare)."""
    _, access = await meeting_access(uow, principal, meeting_id, manage=True)
    rsvps = await store.rsvps_of_meeting(uow, principal.district_id, meeting_id)
    records = await store.attendance_of_meeting(uow, principal.district_id, meeting_id)
    return rsvps, summarize(access.classes, records, rsvps)


async def record_attendance(
    uow: UnitOfWork,
    *,
    principal: Principal,
    meeting_id: str,
    records: list[AttendanceRecord],
    now: datetime,
) -> tuple[list[AttendanceRecord], AttendanceSummary]:
    """The teacher records which guardian of which student came; changes are published."""
    district_id = principal.district_id
    meeting, access = await meeting_access(uow, principal, meeting_id, manage=True)
    rules.check_attendance_open(meeting, now, uow.config_as(Config).attendance_opens_minutes_before)
    check_attendance(access.classes, records)
    before = {
        (r.student_id, r.guardian_id): r
        for r in await store.attendance_of_meeting(uow, district_id, meeting_id)
    }
    changed = [r for r in records if before.get((r.student_id, r.guardian_id)) != r]
    for record in changed:
        await store.save_attendance(
            uow, district_id, meeting_id, record, recorded_by=principal.subject, now=now
        )
    if changed or not meeting.attendance_taken:
        await store.save_meeting(uow, rules.take_attendance(meeting, changed, now=now))
    return await _attendance(uow, district_id, meeting_id, access)


async def attendance_summary(
    uow: UnitOfWork, *, principal: Principal, meeting_id: str
) -> tuple[list[AttendanceRecord], AttendanceSummary]:
    _, access = await meeting_access(uow, principal, meeting_id, manage=True)
    return await _attendance(uow, principal.district_id, meeting_id, access)


async def _attendance(
    uow: UnitOfWork, district_id: str, meeting_id: str, access: Access
) -> tuple[list[AttendanceRecord], AttendanceSummary]:
    records = await store.attendance_of_meeting(uow, district_id, meeting_id)
    rsvps = await store.rsvps_of_meeting(uow, district_id, meeting_id)
    return records, summarize(access.classes, records, rsvps)
