"""Sign-in, sign-out and the home page that sends each person to their own pages."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from aptt_web.i18n import CATALOGUES
from aptt_web.oidc import RelyingParty, SignInFailed
from aptt_web.pages.common import Form, language_of, render, session_of
from aptt_web.services import ServiceProblem, Services
from aptt_web.sessions import SessionStore

router = APIRouter()
Next = Annotated[str, Query(max_length=500)]


def _local(path: str) -> str:
    path = unquote(path)
    return path if path.startswith("/") and not path.startswith("//") else "/"


@router.get("/", response_class=Response)
async def home(request: Request) -> Response:
    session = session_of(request)
    if not session.signed_in or session.user is None:
        return render(request, "welcome.html")
    if session.user.is_guardian:
        return RedirectResponse("/family", status_code=303)
    if session.user.has("teacher"):
        return RedirectResponse("/teach", status_code=303)
    if session.user.has("educator") and not session.user.is_admin:
        return RedirectResponse("/visits", status_code=303)
    return RedirectResponse("/school", status_code=303)


@router.get("/signin", response_class=Response)
async def sign_in(request: Request, next: Next = "/") -> Response:
    party: RelyingParty = request.app.state.relying_party
    session = session_of(request)
    try:
        url, login = await party.start(language=language_of(request))
    except SignInFailed:
        return render(request, "error.html", status=503, kind="signin")
    session.login = {**login, "next": _local(next)}
    request.state.session_replaced = session
    return RedirectResponse(url, status_code=303)


@router.get("/signin/callback", response_class=Response)
async def callback(
    request: Request,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    party: RelyingParty = request.app.state.relying_party
    store: SessionStore = request.app.state.sessions
    old = session_of(request)
    if not code or not state:
        return render(request, "error.html", status=400, kind="signin")
    try:
        signed = await party.finish(code=code, state=state, login=old.login)
    except SignInFailed:
        return render(request, "error.html", status=400, kind="signin")
    # A new session id at sign-in: an id planted before cannot ride the signed-in session.
    await store.delete(old)
    session = store.new(language=old.language)
    session.user = signed.user
    session.access_token = signed.access_token
    session.token_expires_at = signed.expires_at
    if session.language is None and signed.user.is_guardian:
        session.language = await _family_language(request, signed.access_token)
    request.state.session_replaced = session
    return RedirectResponse(old.login.get("next") or "/", status_code=303)


async def _family_language(request: Request, token: str) -> str | None:
    """A family reads its pages in the language its messages go out in, unless it chose
    another on a page before signing in; the switcher on every page changes it."""
    services: Services = request.app.state.services
    try:
        found = await services.get("notify", token, "/v1/me/preferences")
    except ServiceProblem:
        return None
    language = str(found.get("language") or "").split("-")[0]
    return language if language in CATALOGUES.languages else None


@router.post("/signout", response_class=Response)
async def sign_out(request: Request, form: Form) -> Response:
    store: SessionStore = request.app.state.sessions
    await store.delete(session_of(request))
    request.state.signed_out = True
    return RedirectResponse("/", status_code=303)
