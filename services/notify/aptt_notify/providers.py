"""The two providers notify talks to: an SMTP server and an SMS API of Twilio's shape.

Both answer with an `Accepted` (the provider's id for the message) or raise `ProviderError`,
which says whether trying again can help. Nothing here knows about guardians or templates.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr, parsedate_to_datetime
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import aiosmtplib
import httpx
import icalendar

# Twilio errors that no retry fixes: a bad or unreachable number, an unsubscribed recipient
# (21610), a body the API refuses. Anything else (429, 5xx, 20003 bad credentials) is worth
# another try once an operator or the provider has fixed it.
PERMANENT_SMS_CODES = frozenset(
    {
        21211,
        21212,
        21214,
        21217,
        21219,
        21401,
        21407,
        21408,
        21421,
        21602,
        21603,
        21604,
        21606,
        21610,
        21612,
        21614,
        21617,
        21635,
        30003,
        30004,
        30005,
        30006,
        30007,
    }
)
UNSUBSCRIBED = 21610


class ProviderError(Exception):
    def __init__(self, code: str, *, permanent: bool, unsubscribed: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.permanent = permanent
        self.unsubscribed = unsubscribed


@dataclass(frozen=True)
class Accepted:
    provider_id: str
    segments: int | None = None


@dataclass(frozen=True)
class SmsConfig:
    api_url: str
    account_sid: str
    auth_token: str
    sender: str
    messaging_service_sid: str | None
    timeout_seconds: float
    concurrency: int = 10


class SmsProvider:
    """Twilio's Messages API (2010-04-01): the same code for Twilio and the local stand-in."""

    def __init__(self, config: SmsConfig, http: httpx.AsyncClient | None = None) -> None:
        # httpx logs every request's URL at INFO, and a message lookup has the phone number
        # in its query: contacts never go to logs.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self.config = config
        self.http = http or httpx.AsyncClient(
            timeout=config.timeout_seconds,
            auth=(config.account_sid, config.auth_token),
            # Keep a connection per concurrent send open: no TLS handshake per message.
            limits=httpx.Limits(
                max_connections=config.concurrency, max_keepalive_connections=config.concurrency
            ),
        )

    @property
    def messages_url(self) -> str:
        base = self.config.api_url.rstrip("/")
        return f"{base}/2010-04-01/Accounts/{self.config.account_sid}/Messages.json"

    async def close(self) -> None:
        await self.http.aclose()

    async def send(self, *, to: str, body: str) -> Accepted:
        form = {"To": to, "Body": body}
        if self.config.messaging_service_sid:
            form["MessagingServiceSid"] = self.config.messaging_service_sid
        else:
            form["From"] = self.config.sender
        try:
            response = await self.http.post(self.messages_url, data=form)
        except httpx.HTTPError as exc:
            raise ProviderError(f"sms-{type(exc).__name__}", permanent=False) from exc
        if response.status_code in (200, 201):
            resource = response.json()
            segments = resource.get("num_segments")
            return Accepted(str(resource["sid"]), int(segments) if segments else None)
        raise _sms_error(response)

    async def find_sent(self, *, to: str, body: str, since: datetime) -> str | None:
        """The sid of a message with this body to this number accepted since `since`, if any:
        an attempt that crashed after the provider took it is found here, not sent again."""
        params = {"To": to, "PageSize": "50"}
        if not self.config.messaging_service_sid:
            params["From"] = self.config.sender
        try:
            response = await self.http.get(self.messages_url, params=params)
        except httpx.HTTPError as exc:
            raise ProviderError(f"sms-{type(exc).__name__}", permanent=False) from exc
        if response.status_code != 200:
            raise _sms_error(response)
        for message in response.json().get("messages", []):
            created = parsedate_to_datetime(message.get("date_created") or "")
            # Twilio's dates have whole seconds: allow for the one we are in.
            if message.get("body") == body and created.timestamp() >= int(since.timestamp()):
                return str(message["sid"])
        return None


def _sms_error(response: httpx.Response) -> ProviderError:
    try:
        code = int(response.json().get("code") or 0)
    except (ValueError, AttributeError):
        code = 0
    label = f"sms-{code}" if code else f"sms-http-{response.status_code}"
    permanent = code in PERMANENT_SMS_CODES
    return ProviderError(label, permanent=permanent, unsubscribed=code == UNSUBSCRIBED)


@dataclass(frozen=True)
class MailConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    sender: str
    starttls: bool
    tls: bool
    timeout_seconds: float
    # Connections kept open and reused; one per concurrent send.
    pool_size: int = 1
    messages_per_connection: int = 100


CalendarMethod = Literal["REQUEST", "CANCEL"]


