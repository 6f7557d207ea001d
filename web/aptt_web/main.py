"""The web edge's wiring: sessions, sign-in, pages, errors as pages, health and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import uvicorn
from aptt_platform.auth import TokenVerifier
from aptt_platform.logging import configure_logging, get_logger
from aptt_platform.web import install_health, install_request_middleware
from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from pymongo import AsyncMongoClient
from starlette.exceptions import HTTPException as StarletteHTTPException

from aptt_web import signin
from aptt_web.bodylimit import PageBodyLimit
from aptt_web.i18n import CATALOGUES
from aptt_web.oidc import RelyingParty
from aptt_web.pages import (
    calendar_windows,
    calendars,
    conference_evenings,
    family,
    family_conferences,
    family_goals,
    family_visits,
    notes,
    outcome_pages,
    reach,
    school_events,
    staff,
    survey_results,
    teacher,
    visit_admin,
    visit_coverage,
    visit_hours,
    visit_pairs,
    visits,
)
from aptt_web.pages.common import BadForm, NeedsSignIn, render
from aptt_web.services import ServiceProblem, Services
from aptt_web.sessions import COOKIE, FORM_TOKENS, INDEXES, SESSIONS, SessionStore
from aptt_web.settings import Settings

log = get_logger("aptt.web")
STATIC = Path(__file__).resolve().parent / "static"
# Our own files only: no inline script, no other origin, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self' {issuer}; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(service="web", level=settings.log_level)
    CATALOGUES.load()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongo_url.get_secret_value(), tz_aware=True
        )
        collection = mongo[settings.database_name][SESSIONS]
        await collection.create_indexes(INDEXES)
        app.state.form_tokens = mongo[settings.database_name][FORM_TOKENS]
        await app.state.form_tokens.create_indexes(INDEXES)
        verifier = TokenVerifier(settings)
        app.state.mongo = mongo
        app.state.sessions = SessionStore(
            collection, timedelta(minutes=settings.session_idle_minutes)
        )
        app.state.services = Services(settings)
        app.state.relying_party = RelyingParty(settings, verifier)
        try:
            yield
        finally:
            await app.state.services.close()
            await verifier.close()
            await mongo.close()

    app = FastAPI(
        title="APTT web pages", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.settings = settings

    async def readiness() -> dict[str, bool]:
        try:
            await app.state.mongo.admin.command("ping")
            return {"mongodb": True}
        except Exception:  # any failure means not ready; the probe only needs the answer
            return {"mongodb": False}

    install_health(app, readiness)
    # Forms are small; only the import pages take files, up to their own limit. A body over
    # its limit is refused before it is read (and before a file spools to disk), inside the
    # session's middleware so that the refusal is a page in the reader's language.
    app.add_middleware(
        PageBodyLimit,
        limit=settings.max_body_bytes,
        upload_limits={
            f"/school/imports/{kind}": settings.max_upload_bytes for kind in staff.KINDS
        },
    )
    install_request_middleware(app, "web")
    _install_session_middleware(app, settings)
    _install_error_pages(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(signin.router)
    # Before family's: its /conferences/{availability}/{student} would take /together/booking.
    app.include_router(family_conferences.router)
    app.include_router(family.router)
    app.include_router(family_visits.router)
    app.include_router(family_goals.router)
    app.include_router(teacher.router)
    app.include_router(notes.router)
    app.include_router(reach.router)
    app.include_router(survey_results.router)
    app.include_router(staff.router)
    app.include_router(visit_pairs.router)
    app.include_router(visits.router)
    app.include_router(visit_coverage.router)
    app.include_router(visit_admin.router)
    app.include_router(visit_hours.router)
    # After staff's: its `/school/events/{school_id}.csv` would otherwise read as a school id.
    app.include_router(school_events.router)
    app.include_router(calendars.router)
    app.include_router(conference_evenings.router)
    app.include_router(calendar_windows.router)
    app.include_router(outcome_pages.router)
    return app


def _install_session_middleware(app: FastAPI, settings: Settings) -> None:
    headers = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"].format(
            issuer=settings.oidc_issuer.rstrip("/")
        ),
    }

    @app.middleware("http")
    async def sessions(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.startswith(("/static/", "/healthz", "/readyz", "/metrics")):
            return await call_next(request)
        store: SessionStore = app.state.sessions
        session = await store.load(request.cookies.get(COOKIE))
        # A new visitor's session is kept only once it holds something (a sign-in under
        # way, a chosen language): a crawler does not fill the database.
        fresh = False
        if session is None:
            session = store.new()
        chosen = request.query_params.get("lang")
        if chosen and chosen in CATALOGUES.languages and chosen != session.language:
            session.language = chosen
            fresh = True
        request.state.session = session
        request.state.language = session.language or CATALOGUES.negotiate(
            request.headers.get("accept-language")
        )
        response = await call_next(request)
        if getattr(request.state, "session_replaced", None) is not None:
            session = request.state.session_replaced
            fresh = True
        if getattr(request.state, "signed_out", False):
            response.delete_cookie(COOKIE, path="/")
        elif fresh:
            await store.save(session)
            response.set_cookie(
                COOKIE,
                session.key,
                max_age=settings.session_idle_minutes * 60,
                httponly=True,
                secure=settings.cookie_secure,
                samesite="lax",
                path="/",
            )
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(NeedsSignIn)
    async def needs_sign_in(request: Request, exc: NeedsSignIn) -> Response:
        return RedirectResponse(f"/signin?next={_safe_next(exc.next_path)}", status_code=303)

    @app.exception_handler(BadForm)
    async def bad_form(request: Request, exc: BadForm) -> Response:
        return render(request, "error.html", status=400, kind="form")

    @app.exception_handler(ServiceProblem)
    async def service_problem(request: Request, exc: ServiceProblem) -> Response:
        if exc.status == 401:
            return RedirectResponse(f"/signin?next={_safe_next(request.url.path)}", status_code=303)
        if exc.status in (403, 404):
            # Another family's child, another class, another district: one answer for all.
            return render(request, "error.html", status=404, kind="not-found")
        if exc.status == 429:
            return render(
                request, "error.html", status=429, kind="slow-down", retry_after=exc.retry_after
            )
        log.warning("service refused a page's request", status=exc.status, route=_route(request))
        return render(request, "error.html", status=502, kind="service", detail=exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not hasattr(request.state, "session"):
            return Response(status_code=exc.status_code)
        kind = "not-found" if exc.status_code == 404 else "form"
        return render(request, "error.html", status=exc.status_code, kind=kind)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error in a page", route=_route(request), error=type(exc).__name__)
        if not hasattr(request.state, "session"):
            return Response(status_code=500)
        return render(request, "error.html", status=500, kind="internal")


def _route(request: Request) -> str:
    """The page's route template (`/family/goals/{goal_id}`): its path would name a child."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))


def _safe_next(path: str) -> str:
    from urllib.parse import quote

    # Only a path of this site: never an address elsewhere (an open redirect).
    if not path.startswith("/") or path.startswith("//"):
        path = "/"
    return quote(path, safe="")


def main() -> None:
    settings = Settings()
    uvicorn.run(
        build_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        # A page's path names a child or a class: requests are logged by route template
        # (install_request_middleware), never by path.
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
