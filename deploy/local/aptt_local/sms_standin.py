"""A local stand-in for Twilio's Programmable Messaging REST API (2010-04-01 Messages).

Run:   python -m aptt_local.sms_standin --port 8925 --store .aptt/sms/messages.jsonl
Send:  POST {url}/2010-04-01/Accounts/{AccountSid}/Messages.json   (HTTP Basic Sid:Token)
Read:  `read_sms(store)` or the store file, one accepted message per JSON line.

The notify service talks to it exactly as it would to api.twilio.com, so only the base URL
and credentials differ between a laptop and production. Beyond Twilio's API it has
`POST /_standin/inbound`, which plays a person texting the app: it delivers a signed
webhook the way Twilio does. See docs/local-stack.md for what is and is not imitated.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hmac
import json
import logging
import re
import secrets
import sys
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import uvicorn
from aptt_platform.sms import count_segments
from aptt_platform.sms import webhook_signature as twilio_signature
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "aptt-local-sms-auth-token"  # noqa: S105 - a local stand-in's default
MAX_BODY_CHARS = 1600
# The Messages API has no endpoint that says "up"; this stand-in-only one does.
HEALTH_PATH = "/_standin/health"

# Twilio's magic test numbers: a send to one of them fails the way Twilio's does.
MAGIC_TO_ERRORS: dict[str, tuple[int, str]] = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS."),
    "+15005550003": (21408, "Permission to send an SMS has not been enabled for the region."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
log = logging.getLogger("aptt_local.sms_standin")


def read_sms(store_file: str | Path) -> list[dict[str, Any]]:
    """Every message the stand-in accepted, oldest first, as Twilio resources (dicts)."""
    try:
        lines = Path(store_file).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    messages: list[dict[str, Any]] = []
    for line in lines:
        try:
            messages.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the stand-in is writing this line right now
    return messages


def is_e164(number: str) -> bool:
    if not _E164.match(number):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def twilio_error(status: int, code: int, message: str) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _not_found(request: Request) -> JSONResponse:
    return twilio_error(404, 20404, f"The requested resource {request.url.path} was not found")


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment.replace(microsecond=0))


class InboundSms(BaseModel):
    """A person texting the app: delivered to `webhook_url` as Twilio would."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_: str = Field(alias="from")
    to: str
    body: str
    webhook_url: str
    messaging_service_sid: str | None = None


class _Standin:
    def __init__(self, account_sid: str, auth_token: str, store: Path) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.store = store
        self.messages: dict[str, dict[str, Any]] = {
            message["sid"]: message for message in read_sms(store)
        }
        self.tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        # One client for every status callback: a client per message (its pool, its TLS
        # context) took most of the stand-in's CPU and held it to a few messages a second.
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=5.0, trust_env=False)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def authorized(self, request: Request, account_sid: str) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except ValueError:
            return False
        return (
            hmac.compare_digest(user, self.account_sid)
            and hmac.compare_digest(password, self.auth_token)
            and account_sid == self.account_sid
        )

    def base_uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages"

    def accept(self, to: str, sender: str | None, service: str | None, body: str) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        now = _rfc2822(datetime.now(UTC))
        message: dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": str(count_segments(body).count),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # Twilio's initial status: "accepted" when a Messaging Service takes the message.
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": f"{self.base_uri()}/{sid}/Media.json"},
            "to": to,
            "uri": f"{self.base_uri()}/{sid}.json",
        }
        self.messages[sid] = message
        self.store.parent.mkdir(parents=True, exist_ok=True)
        with self.store.open("a", encoding="utf-8") as out:
            out.write(json.dumps(message) + "\n")
        return message

    def deliver_later(self, message: dict[str, Any], callback_url: str | None) -> None:
        task = asyncio.create_task(self._progress(message, callback_url))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _progress(self, message: dict[str, Any], callback_url: str | None) -> None:
        """Move the message on to delivered, calling StatusCallback at each step.

        As on Twilio, the initial status gets no callback; a Messaging Service's message
        passes through "queued" first.
        """
        steps: tuple[str, ...] = ("sent", "delivered")
        if message["status"] == "accepted":
            steps = ("queued", *steps)
        client = self.client()
        for status in steps:
            await asyncio.sleep(0.05)
            now = _rfc2822(datetime.now(UTC))
            message.update(status=status, date_updated=now)
            if status == "sent":
                message["date_sent"] = now
            if callback_url:
                await self._post_status(client, callback_url, message)

    async def _post_status(
        self, client: httpx.AsyncClient, url: str, message: dict[str, Any]
    ) -> None:
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": message["from"] or "",
            "MessageSid": message["sid"],
            "MessageStatus": message["status"],
            "SmsSid": message["sid"],
            "SmsStatus": message["status"],
            "To": message["to"],
        }
        if message["messaging_service_sid"]:
            params["MessagingServiceSid"] = message["messaging_service_sid"]
        try:
            await client.post(url, data=params, headers=self.webhook_headers(url, params))
        except httpx.HTTPError as exc:  # Twilio does not retry status callbacks either
            log.warning("status callback to %s failed: %r", url, exc)

    def webhook_headers(self, url: str, params: Mapping[str, str]) -> dict[str, str]:
        return {
            "X-Twilio-Signature": twilio_signature(url, params, self.auth_token),
            "User-Agent": "TwilioProxy/1.1 (aptt-local stand-in)",
        }