@dataclass(frozen=True)
class CalendarInvite:
    """One event for the family's calendar (RFC 5545/5546). The same `uid` on every message
    about one appointment, and a higher `sequence` on each change, let a calendar update or
    remove the event it already has instead of adding another."""

    uid: str
    sequence: int
    method: CalendarMethod
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str = ""
    # The event's own zone (a school's), so calendars show and keep it; empty: UTC.
    timezone: str = ""

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> CalendarInvite:
        return cls(
            uid=str(doc["uid"]),
            sequence=int(doc["sequence"]),
            method="CANCEL" if doc["method"] == "CANCEL" else "REQUEST",
            starts_at=doc["starts_at"],
            ends_at=doc["ends_at"],
            summary=str(doc["summary"]),
            location=str(doc.get("location") or ""),
            timezone=str(doc.get("timezone") or ""),
        )

    def to_ics(self, *, organizer: str, attendee: str, now: datetime) -> str:
        calendar = icalendar.Calendar()
        calendar.add("prodid", "-//APTT Platform//notify//EN")
        calendar.add("version", "2.0")
        calendar.add("method", self.method)
        event = icalendar.Event()
        event.add("uid", self.uid)
        event.add("sequence", self.sequence)
        event.add("dtstamp", now)
        starts_at, ends_at = self.starts_at, self.ends_at
        if self.timezone:
            zone = ZoneInfo(self.timezone)
            starts_at, ends_at = starts_at.astimezone(zone), ends_at.astimezone(zone)
        event.add("dtstart", starts_at)
        event.add("dtend", ends_at)
        event.add("summary", self.summary)
        if self.location:
            event.add("location", self.location)
        event.add("status", "CANCELLED" if self.method == "CANCEL" else "CONFIRMED")
        event.add("organizer", f"mailto:{organizer}")
        event.add("attendee", f"mailto:{attendee}", parameters={"ROLE": "REQ-PARTICIPANT"})
        calendar.add_component(event)
        if self.timezone:
            calendar.add_missing_timezones()  # the VTIMEZONE its TZID names (RFC 5545)
        ical: bytes = calendar.to_ical()
        return ical.decode()


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    language: str
    template: str
    idempotency_key: str
    # At most one attachment, an invitation for the calendar; texts never carry one.
    calendar: CalendarInvite | None = None


# Mail servers drop an idle session after a minute or more (RFC 5321 asks for 5); a
# connection idle longer than this is closed rather than found dead at the next send.
IDLE_SECONDS = 30.0


@dataclass
class _Connection:
    smtp: aiosmtplib.SMTP
    sent: int = 0
    last_used: float = 0.0


class MailProvider:
    """SMTP with a small pool of open connections: a session's greeting, TLS and login are
    paid once per `messages_per_connection` messages, not once per message."""

    def __init__(self, config: MailConfig) -> None:
        self.config = config
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(config.pool_size)

    def message_id(self, key: str) -> str:
        """The same Message-ID on every attempt, so a mail client shows a resend once."""
        domain = parseaddr(self.config.sender)[1].rpartition("@")[2] or "aptt.invalid"
        return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"

    def build(self, email: Email, now: datetime) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = self.message_id(email.idempotency_key)
        message["X-APTT-Template"] = email.template
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        if email.calendar is not None:
            organizer = parseaddr(self.config.sender)[1] or "no-reply@aptt.invalid"
            ics = email.calendar.to_ics(organizer=organizer, attendee=email.to, now=now)
            message.add_attachment(
                ics,
                subtype="calendar",
                filename="invite.ics",
                params={"method": email.calendar.method},
            )
        # After the body: setting content drops the Content-* headers already there.
        message["Content-Language"] = email.language
        return message

    async def send(self, email: Email, now: datetime) -> Accepted:
        message = self.build(email, now)
        async with self._slots:
            connection: _Connection | None = None
            try:
                connection = await self._connection()
                await connection.smtp.send_message(message)
            except BaseException as exc:
                self._discard(connection)
                error = _mail_error(exc)
                if error is None:
                    raise
                raise error from exc
            connection.sent += 1
            if connection.sent >= self.config.messages_per_connection:
                await self._quit(connection)
            else:
                connection.last_used = time.monotonic()
                self._idle.append(connection)
        return Accepted(str(message["Message-ID"]))

    async def _connection(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            fresh = time.monotonic() - connection.last_used < IDLE_SECONDS
            if fresh and connection.smtp.is_connected:
                return connection
            await self._quit(connection)
        smtp = aiosmtplib.SMTP(
            hostname=self.config.host,
            port=self.config.port,
            username=self.config.username,
            password=self.config.password,
            start_tls=self.config.starttls,
            use_tls=self.config.tls,
            timeout=self.config.timeout_seconds,
        )
        await smtp.connect()
        return _Connection(smtp)

    def _discard(self, connection: _Connection | None) -> None:
        """After an error the session's state is unknown: it is not used again."""
        if connection is not None:
            connection.smtp.close()

    async def _quit(self, connection: _Connection) -> None:
        try:
            if connection.smtp.is_connected:
                await connection.smtp.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            connection.smtp.close()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await self._quit(connection)


def _mail_error(exc: BaseException) -> ProviderError | None:
    """What an SMTP failure means for the delivery; None for what is not the provider's."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        code = min((r.code for r in exc.recipients), default=0)
        return ProviderError(f"smtp-{code}", permanent=code >= 500)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return ProviderError(f"smtp-{exc.code}", permanent=exc.code >= 500)
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
        return ProviderError(f"smtp-{type(exc).__name__}", permanent=False)
    return None


# A machine-translation provider for free-text notes and replies (docs/decisions/0510).
# None is enabled: free text goes as written with a line naming its language. A district
# that contracts one implements this interface; its translation would be sent beside the
# original and marked as machine-made, never in place of it, and would run in the sender
# (outside any transaction), not in a use case.
class Translator(Protocol):
    async def translate(self, text: str, *, source: str, target: str) -> str:
        """`text` from the BCP 47 language `source` into `target`."""
        ...
