"""Families' messages: the in-app inbox, message preferences (language, channels, quiet
hours), and the SMS provider's webhook for texts people send (STOP, START, HELP, replies,
survey answers). Teachers' personal notes, reach, the replies inbox and surveys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aptt_platform.deps import Guardian, Now, RuntimeDep, Store
from aptt_platform.errors import DomainError, Forbidden
from aptt_platform.sms import signature_matches
from aptt_platform.web import (
    PROBLEM_JSON,
    Cursor,
    Limit,
    Page,
    RequestModel,
    decoded_cursor,
    encoded_cursor,
)
from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field, field_validator, model_validator

from aptt_notify.api import countdown, notes, surveys, talk
from aptt_notify.domain.timing import QuietHours
from aptt_notify.service import guardians, inbound
from aptt_notify.service.guardians import KEEP, EffectivePreferences, InboxItem
from aptt_notify.settings import Settings

router = APIRouter(prefix="/v1", tags=["notify"])
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MessageId = Annotated[str, Path(min_length=1, max_length=64)]
# Twilio's own limits: a body of at most 1,600 characters, E.164 numbers, 34-character sids.
INBOUND_FIELD_LIMITS = {"From": 32, "To": 32, "Body": 1600, "MessageSid": 64}
INBOUND_MAX_FIELDS = 100


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {}}}


INVALID: dict[int | str, dict[str, Any]] = {
    422: _problem("the request is not valid (problem details with `errors`)")
}


def _settings(runtime: RuntimeDep) -> Settings:
    settings = runtime.settings
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
    return encoded_cursor(item.created_at.isoformat(), item.message_id)


def _after(raw: str) -> tuple[datetime, str]:
    at, _, message_id = raw.partition("|")
    return datetime.fromisoformat(at), message_id


@router.get(
    "/me/messages",
    summary="The guardian's messages, newest first",
    responses={422: _problem("a bad cursor or limit")},
)
async def my_messages(
    guardian: Guardian, mongo: Store, now: Now, limit: Limit = 50, cursor: Cursor = None
) -> Page[Message]:
    items, more = await mongo.run(
        guardians.inbox_page,
        district_id=guardian.district_id,
        guardian_id=guardian.subject,
        now=now,
        after=decoded_cursor(cursor, _after) if cursor else None,
        limit=limit,
    )
    return Page[Message](
        items=[Message.of(i) for i in items],
        next_cursor=_cursor(items[-1]) if more and items else None,
    )


@router.get(
    "/me/messages/{message_id}",
    summary="One of the guardian's messages",
    responses={404: _problem("not a message of this guardian's inbox"), **INVALID},
)
async def my_message(guardian: Guardian, mongo: Store, now: Now, message_id: MessageId) -> Message:
    item = await mongo.run(
        guardians.inbox_message,
        district_id=guardian.district_id,
        guardian_id=guardian.subject,
        message_id=message_id,
        now=now,
    )
    return Message.of(item)


class QuietHoursBody(RequestModel):
    start: str = Field(max_length=5, pattern=HHMM, examples=["21:00"])
    end: str = Field(max_length=5, pattern=HHMM, examples=["08:00"])

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

    language: str | None = Field(default=None, max_length=35, pattern=LANGUAGE_TAG, examples=["es"])
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
async def my_preferences(guardian: Guardian, mongo: Store) -> Preferences:
    found = await mongo.run(
        guardians.get_preferences, district_id=guardian.district_id, guardian_id=guardian.subject
    )
    return Preferences.of(found)


@router.put(
    "/me/preferences",
    summary="Choose language, channels and quiet hours",
    responses=INVALID,
)
async def set_my_preferences(
    guardian: Guardian, mongo: Store, body: PreferencesBody
) -> Preferences:
    sent = body.model_fields_set
    quiet = body.quiet_hours
    found = await mongo.run(
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
    responses={
        200: {"content": {"text/xml": {}}},
        403: _problem("not signed by the SMS provider"),
        400: _problem("more form fields than a webhook has"),
        422: _problem("a form field is missing or longer than the provider sends"),
    },
)
async def inbound_sms(request: Request, runtime: RuntimeDep, now: Now) -> Response:
    settings = _settings(runtime)
    async with request.form(max_fields=INBOUND_MAX_FIELDS) as form:
        params = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    url = settings.sms_webhook_url or str(request.url)
    signature = request.headers.get("x-twilio-signature", "")[:200]
    token = settings.sms_auth_token.get_secret_value()
    if not signature or not signature_matches(url, params, token, signature):
        raise Forbidden("the request is not signed by the SMS provider", code="bad-signature")
    fields = dict(params)
    missing = [name for name in ("From", "Body", "MessageSid") if name not in fields]
    if missing:
        raise DomainError(f"missing form fields: {', '.join(missing)}", code="bad-webhook")
    too_long = [n for n, limit in INBOUND_FIELD_LIMITS.items() if len(fields.get(n, "")) > limit]
    if too_long:
        raise DomainError(f"form fields too long: {', '.join(too_long)}", code="bad-webhook")
    await runtime.mongo.run(
        inbound.handle_inbound_sms,
        phone=fields["From"].strip(),
        body=fields["Body"],
        message_sid=fields["MessageSid"],
        now=now,
    )
    sender = runtime.state.get("sender")
    if sender is not None:
        sender.wake()  # the reply is queued: send it now rather than at the next poll
    return Response(EMPTY_TWIML, media_type="text/xml")


# Personal notes, reach, replies and surveys (docs/decisions/0510-0514).
router.include_router(notes.router)
router.include_router(talk.router)
router.include_router(surveys.router)
# The district's countdown to kindergarten (docs/decisions/0520).
router.include_router(countdown.router)

# Changes that make messages go out to families: held to the tighter messages budget of the
# request limits (docs/decisions/0013). Notes and inbox answers are not listed: they have
# their own hourly limits per teacher and district (docs/decisions/0511).
MESSAGE_ROUTES = (surveys.send_now,)