def create_app(
    *,
    store: Path,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    auth_token: str = DEFAULT_AUTH_TOKEN,
) -> FastAPI:
    standin = _Standin(account_sid, auth_token, store)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await standin.close()

    app = FastAPI(
        title="Twilio Messages API stand-in", docs_url="/_standin/docs", lifespan=lifespan
    )
    app.state.standin = standin

    @app.exception_handler(StarletteHTTPException)
    async def _twilio_shaped(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return _not_found(request)
        return twilio_error(exc.status_code, 20001, str(exc.detail))

    @app.get(HEALTH_PATH)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(f"/{API_VERSION}/Accounts/{{account}}/Messages.json", status_code=201)
    async def create_message(request: Request, account: str) -> JSONResponse:
        if not standin.authorized(request, account):
            return twilio_error(401, 20003, "Authenticate")
        form = await request.form()
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        to = fields.get("To", "").strip()
        sender = fields.get("From", "").strip() or None
        service = fields.get("MessagingServiceSid", "").strip() or None
        body = fields.get("Body", "")
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if to in MAGIC_TO_ERRORS:
            code, text = MAGIC_TO_ERRORS[to]
            return twilio_error(400, code, text)
        if not is_e164(to):
            return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if sender is None and service is None:
            return twilio_error(400, 21603, "A 'From' phone number is required.")
        if sender is not None and not (is_e164(sender) or _ALPHANUMERIC_SENDER.match(sender)):
            return twilio_error(400, 21212, f"The 'From' number {sender} is not valid.")
        if not body:
            return twilio_error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY_CHARS:
            return twilio_error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        message = standin.accept(to, sender, service, body)
        standin.deliver_later(message, fields.get("StatusCallback") or None)
        return JSONResponse(dict(message), status_code=201)

    @app.get(f"/{API_VERSION}/Accounts/{{account}}/Messages.json")
    async def list_messages(request: Request, account: str) -> JSONResponse:
        if not standin.authorized(request, account):
            return twilio_error(401, 20003, "Authenticate")
        query = request.query_params
        newest_first = list(reversed(standin.messages.values()))
        selected = [
            m
            for m in newest_first
            if query.get("To") in (None, m["to"]) and query.get("From") in (None, m["from"])
        ]
        try:
            page_size = max(1, min(int(query.get("PageSize", "50")), 1000))
            page = max(0, int(query.get("Page", "0")))
        except ValueError:
            return twilio_error(400, 20001, "Invalid Page or PageSize")
        start = page * page_size
        chunk = selected[start : start + page_size]
        base = standin.base_uri() + ".json"

        def page_uri(number: int) -> str:
            return f"{base}?PageSize={page_size}&Page={number}"

        has_next = start + page_size < len(selected)
        return JSONResponse(
            {
                "messages": chunk,
                "end": start + len(chunk) - 1 if chunk else start,
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1) if has_next else None,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
                "start": start,
                "uri": page_uri(page),
            }
        )

    @app.get(f"/{API_VERSION}/Accounts/{{account}}/Messages/{{sid}}.json")
    async def fetch_message(request: Request, account: str, sid: str) -> JSONResponse:
        if not standin.authorized(request, account):
            return twilio_error(401, 20003, "Authenticate")
        message = standin.messages.get(sid)
        if message is None:
            return _not_found(request)
        return JSONResponse(message)

    @app.post("/_standin/inbound")
    async def inbound(sms: InboundSms) -> JSONResponse:
        sid = "SM" + secrets.token_hex(16)
        params = {
            "AccountSid": standin.account_sid,
            "ApiVersion": API_VERSION,
            "Body": sms.body,
            "From": sms.from_,
            "MessageSid": sid,
            "NumMedia": "0",
            "NumSegments": str(count_segments(sms.body).count),
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "To": sms.to,
        }
        if sms.messaging_service_sid:
            params["MessagingServiceSid"] = sms.messaging_service_sid
        headers = standin.webhook_headers(sms.webhook_url, params)
        try:
            async with httpx.AsyncClient(timeout=10.0, trust_env=False) as client:
                reply = await client.post(sms.webhook_url, data=params, headers=headers)
        except httpx.HTTPError as exc:
            return JSONResponse({"error": f"webhook unreachable: {exc!r}"}, status_code=502)
        return JSONResponse(
            {
                "message_sid": sid,
                "status_code": reply.status_code,
                "content_type": reply.headers.get("content-type"),
                "body": reply.text,
            }
        )

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aptt_local.sms_standin",
        description="Local stand-in for Twilio's Programmable Messaging REST API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8925)
    parser.add_argument("--store", type=Path, required=True, help="JSON-lines file of messages")
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    args = parser.parse_args(argv)
    app = create_app(store=args.store, account_sid=args.account_sid, auth_token=args.auth_token)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
