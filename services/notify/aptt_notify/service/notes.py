"""Personal notes: a teacher of the student's classroom writes one sentence to the
student's guardians; each gets it once, in their language and on their channel, through the
same notices, messages and deliveries as every other message (quiet hours, STOP and the
guardian's rate limit included). Notes are limited per teacher and per district.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aptt_platform.auth import Principal
from aptt_platform.errors import Conflict, DomainError, RateLimited
from aptt_platform.mongo import Document, UnitOfWork

from aptt_notify import store
from aptt_notify.domain.model import Template
from aptt_notify.domain.notes import NoteDraft, NoteRefused
from aptt_notify.domain.timing import hour_bucket, next_hour
from aptt_notify.service import staff
from aptt_notify.service.context import load_context, render_message
from aptt_notify.service.notices import CLOSED, new_message, student_audience
from aptt_notify.service.reach import NOTE, last_contacts, record_personal_contact
from aptt_notify.settings import Config


@dataclass(frozen=True)
class NoteReceipt:
    note_id: str
    student_id: str
    created_at: datetime
    recipients: int


@dataclass(frozen=True)
class Preview:
    guardian_id: str
    language: str
    text: str


def checked(draft: NoteDraft) -> NoteDraft:
    try:
        draft.check()
    except NoteRefused as exc:
        raise DomainError(str(exc), code="bad-note") from exc
    return draft


async def take_note_tokens(
    uow: UnitOfWork, *, district_id: str, teacher_id: str, now: datetime
) -> None:
    """One numbered token per note and window, per teacher and per district: the n-th note
    of an hour inserts token n, so the count is a narrow index query and no document is
    updated by every note (docs/decisions/0511)."""
    config = uow.config_as(Config)
    hour = hour_bucket(now)
    retry_after = int((next_hour(now) - now).total_seconds()) + 1
    limits = (
        (f"teacher:{teacher_id}:{hour}", config.notes_teacher_per_hour, "you"),
        (f"district:{hour}", config.notes_district_per_hour, "your district"),
    )
    for window, cap, whose in limits:
        taken = await store.notes.tokens_taken(uow, district_id, window)
        if taken >= cap:
            raise RateLimited(
                f"{whose} sent {cap} notes this hour; try again later", retry_after=retry_after
            )
        await store.notes.take_token(uow, district_id, window, taken, next_hour(now))


async def send_note(
    uow: UnitOfWork,
    *,
    teacher: Principal,
    note_id: str,
    student_id: str,
    draft: NoteDraft,
    now: datetime,
) -> NoteReceipt:
    """Record the note and give each of the student's guardians one message."""
    district_id = teacher.district_id
    kept = await store.notes.get_note(uow, district_id, note_id)
    if kept is not None:
        if kept["teacher_id"] != teacher.subject or kept["student_id"] != student_id:
            raise Conflict("this note id was used for another note", code="note-id-taken")
        return _receipt(kept)
    checked(draft)
    classroom = await staff.taught_classroom(uow, teacher, student_id)
    await take_note_tokens(uow, district_id=district_id, teacher_id=teacher.subject, now=now)
    student = await staff.student(uow, teacher, student_id)
    guardians = sorted(student.get("guardian_ids", []))
    note: Document = {
        "_id": store.doc_id(district_id, note_id),
        "district_id": district_id,
        "note_id": note_id,
        "teacher_id": teacher.subject,
        "student_id": student_id,
        "classroom_id": classroom["classroom_id"],
        "school_id": student["school_id"],
        "kind": str(draft.kind),
        "params": draft.params(),
        "recipients": len(guardians),
        "created_at": now,
    }
    await store.notes.insert_note(uow, note)
    await tell_guardians(
        uow,
        district_id=district_id,
        source_id=f"note:{note_id}",
        template=Template.PERSONAL_NOTE,
        student=student,
        params={**draft.params(), "teacher_id": teacher.subject, "note_id": note_id},
        now=now,
    )
    await record_personal_contact(
        uow,
        district_id=district_id,
        student_id=student_id,
        kind=NOTE,
        source_id=note_id,
        at=now,
        school_id=student["school_id"],
        teacher_id=teacher.subject,
    )
    return _receipt(note)


