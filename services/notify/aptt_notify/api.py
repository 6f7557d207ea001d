"""Families' messages: the in-app inbox, message preferences (language, channels, quiet
hours), and the SMS provider's webhook for texts people send (STOP, START, HELP)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Literal

from aptt_platform.auth import Principal, require_roles
from aptt_platform.errors import DomainError, Forbidden
from aptt_platform.mongo import utcnow
from aptt_platform.web import Limit, Page, RequestModel
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, field_validator, model_validator

from aptt_notify.domain.sms import signature_matches
from aptt_notify.domain.timing import QuietHours
from aptt_notify.service import guardians, inbound
from aptt_notify.service.guardians import KEEP, EffectivePreferences, InboxItem
from aptt_notify.settings import Settings

router = APIRouter(prefix="/v1", tags=["notify"])
Guardian = Annotated[Principal, Depends(require_roles("guardian"))]
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _settings(request: Request) -> Settings:
    settings = request.app.state.runtime.settings
    assert isinstance(settings, Settings)
    return settings


class Message(BaseModel):
    message_id: str
    template: str
    language: str
    channels: list[str]
    text: str
    created_at: datetime
    status: Literal["pending", "sent", "failed", "suppressed", "expired"]

    @classmethod
    def of(cls, item: InboxItem) -> Message:
        return cls.model_validate(item, from_attributes=True)


def _cursor(item: InboxItem) -> str:
    raw = f"{item.created_at.isoformat()}|{item.message_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        at, _, message_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), message_id
    except (ValueError, binascii.Error) as exc:
        raise DomainError("the cursor is not one this API gave out", code="bad-cursor") from exc


@router.get("/me/messages", summary="The guardian's messages, newest first")
async def my_messages(
    request: Request,
    guardian: Guardian,
    limit: Limit = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Page[Message]:
    runtime = request.app.state.runtime
    items, more = await runtime.mongo.run(
        guardians.inbox_page,
        district_id=guardian.district_id,
        guardian_id=guardian.subject,
        now=utcnow(),
        after=_after(cursor),
        limit=limit,
        policy=_settings(request).policy(),
    )
    return Page[Message](
        items=[Message.of(i) for i in items],
        next_cursor=_cursor(items[-1]) if more and items else None,
    )


@router.get("/me/messages/{message_id}", summary="One of the guardian's messages")
async def my_message(request: Request, guardian: Guardian, message_id: str) -> Message:
    item = await request.app.state.runtime.mongo.run(
        guardians.inbox_message,
        district_id=guardian.district_id,
        guardian_id=guardian.subject,
        message_id=message_id,
        now=utcnow(),
        policy=_settings(request).policy(),
    )
    return Message.of(item)


class QuietHoursBody(RequestModel):
    start: str = Field(pattern=HHMM, examples=["21:00"])
    end: str = Field(pattern=HHMM, examples=["08:00"])

    @model_validator(mode="after")
    def _a_window(self) -> QuietHoursBody:
        if self.start == self.end:
            raise ValueError("quiet hours must start and end at different times")
        return self


class Preferences(BaseModel):
    language: str
    channels: list[Literal["sms", "email"]]
    quiet_hours: QuietHoursBody | None

    @classmethod
    def of(cls, found: EffectivePreferences) -> Preferences:
        quiet = found.quiet_hours
        return cls(
            language=found.language,
            channels=list(found.channels),
            quiet_hours=QuietHoursBody(start=quiet.as_strings()[0], end=quiet.as_strings()[1])
            if quiet
            else None,
        )


class PreferencesBody(RequestModel):
    """Fields left out keep their value; `"quiet_hours": null` means no quiet hours."""

    language: str | None = Field(default=None, pattern=LANGUAGE_TAG, examples=["es"])
    channels: list[Literal["sms", "email"]] | None = Field(default=None, max_length=2)
    quiet_hours: QuietHoursBody | None = None

    @field_validator("channels")
    @classmethod
    def _each_once(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("name each channel once")
        return value

    @model_validator(mode="after")
    def _not_null(self) -> PreferencesBody:
        for name in ("language", "channels"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep it")
        return self


@router.get("/me/preferences", summary="How and when the guardian gets messages")
async def my_preferences(request: Request, guardian: Guardian) -> Preferences:
    found = await request.app.state.runtime.mongo.run(
        guardians.get_preferences, district_id=guardian.district_id, guardian_id=guardian.subject
    )
    return Preferences.of(found)


@router.put("/me/preferences", summary="Choose language, channels and quiet hours")
async def set_my_preferences(
    request: Request, guardian: Guardian, body: PreferencesBody
) -> Preferences:
    sent = body.model_fields_set
    quiet = body.quiet_hours
    found = await request.app.state.runtime.mongo.run(
        guardians.set_preferences,
        district_id=guardian.district_id,
        guardian_id=guardian.subject,
        language=body.language if "language" in sent else KEEP,
        channels=body.channels if "channels" in sent else KEEP,
        quiet_hours=(QuietHours.parse(quiet.start, quiet.end) if quiet else None)
        if "quiet_hours" in sent
        else KEEP,
    )
    return Preferences.of(found)


@router.post(
    "/sms/inbound",
    summary="Webhook for texts sent to the app's number (signed by the SMS provider)",
    response_class=Response,
    responses={200: {"content": {"text/xml": {}}}},
)
async def inbound_sms(request: Request) -> Response:
    settings = _settings(request)
    form = await request.form()
    params = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    url = settings.sms_webhook_url or str(request.url)
    signature = request.headers.get("x-twilio-signature", "")
    token = settings.sms_auth_token.get_secret_value()
    if not signature or not signature_matches(url, params, token, signature):
        raise Forbidden("the request is not signed by the SMS provider", code="bad-signature")
    fields = dict(params)
    missing = [name for name in ("From", "Body", "MessageSid") if name not in fields]
    if missing:
        raise DomainError(f"missing form fields: {', '.join(missing)}", code="bad-webhook")
    runtime = request.app.state.runtime
    await runtime.mongo.run(
        inbound.handle_inbound_sms,
        phone=fields["From"].strip(),
        body=fields["Body"],
        message_sid=fields["MessageSid"],
        now=utcnow(),
        policy=settings.policy(),
    )
    sender = runtime.state.get("sender")
    if sender is not None:
        sender.wake()
    return Response(EMPTY_TWIML, media_type="text/xml")
