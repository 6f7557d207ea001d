"""Two-way replies: a family's text that is not STOP, START, HELP or a survey answer reaches
the inbox of the teacher it answers, and teachers answer from there.

The conversation is found from the phone number (the number book says which district it
belongs to; the district's guardians with that phone) and the most recent personal note,
teacher's answer or meeting message sent to them within `reply_window`. A note's answer goes
to the note's author; a meeting message's to the classroom's teachers. One conversation per
(student, guardian). Replies are free text about a child: kept in this database only, never
in an event or a log, and read only by teachers of the student's classroom
(docs/decisions/0513).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from aptt_platform.auth import Principal
from aptt_platform.errors import DomainError, NotFound
from aptt_platform.mongo import Document, UnitOfWork
from pymongo import DESCENDING

from aptt_notify import store
from aptt_notify.domain.model import MessageStatus, Template
from aptt_notify.service import staff
from aptt_notify.service.notes import take_note_tokens, tell_guardians
from aptt_notify.settings import Config

REPLY_MAX = 1600  # what one inbound SMS carries
# "On Tue, Dec 1, 2026 at 6:00 PM School <...> wrote:" and Outlook's separator.
QUOTE_HEADER = re.compile(r"^(On .+ wrote:|-{2,}\s*Original Message\s*-{2,})$", re.IGNORECASE)
ANSWER_MAX = 320  # a teacher's answer: two short texts at most
# Bounds of roster lookups: a household shares a phone; a guardian has a few children.
MAX_GUARDIANS_AT_ONE_CONTACT = 50
MAX_CHILDREN = 50
REPLYABLE = (
    Template.PERSONAL_NOTE,
    Template.TEACHER_REPLY,
    Template.MEETING_INVITATION,
    Template.MEETING_REMINDER_7D,
    Template.MEETING_REMINDER_1D,
    Template.MEETING_REMINDER_2H,
    Template.MEETING_RESCHEDULED,
    Template.MEETING_CANCELLED,
)


async def guardians_with_phone(uow: UnitOfWork, phone: str) -> tuple[str, list[str]]:
    """The district the number book gives the number, and its guardians with that phone."""
    number = await store.limits.sms_number(uow, phone) or {}
    district_id = number.get("district_id")
    if not district_id:
        return "", []
    found = await store.roster.guardians.find_live(
        uow,
        district_id,
        {"contact.phone": phone},
        projection={"guardian_id": 1},
        limit=MAX_GUARDIANS_AT_ONE_CONTACT,
    )
    return district_id, sorted(d["guardian_id"] for d in found)


async def guardians_with_email(uow: UnitOfWork, address: str) -> tuple[str, list[str]]:
    district_id = await store.talk.email_district(uow, address)
    if not district_id:
        return "", []
    found = await store.roster.guardians.find_live(
        uow,
        district_id,
        {"contact.email": address.strip()},
        projection={"guardian_id": 1},
        limit=MAX_GUARDIANS_AT_ONE_CONTACT,
    )
    return district_id, sorted(d["guardian_id"] for d in found)


def reply_of_email(text: str) -> str:
    """The new words of an email reply: what comes before the quoted message."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if stripped.startswith(">") or QUOTE_HEADER.match(stripped):
            break
        kept.append(line)
    return "\n".join(kept).strip()


async def answered_message(
    uow: UnitOfWork, district_id: str, guardian_ids: list[str], now: datetime
) -> Document | None:
    """The latest message a reply can answer, sent to one of these guardians lately."""
    if not guardian_ids:
        return None
    cursor = (
        uow.collection(store.MESSAGES)
        .find(
            {
                "district_id": district_id,
                "recipient_id": {"$in": guardian_ids},
                "status": MessageStatus.DISPATCHED.value,
                "template": {"$in": [str(t) for t in REPLYABLE]},
                "dispatched_at": {"$gte": now - uow.config_as(Config).reply_window},
            },
            session=uow.session,
        )
        .sort("dispatched_at", DESCENDING)
        .limit(1)
    )
    found = await cursor.to_list()
    return found[0] if found else None


async def _thread_of(uow: UnitOfWork, message: Document) -> tuple[str, str, list[str]] | None:
    """(student, classroom, teachers) a reply to this message belongs to."""
    district_id = message["district_id"]
    teacher_id = (message.get("params") or {}).get("teacher_id")
    student_id = message.get("student_id")
    if teacher_id and student_id:
        classrooms = await staff.teacher_classrooms(uow, district_id, teacher_id, student_id)
        classroom_id = classrooms[0]["classroom_id"] if classrooms else ""
        return student_id, classroom_id, [teacher_id]
    meeting = await store.meetings.get_meeting(uow, district_id, message.get("meeting_id") or "")
    if meeting is None:
        return None
    classroom = await store.roster.classrooms.get(uow, district_id, meeting["classroom_id"])
    if classroom is None:
        return None
    students = set(classroom.get("student_ids", []))
    linked = await store.roster.students.find_live(
        uow,
        district_id,
        {"guardian_ids": message["recipient_id"]},
        projection={"student_id": 1},
        limit=MAX_CHILDREN,
    )
    theirs = sorted(s["student_id"] for s in linked if s["student_id"] in students)
    if not theirs:
        return None
    return theirs[0], classroom["classroom_id"], list(classroom.get("teacher_ids", []))


