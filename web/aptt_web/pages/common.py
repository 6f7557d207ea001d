"""What every page shares: the session, the signed-in person, forms with CSRF, rendering."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, ParamSpec
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pymongo.errors import DuplicateKeyError
from starlette.datastructures import FormData

from aptt_web.i18n import CATALOGUES, LANGUAGE_NAMES, direction, translator
from aptt_web.services import Services
from aptt_web.sessions import Session, User

P = ParamSpec("P")
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def left_to_right(value: object) -> Markup:
    """A figure that reads left to right in every language (a school year such as
    2026-2027, a date range in digits), kept in order inside a right-to-left page: `{{ year|ltr }}`,
    or in a sentence `(_("... {year}")|e).format(year=year|ltr)` (decision 0600)."""
    return Markup('<bdi dir="ltr">%s</bdi>') % value


TEMPLATES.filters["ltr"] = left_to_right
# Form fields: a bound on every value a person can type (the services bound them again).
MAX_FIELD = 2000
MAX_FIELDS = 400


class NeedsSignIn(Exception):
    """Answered with a redirect to the sign-in, coming back to `next` afterwards."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class BadForm(Exception):
    """A form that did not come from our page (no or a wrong CSRF token), or too big."""


@dataclass
class Visit:
    """One request's context: who, in which language, and the services to call."""

    request: Request
    session: Session
    language: str
    services: Services

    @property
    def user(self) -> User:
        assert self.session.user is not None
        return self.session.user

    @property
    def token(self) -> str:
        assert self.session.access_token is not None
        return self.session.access_token

    def _(self, message: str) -> str:
        return CATALOGUES.gettext(message, self.language)

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return render(self.request, template, status=status, **context)

    def date(self, value: str | date | None) -> str:
        if not value:
            return ""
        day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return format_date(day, format="full", locale=self.language)

    def when(self, value: str | datetime | None, tz: str | None = None) -> str:
        if not value:
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        zone = _zone(tz)
        day = format_date(moment.astimezone(zone), format="full", locale=self.language)
        time = format_time(moment, format="short", tzinfo=zone, locale=self.language)
        return f"{day}, {time}"

    def at_local_time(self, value: str) -> str:
        """A time the service gave in the school's local time (its offset included)."""
        moment = datetime.fromisoformat(value)
        day = format_date(moment, format="full", locale=self.language)
        time = format_time(moment, format="short", tzinfo=moment.tzinfo, locale=self.language)
        return f"{day}, {time}"


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, ZoneInfoNotFoundError):
        return ZoneInfo("UTC")


def _number(value: float | int | str | None, language: str) -> str:
    """A score or count as the reader writes numbers: 88 not 88.0, 1.234,5 in Spanish."""
    if value is None or value == "":
        return ""
    return format_decimal(float(value), format="#,##0.##", locale=language)


def _day(value: str | date | None, language: str) -> str:
    if not value:
        return ""
    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return format_date(day, format="long", locale=language)


def session_of(request: Request) -> Session:
    session: Session = request.state.session
    return session


def language_of(request: Request) -> str:
    language: str = request.state.language
    return language


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    session = session_of(request)
    language = language_of(request)
    page = TEMPLATES.get_template(template).render(
        _=translator(language),
        lang=language,
        dir=direction(language),
        languages=LANGUAGE_NAMES,
        user=session.user if session.signed_in else None,
        csrf=session.csrf,
        # A fresh one-time token with every page: a create-form spends it (see `once`).
        once=secrets.token_urlsafe(24),
        path=request.url.path,
        here=quote(request.url.path + (f"?{request.url.query}" if request.url.query else "")),
        num=lambda value: _number(value, language),
        day=lambda value: _day(value, language),
        **context,
    )
    return HTMLResponse(page, status_code=status, headers={"Content-Language": language})


async def visit(request: Request) -> Visit:
    session = session_of(request)
    if not session.signed_in:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise NeedsSignIn(target)
    services: Services = request.app.state.services
    return Visit(request, session, language_of(request), services)


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form(max_files=2, max_fields=MAX_FIELDS)
    sent = form.get("csrf")
    if not isinstance(sent, str) or not secrets.compare_digest(sent, session_of(request).csrf):
        raise BadForm("the form is out of date or did not come from this site")
    for value in form.values():
        if isinstance(value, str) and len(value) > MAX_FIELD:
            raise BadForm("a field is longer than we accept")
    return form


# How long a spent form token answers a repeat with the first result (decision 0605).
ONCE_KEPT_SECONDS = 24 * 3600
ONCE_WAIT_SECONDS = 10.0


async def once(
    request: Request, form: FormData, create: Callable[[], Awaitable[Response]]
) -> Response:
    """Runs a create-form's `create` once per one-time token: a second POST of the same page
    (a double tap, a resubmit) is sent to where the first one went instead of creating again."""
    sent = form.get("once")
    if not isinstance(sent, str) or not 16 <= len(sent) <= 100:
        raise BadForm("the form has no one-time token")
    spent = request.app.state.form_tokens
    # The form's action is part of the key: two forms of one page share the page's token.
    key = hashlib.sha256(
        f"{session_of(request).key}:{request.url.path}:{sent}".encode()
    ).hexdigest()
    expires = datetime.now(UTC) + timedelta(seconds=ONCE_KEPT_SECONDS)
    try:
        await spent.insert_one({"_id": key, "expires_at": expires})
    except DuplicateKeyError:
        return await _first_result(spent, key, request)
    try:
        response = await create()
    except BaseException:
        await spent.delete_one({"_id": key})
        raise
    location = response.headers.get("location")
    if response.status_code in (302, 303) and location:
        await spent.update_one({"_id": key}, {"$set": {"location": location}})
    else:
        # Refused (a page with the form again): nothing was created, the token may be reused.
        await spent.delete_one({"_id": key})
    return response


def create_form(
    handler: Callable[P, Awaitable[Response]],
) -> Callable[P, Awaitable[Response]]:
    """A create-form's route: its body runs once per one-time token (see `once`). The route
    takes the request's context as `v` and the checked form as `form`."""

    @functools.wraps(handler)
    async def run(*args: P.args, **kwargs: P.kwargs) -> Response:
        v, form = kwargs["v"], kwargs["form"]
        assert isinstance(v, Visit)
        assert isinstance(form, FormData)
        return await once(v.request, form, lambda: handler(*args, **kwargs))

    return run


async def _first_result(spent: Any, key: str, request: Request) -> Response:
    """Where the first POST went; while it is still running, wait for it a little."""
    waited = 0.0
    while True:
        doc = await spent.find_one({"_id": key})
        if doc is None:
            raise BadForm("the first submission of this form failed; reload the page")
        if doc.get("location"):
            return RedirectResponse(doc["location"], status_code=303)
        if waited >= ONCE_WAIT_SECONDS:
            return RedirectResponse(request.headers.get("referer") or "/", status_code=303)
        await asyncio.sleep(0.2)
        waited += 0.2


SignedIn = Annotated[Visit, Depends(visit)]
Form = Annotated[FormData, Depends(checked_form)]


def text(form: FormData, name: str, default: str = "") -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else default
