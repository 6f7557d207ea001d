"""The teachers' inbox: families' replies (by SMS, or by email through the signed inbound
mail webhook) to notes and meeting messages, and the teachers' answers."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from email.utils import parseaddr
from typing import Annotated, Literal

from aptt_platform.deps import Now, RuntimeDep, Staff, Store
from aptt_platform.errors import DomainError, Forbidden, PayloadTooLarge
from aptt_platform.web import Limit, RequestModel, problems
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, ValidationError

from aptt_notify.service import replies
from aptt_notify.settings import Settings

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


class InboundMail(RequestModel):
    """What the mail provider's inbound parse posts, reduced to what a reply needs."""

    model_config = RequestModel.model_config | {"populate_by_name": True}

    sender: str = Field(alias="from", min_length=3, max_length=320)
    to: str = Field(max_length=320)
    subject: str = Field(default="", max_length=998)
    text: str = Field(max_length=20_000)
    message_id: str = Field(min_length=1, max_length=998)


MAIL_MAX_BYTES = 64 * 1024
MAIL_MAX_AGE_SECONDS = 300


def mail_signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex: what the provider sends and we check."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@router.post(
    "/email/inbound",
    status_code=204,
    summary="Webhook for email replies (the mail provider's inbound parse, signed)",
    responses=problems(403, 413),
)
async def inbound_email(request: Request, runtime: RuntimeDep, now: Now) -> None:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    body = await request.body()
    if len(body) > MAIL_MAX_BYTES:
        raise PayloadTooLarge("an inbound email of at most 64 KiB", code="mail-too-large")
    timestamp = request.headers.get("x-aptt-timestamp", "")[:20]
    signature = request.headers.get("x-aptt-signature", "")[:128]
    secret = settings.email_inbound_secret.get_secret_value()
    fresh = timestamp.isdigit() and abs(now.timestamp() - int(timestamp)) <= MAIL_MAX_AGE_SECONDS
    if not (fresh and hmac.compare_digest(signature, mail_signature(secret, timestamp, body))):
        raise Forbidden("the request is not signed by the mail provider", code="bad-signature")
    try:
        mail = InboundMail.model_validate_json(body)
    except ValidationError as exc:
        raise DomainError("not an inbound email", code="bad-webhook") from exc
    _, address = parseaddr(mail.sender)
    await runtime.mongo.run(
        replies.record_family_reply,
        sender=address,
        body=mail.text,
        key=f"email|{mail.message_id}",
        channel="email",
        now=now,
    )
