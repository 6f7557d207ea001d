"""Routes of families at a team meeting: RSVPs and attendance."""

from __future__ import annotations

from aptt_platform.deps import CurrentUser, Now, Staff, Store
from fastapi import APIRouter

from aptt_scheduling.api.schemas import (
    AttendanceIn,
    AttendanceOut,
    PathId,
    RsvpIn,
    RsvpListOut,
    RsvpOut,
)
from aptt_scheduling.service import families as service

router = APIRouter(tags=["RSVPs and attendance"])


@router.put(
    "/team-meetings/{meeting_id}/rsvps/{student_id}",
    summary="A guardian answers for their child's family: coming, interpreter, childcare",
)
async def put_rsvp(
    meeting_id: PathId,
    student_id: PathId,
    body: RsvpIn,
    principal: CurrentUser,
    mongo: Store,
    now: Now,
) -> RsvpOut:
    rsvp = await mongo.run(
        service.record_rsvp,
        principal=principal,
        meeting_id=meeting_id,
        student_id=student_id,
        attending=body.attending,
        interpreter_language=body.interpreter_language,
        childcare_count=body.childcare_count,
        now=now,
    )
    return RsvpOut.of(rsvp)


@router.get(
    "/team-meetings/{meeting_id}/rsvps/{student_id}",
    summary="The answers of a student's guardians",
)
async def get_rsvps(
    meeting_id: PathId, student_id: PathId, principal: CurrentUser, mongo: Store
) -> list[RsvpOut]:
    found = await mongo.run(
        service.family_rsvps, principal=principal, meeting_id=meeting_id, student_id=student_id
    )
    return [RsvpOut.of(r) for r in found]


@router.get(
    "/team-meetings/{meeting_id}/rsvps",
    summary="Every family's answer, with interpreter and childcare counts (staff)",
)
async def list_rsvps(meeting_id: PathId, principal: Staff, mongo: Store) -> RsvpListOut:
    rsvps, summary = await mongo.run(
        service.meeting_rsvps, principal=principal, meeting_id=meeting_id
    )
    return RsvpListOut(
        meeting_id=meeting_id,
        items=[RsvpOut.of(r) for r in rsvps],
        families_rsvp_attending=summary.families_rsvp_attending,
        interpreter_requests=summary.interpreter_requests,
        childcare_children=summary.childcare_children,
    )


@router.put(
    "/team-meetings/{meeting_id}/attendance",
    summary="Record which guardian of which student came (teacher of the classroom)",
)
async def put_attendance(
    meeting_id: PathId, body: AttendanceIn, principal: Staff, mongo: Store, now: Now
) -> AttendanceOut:
    records, summary = await mongo.run(
        service.record_attendance,
        principal=principal,
        meeting_id=meeting_id,
        records=[r.record() for r in body.records],
        now=now,
    )
    return AttendanceOut.of(meeting_id, records, summary)


@router.get(
    "/team-meetings/{meeting_id}/attendance",
    summary="Attendance summary: families attended over families in class, who came",
)
async def get_attendance(meeting_id: PathId, principal: Staff, mongo: Store) -> AttendanceOut:
    records, summary = await mongo.run(
        service.attendance_summary, principal=principal, meeting_id=meeting_id
    )
    return AttendanceOut.of(meeting_id, records, summary)
