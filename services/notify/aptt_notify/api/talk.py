"""The teachers' inbox: families' replies to notes and meeting messages, and answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from aptt_platform.deps import Now, RuntimeDep, Staff, Store
from aptt_platform.web import Limit, RequestModel, problems
from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from aptt_notify.service import replies

router = APIRouter(tags=["replies"])
ConversationId = Annotated[str, Path(min_length=1, max_length=200)]
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class ConversationOut(BaseModel):
    conversation_id: str
    student_id: str
    guardian_id: str
    last_at: datetime


class Conversations(BaseModel):
    items: list[ConversationOut]


class EntryOut(BaseModel):
    direction: Literal["family", "teacher"]
    author_id: str
    channel: str
    text: str
    at: datetime


class Entries(BaseModel):
    items: list[EntryOut]


class AnswerBody(RequestModel):
    answer_id: str | None = Field(
        default=None, min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"
    )
    text: str = Field(min_length=1, max_length=replies.ANSWER_MAX)
    language: str = Field(max_length=35, pattern=LANGUAGE_TAG, description="The language of `text`")


@router.get("/inbox", summary="The teacher's conversations with families, newest first")
async def inbox(teacher: Staff, mongo: Store, limit: Limit = 50) -> Conversations:
    found = await mongo.run(replies.teacher_inbox, teacher=teacher, limit=limit)
    return Conversations(
        items=[ConversationOut.model_validate(c, from_attributes=True) for c in found]
    )


@router.get(
    "/inbox/{conversation_id}",
    summary="One conversation, newest first (teachers of the student's classroom only)",
    responses=problems(403, 404),
)
async def conversation(
    teacher: Staff, mongo: Store, conversation_id: ConversationId, limit: Limit = 50
) -> Entries:
    found = await mongo.run(
        replies.conversation_entries, teacher=teacher, conversation_id=conversation_id, limit=limit
    )
    return Entries(items=[EntryOut.model_validate(e, from_attributes=True) for e in found])


@router.post(
    "/inbox/{conversation_id}/answers",
    status_code=202,
    summary="Answer the family; it goes out like a note (its channel, language, quiet hours)",
    responses=problems(403, 404, 429),
)
async def answer(
    teacher: Staff,
    mongo: Store,
    runtime: RuntimeDep,
    now: Now,
    conversation_id: ConversationId,
    body: AnswerBody,
) -> None:
    await mongo.run(
        replies.answer,
        teacher=teacher,
        conversation_id=conversation_id,
        answer_id=body.answer_id or uuid.uuid4().hex,
        text=body.text,
        language=body.language,
        now=now,
    )
    sender = runtime.state.get("sender")
    if sender is not None:
        sender.wake()