async def tell_guardians(
    uow: UnitOfWork,
    *,
    district_id: str,
    source_id: str,
    template: Template,
    student: Document,
    params: Document,
    now: datetime,
    guardian_ids: list[str] | None = None,
    due_at: datetime | None = None,
    meeting_id: str | None = None,
) -> None:
    """One message per guardian of the student (or the ones named), through the usual
    pipeline. The audience is the student, so a guardian unlinked before it goes out gets
    nothing. It is written for the family of this moment: no later fan-out, hence no
    district audience lock for notes to contend on (docs/decisions/0510)."""
    notice: Document = {
        "_id": store.doc_id(district_id, source_id, str(template)),
        "district_id": district_id,
        "source_event_id": source_id,
        "template": str(template),
        "audience": student_audience(student["student_id"]),
        "params": params,
        "school_id": student.get("school_id"),
        "meeting_id": meeting_id,
        "student_id": student["student_id"],
        "due_at": now,
        "expires_at": None,
        "fanout_until": now,
        "status": CLOSED,
        "created_at": now,
    }
    if not await store.notices.insert_notice(uow, notice):
        return
    config = uow.config_as(Config)
    recipients = guardian_ids if guardian_ids is not None else student.get("guardian_ids", [])
    messages = [new_message(notice, g, now, config) for g in sorted(set(recipients))]
    if due_at is not None and due_at > now:
        for message in messages:
            message["next_check_at"] = due_at
            message["expires_at"] = max(message["expires_at"], due_at + config.message_max_wait)
    await store.messages.insert_messages(uow, messages)


def _receipt(note: Document) -> NoteReceipt:
    return NoteReceipt(note["note_id"], note["student_id"], note["created_at"], note["recipients"])


async def preview_note(
    uow: UnitOfWork, *, teacher: Principal, student_id: str, draft: NoteDraft
) -> list[Preview]:
    """The note as each guardian would read it, in their language; nothing is recorded."""
    checked(draft)
    await staff.taught_classroom(uow, teacher, student_id)
    student = await staff.student(uow, teacher, student_id)
    previews = []
    for guardian_id in sorted(student.get("guardian_ids", [])):
        message: Document = {
            "district_id": teacher.district_id,
            "recipient_id": guardian_id,
            "template": str(Template.PERSONAL_NOTE),
            "params": draft.params(),
            "school_id": student["school_id"],
            "student_id": student_id,
        }
        context = await load_context(uow, message)
        rendered = render_message(message, context)
        previews.append(Preview(guardian_id, rendered.language, rendered.short))
    return previews


@dataclass(frozen=True)
class FamilyRow:
    student_id: str
    guardian_ids: list[str]
    languages: list[str]
    last_contact_at: datetime | None
    last_contact_kind: str | None


async def class_list(
    uow: UnitOfWork, *, principal: Principal, classroom_id: str, now: datetime
) -> list[FamilyRow]:
    """The classroom's families with the date of their last personal contact (a year back)."""
    classroom = await staff.classroom(uow, principal, classroom_id)
    district_id = principal.district_id
    student_ids = sorted(classroom.get("student_ids", []))
    students = await store.roster.students.find_live(
        uow,
        district_id,
        {"student_id": {"$in": student_ids}},
        projection={"student_id": 1, "guardian_ids": 1},
        limit=len(student_ids),
    )
    guardian_ids = sorted({g for s in students for g in s.get("guardian_ids", [])})
    guardians = await store.roster.guardians.find_live(
        uow,
        district_id,
        {"guardian_id": {"$in": guardian_ids}},
        projection={"guardian_id": 1, "contact.language": 1, "preferences.language": 1},
        limit=len(guardian_ids),
    )
    language = {
        g["guardian_id"]: (g.get("preferences") or {}).get("language")
        or (g.get("contact") or {}).get("language")
        or "en"
        for g in guardians
    }
    latest = await last_contacts(uow, district_id, student_ids, now - timedelta(days=366))
    rows = []
    for student in sorted(students, key=lambda s: s["student_id"]):
        found = sorted(student.get("guardian_ids", []))
        contact = latest.get(student["student_id"])
        rows.append(
            FamilyRow(
                student_id=student["student_id"],
                guardian_ids=found,
                languages=[language.get(g, "en") for g in found],
                last_contact_at=contact["at"] if contact else None,
                last_contact_kind=contact["kind"] if contact else None,
            )
        )
    return rows