def conversation_id(district_id: str, student_id: str, guardian_id: str) -> str:
    return store.doc_id(district_id, "conversation", student_id, guardian_id)


async def record_family_reply(
    uow: UnitOfWork,
    *,
    sender: str,
    body: str,
    key: str,
    channel: Literal["sms", "email"],
    now: datetime,
) -> bool:
    """File the reply (from a phone number or an email address) in its conversation; False
    when nothing it could answer was found (it is then kept nowhere)."""
    if channel == "sms":
        district_id, guardian_ids = await guardians_with_phone(uow, sender)
    else:
        district_id, guardian_ids = await guardians_with_email(uow, sender)
        body = reply_of_email(body)
    if not body:
        return False
    message = await answered_message(uow, district_id, guardian_ids, now)
    if message is None:
        return False
    thread = await _thread_of(uow, message)
    if thread is None:
        return False
    student_id, classroom_id, teacher_ids = thread
    guardian_id = message["recipient_id"]
    found_id = conversation_id(district_id, student_id, guardian_id)
    added = await store.talk.add_entry(
        uow,
        {
            "_id": uuid.uuid4().hex,
            "district_id": district_id,
            "conversation_id": found_id,
            "key": key,
            "direction": "family",
            "author_id": guardian_id,
            "channel": channel,
            "text": body[:REPLY_MAX],
            "at": now,
        },
    )
    if added:
        await store.talk.touch_conversation(
            uow,
            {
                "_id": found_id,
                "district_id": district_id,
                "student_id": student_id,
                "guardian_id": guardian_id,
                "classroom_id": classroom_id,
                "created_at": now,
                "last_at": now,
            },
            teacher_ids,
            now,
        )
    return True


@dataclass(frozen=True)
class ConversationSummary:
    conversation_id: str
    student_id: str
    guardian_id: str
    last_at: datetime


@dataclass(frozen=True)
class Entry:
    direction: str
    author_id: str
    channel: str
    text: str
    at: datetime


async def teacher_inbox(
    uow: UnitOfWork, *, teacher: Principal, limit: int
) -> list[ConversationSummary]:
    """The teacher's conversations, newest first, about students they still teach."""
    found = await store.talk.conversations_of_teacher(
        uow, teacher.district_id, teacher.subject, limit
    )
    taught = {
        s
        for c in await staff.teacher_classrooms(uow, teacher.district_id, teacher.subject)
        for s in c.get("student_ids", [])
    }
    return [
        ConversationSummary(c["_id"], c["student_id"], c["guardian_id"], c["last_at"])
        for c in found
        if c["student_id"] in taught
    ]


async def _conversation(uow: UnitOfWork, teacher: Principal, found_id: str) -> Document:
    conversation = await store.talk.get_conversation(uow, found_id)
    if conversation is None or conversation["district_id"] != teacher.district_id:
        raise NotFound("no such conversation")
    await staff.taught_classroom(uow, teacher, conversation["student_id"])
    return conversation


async def conversation_entries(
    uow: UnitOfWork, *, teacher: Principal, conversation_id: str, limit: int
) -> list[Entry]:
    conversation = await _conversation(uow, teacher, conversation_id)
    found = await store.talk.entries(uow, teacher.district_id, conversation["_id"], limit)
    return [Entry(e["direction"], e["author_id"], e["channel"], e["text"], e["at"]) for e in found]


async def answer(
    uow: UnitOfWork,
    *,
    teacher: Principal,
    conversation_id: str,
    answer_id: str,
    text: str,
    language: str,
    now: datetime,
) -> None:
    """The teacher answers the guardian: a message through the usual pipeline, once per
    `answer_id`, limited like notes."""
    if not text.strip() or len(text) > ANSWER_MAX:
        raise DomainError(f"write 1 to {ANSWER_MAX} characters", code="bad-answer")
    conversation = await _conversation(uow, teacher, conversation_id)
    key = f"answer|{answer_id}"
    entry: Document = {
        "_id": uuid.uuid4().hex,
        "district_id": teacher.district_id,
        "conversation_id": conversation["_id"],
        "key": key,
        "direction": "teacher",
        "author_id": teacher.subject,
        "channel": "app",
        "text": text,
        "at": now,
    }
    if not await store.talk.add_entry(uow, entry):
        return
    await take_note_tokens(
        uow, district_id=teacher.district_id, teacher_id=teacher.subject, now=now
    )
    student = await staff.student(uow, teacher, conversation["student_id"])
    await tell_guardians(
        uow,
        district_id=teacher.district_id,
        source_id=f"answer:{answer_id}",
        template=Template.TEACHER_REPLY,
        student=student,
        params={
            "text": " ".join(text.split()),
            "written_in": language,
            "teacher_id": teacher.subject,
        },
        now=now,
        guardian_ids=[conversation["guardian_id"]],
    )
    await store.talk.touch_conversation(uow, conversation, [teacher.subject], now)
