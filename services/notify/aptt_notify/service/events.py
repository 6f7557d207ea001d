"""Meetings, private numbers and goals, turned into notices.

Meeting events of one meeting share a partition key and come in order; a record that went
through the retry topic can still arrive late, so the meeting read model keeps the time of
the event it reflects and an older event does not undo a newer one. A cancellation is final.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aptt_contracts.data import PrivateNumberAssigned
from aptt_contracts.goals import GoalClosed, GoalMet, GoalProgressed, GoalSet
from aptt_contracts.scheduling import (
    TeamMeetingCancelled,
    TeamMeetingRescheduled,
    TeamMeetingScheduled,
)
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import Document, UnitOfWork, utcnow

from aptt_notify import store
from aptt_notify.domain.model import REMINDER_TEMPLATES, Template
from aptt_notify.domain.timing import reminders_due
from aptt_notify.service.changes import Change, tell_of_change
from aptt_notify.service.notices import (
    cancel_notices,
    classroom_audience,
    create_notice,
    expand,
    guardians_audience,
    student_audience,
    told_audience,
)
from aptt_notify.settings import Config

REMINDERS = tuple(REMINDER_TEMPLATES.values())
BEFORE_THE_MEETING = (Template.MEETING_INVITATION, *REMINDERS, Template.MEETING_RESCHEDULED)


def _event_time(meta: ReceivedEvent) -> datetime:
    return meta.time or utcnow()


async def _school_zone_name(uow: UnitOfWork, district_id: str, school_id: str) -> str | None:
    school = await store.roster.schools.get(uow, district_id, school_id)
    return school.get("timezone") if school else None


async def _apply_meeting(
    uow: UnitOfWork, meta: ReceivedEvent, fields: Document
) -> tuple[Document | None, bool]:
    """Record the meeting as this event says; returns (meeting before, applied)."""
    district_id = meta.district_id
    before = await store.meetings.get_meeting(uow, district_id, fields["meeting_id"])
    at = _event_time(meta)
    if before is not None and (before.get("cancelled") or before["version_at"] > at):
        return before, False
    await store.meetings.put_meeting(
        uow, district_id, fields["meeting_id"], {**fields, "version_at": at}
    )
    return before, True


async def _invite_and_remind(
    uow: UnitOfWork, meta: ReceivedEvent, meeting: Document, *, invite: bool
) -> None:
    now = utcnow()
    district_id = meta.district_id
    starts_at: datetime = meeting["starts_at"]
    common: dict[str, Any] = {
        "district_id": district_id,
        "source_event_id": meta.id,
        "audience": classroom_audience(meeting["classroom_id"]),
        "params": {},
        "now": now,
        "fanout_until": starts_at,
        "expires_at": starts_at,
        "school_id": meeting["school_id"],
        "meeting_id": meeting["meeting_id"],
    }
    if invite and starts_at > now:
        await create_notice(uow, template=Template.MEETING_INVITATION, due_at=now, **common)
    zone = uow.config_as(Config).zone(
        await _school_zone_name(uow, district_id, meeting["school_id"])
    )
    for offset, due_at in reminders_due(starts_at, now, zone):
        await create_notice(uow, template=REMINDER_TEMPLATES[offset], due_at=due_at, **common)


def _meeting_fields(data: TeamMeetingScheduled | TeamMeetingRescheduled) -> Document:
    fields: Document = {
        "meeting_id": data.meeting_id,
        "classroom_id": data.classroom_id,
        "school_id": data.school_id,
        "starts_at": data.starts_at,
        "duration_minutes": data.duration_minutes,
        "location": data.location,
        "cancelled": False,
    }
    if isinstance(data, TeamMeetingScheduled):
        fields["focus_skill_code"] = data.focus_skill_code
    return fields


async def on_meeting_scheduled(
    uow: UnitOfWork, event: TeamMeetingScheduled, meta: ReceivedEvent
) -> None:
    """Invite every guardian of the class and plan the reminders."""
    _, applied = await _apply_meeting(uow, meta, _meeting_fields(event))
    if applied:
        await _invite_and_remind(uow, meta, _meeting_fields(event), invite=True)


async def on_meeting_rescheduled(
    uow: UnitOfWork, event: TeamMeetingRescheduled, meta: ReceivedEvent
) -> None:
    """Move the reminders and tell the guardians who knew the old time."""
    data = event
    before, applied = await _apply_meeting(uow, meta, _meeting_fields(data))
    if not applied:
        return
    meeting = await store.meetings.get_meeting(uow, meta.district_id, data.meeting_id)
    assert meeting is not None
    if before is None:
        # Nobody heard of this meeting yet: this is their invitation.
        await _invite_and_remind(uow, meta, meeting, invite=True)
        return
    await cancel_notices(uow, meta.district_id, data.meeting_id, REMINDERS)
    await _invite_and_remind(uow, meta, meeting, invite=False)
    now = utcnow()
    if data.starts_at > now:
        await _tell_of_change(uow, meta, data, known=before, now=now)


async def _tell_of_change(
    uow: UnitOfWork,
    meta: ReceivedEvent,
    data: TeamMeetingRescheduled,
    *,
    known: Document,
    now: datetime,
) -> None:
    """The guardians who were told hear the change once per window (docs/decisions/0542);
    the sender renders their messages from the meeting as it is then."""
    fields = ("starts_at", "duration_minutes", "location")
    change = Change(
        district_id=meta.district_id,
        source_event_id=meta.id,
        subject_id=data.meeting_id,
        template=Template.MEETING_RESCHEDULED,
        audience=told_audience(data.meeting_id),
        starts_at=data.starts_at,
        state={name: getattr(data, name) for name in fields},
        known={name: known.get(name) for name in fields},
        school_id=data.school_id,
    )
    await tell_of_change(uow, change, now=now)


async def on_meeting_cancelled(
    uow: UnitOfWork, event: TeamMeetingCancelled, meta: ReceivedEvent
) -> None:
    """Drop what has not gone out and tell the guardians who were invited."""
    data = event
    district_id = meta.district_id
    before = await store.meetings.get_meeting(uow, district_id, data.meeting_id)
    await store.meetings.put_meeting(
        uow,
        district_id,
        data.meeting_id,
        {
            "classroom_id": data.classroom_id,
            "school_id": data.school_id,
            "cancelled": True,
            "version_at": _event_time(meta),
        },
    )
    if before is None or before.get("cancelled"):
        return
    now = utcnow()
    # Whom to tell is decided before the pending invitations are dropped: only those the
    # invitation reached (or who can read it in the app) hear about the cancellation.
    if before["starts_at"] > now:
        await create_notice(
            uow,
            district_id=district_id,
            source_event_id=meta.id,
            template=Template.MEETING_CANCELLED,
            audience=told_audience(data.meeting_id),
            params={"starts_at": before["starts_at"]},
            due_at=now,
            now=now,
            fanout_until=now,
            expires_at=before["starts_at"],
            school_id=data.school_id,
            meeting_id=data.meeting_id,
        )
    await cancel_notices(
        uow, district_id, data.meeting_id, (*BEFORE_THE_MEETING, Template.PRIVATE_NUMBER)
    )


async def on_private_number(
    uow: UnitOfWork, event: PrivateNumberAssigned, meta: ReceivedEvent
) -> None:
    """Tell each guardian of the student, and only them, the student's number.

    The data service publishes the assignment again (same number) when the student's
    guardians change: the notice is about (report, student, number), so guardians who were
    told are not told again, a new guardian is, and one no longer listed is not."""
    data = event
    district_id = meta.district_id
    meeting = await store.meetings.get_meeting(uow, district_id, data.meeting_id)
    if meeting is not None and meeting.get("cancelled"):
        return
    now = utcnow()
    key = f"private-number:{data.report_id}:{data.student_id}:{data.number}"
    told = await store.notices.get_notice(
        uow, store.doc_id(district_id, key, str(Template.PRIVATE_NUMBER))
    )
    if told is not None:
        audience = guardians_audience(data.guardian_ids)
        await store.notices.set_notices(uow, {"_id": told["_id"]}, {"audience": audience})
        await expand(uow, {**told, "audience": audience}, now=now)
        return
    classroom = await store.roster.classrooms.get(uow, district_id, data.classroom_id)
    school_id = (meeting or {}).get("school_id") or (classroom or {}).get("school_id")
    expires_at = None
    if meeting is not None and "starts_at" in meeting:
        expires_at = meeting["starts_at"] + timedelta(minutes=meeting["duration_minutes"])
    await create_notice(
        uow,
        district_id=district_id,
        source_event_id=meta.id,
        notice_key=key,
        template=Template.PRIVATE_NUMBER,
        audience=guardians_audience(data.guardian_ids),
        params={"number": data.number},
        due_at=now,
        now=now,
        fanout_until=now,
        expires_at=expires_at,
        school_id=school_id,
        meeting_id=data.meeting_id,
        student_id=data.student_id,
    )


def _goal_params(data: GoalSet | GoalProgressed | GoalMet | GoalClosed) -> dict[str, Any]:
    if isinstance(data, GoalSet):
        return {
            "skill_code": data.skill_code,
            "target": data.target,
            "baseline": data.baseline,
            "ends_on": data.ends_on.isoformat(),
        }
    if isinstance(data, GoalProgressed):
        return {
            "skill_code": data.skill_code,
            "score": data.score,
            "target": data.target,
            "percent": data.progress_percent,
        }
    if isinstance(data, GoalMet):
        return {"skill_code": data.skill_code, "score": data.score, "target": data.target}
    return {"skill_code": data.skill_code, "outcome": data.outcome}


GOAL_TEMPLATES: dict[type, Template] = {
    GoalSet: Template.GOAL_CONFIRMATION,
    GoalProgressed: Template.GOAL_PROGRESS,
    GoalMet: Template.GOAL_MET,
    GoalClosed: Template.GOAL_CLOSED,
}


async def on_goal_event(
    uow: UnitOfWork, event: GoalSet | GoalProgressed | GoalMet | GoalClosed, meta: ReceivedEvent
) -> None:
    """Goal confirmation, progress news, goal met and goal closed go to the student's family."""
    data = event
    district_id = meta.district_id
    student = await store.roster.students.get(uow, district_id, data.student_id)
    also = [data.guardian_id] if isinstance(data, GoalSet) else []
    now = utcnow()
    await create_notice(
        uow,
        district_id=district_id,
        source_event_id=meta.id,
        template=GOAL_TEMPLATES[type(data)],
        audience=student_audience(data.student_id, also),
        params=_goal_params(data),
        due_at=now,
        now=now,
        fanout_until=now + uow.config_as(Config).recipient_wait,
        school_id=(student or {}).get("school_id"),
        student_id=data.student_id,
    )
