"""The web layer every service shares: problem details, request metrics and ids, health."""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import FastAPI, Query, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute, iter_route_contexts
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from structlog.contextvars import bind_contextvars, clear_contextvars

from aptt_platform import metrics
from aptt_platform.auth import current_principal
from aptt_platform.errors import DomainError, RateLimited
from aptt_platform.logging import get_logger
from aptt_platform.tracing import continue_trace

log = get_logger(__name__)
PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://aptt.org/problems/"
T = TypeVar("T")


class RequestModel(BaseModel):
    """Base of request bodies: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of every service is answered."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str


_PROBLEM_TITLES = {
    400: "The request cannot be read",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Too large",
    422: "The request is not valid or breaks a rule",
    429: "Too many requests",
    500: "Internal error",
    503: "Not ready",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route's problem answers: `responses=problems(404, 409)`."""
    return {
        status: {
            "model": Problem,
            "description": _PROBLEM_TITLES.get(status, "Problem"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


# Every route may answer these; `document_problems` adds what its dependencies imply, and a
# route lists the others it can give (409, or 404 for an id in its body).
COMMON_PROBLEMS = problems(422, 500)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def implied_problems(route: APIRoute, method: str) -> set[int]:
    """The problem statuses a route's dependencies can answer: a caller's token (401, 403,
    and 429 for writes, aptt_platform.ratelimit), an id in the path (404), a body (400 when
    it cannot be read, 413 over aptt_platform.bodylimit's limit, 422)."""
    statuses = {422, 500}
    if _depends_on(route.dependant, current_principal):
        statuses |= {401, 403}
        if method in WRITE_METHODS:
            statuses.add(429)
    if route.dependant.path_params:
        statuses.add(404)
    if route.dependant.body_params:
        statuses.add(400)
    if route.dependant.body_params or method in WRITE_METHODS:
        statuses.add(413)
    return statuses


def document_problems(app: FastAPI) -> None:
    """List on every operation of the app's OpenAPI the problem answers its route's
    dependencies imply (once, here, rather than by hand per route); what a route lists
    itself is kept."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {}).setdefault("schemas", {}).setdefault(
            "Problem", Problem.model_json_schema()
        )
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            operations = schema["paths"].get(context.path_format or route.path_format, {})
            for method in route.methods or ():
                operation = operations.get(method.lower())
                if operation is None:
                    continue
                responses = operation.setdefault("responses", {})
                for status in sorted(implied_problems(route, method)):
                    documented = {k: v for k, v in problems(status)[status].items() if k != "model"}
                    responses.setdefault(str(status), documented)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


MAX_PAGE = 200


def page_limit(maximum: int = MAX_PAGE) -> Any:
    return Query(ge=1, le=maximum, description="items per page")


# Give the default at the parameter: `limit: Limit = 50`.
Limit = Annotated[int, page_limit()]
Cursor = Annotated[
    str | None,
    Query(max_length=200, description="next_cursor of the previous page"),
]


def encoded_cursor(*parts: object) -> str:
    """A page's `next_cursor`: what places its last item, opaque to callers."""
    return base64.urlsafe_b64encode("|".join(map(str, parts)).encode()).decode()


def decoded_cursor(cursor: str, parse: Callable[[str], T]) -> T:
    """What a cursor from `encoded_cursor` holds, read by `parse` (which raises ValueError on
    what it cannot read); a cursor this API did not give out is a 422 problem, not a 500."""
    try:
        return parse(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise DomainError("the cursor is not one this API gave out", code="bad-cursor") from exc


def problem(
    status: int, title: str, detail: str, *, code: str, instance: str, **extra: Any
) -> JSONResponse:
    body = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_details(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        response = problem(
            exc.status, exc.title, exc.detail, code=exc.code, instance=request.url.path, **exc.extra
        )
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="aptt"'
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Only where and what: echoing the input could put a child's data in a response log.
        errors = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        return problem(
            422,
            "The request is not valid",
            f"{len(errors)} field(s) need fixing",
            code="validation",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        return problem(
            exc.status_code, str(exc.detail), str(exc.detail), code=code, instance=request.url.path
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The route's template, not its path: a path holds ids of people.
        log.exception("unhandled error", route=route_template(request), method=request.method)
        return problem(
            500,
            "Internal error",
            "Something went wrong on our side; it has been logged.",
            code="internal",
            instance=request.url.path,
        )


def route_template(request: Request) -> str:
    return str(getattr(request.scope.get("route"), "path", "unmatched"))


def install_request_middleware(app: FastAPI, service: str) -> None:
    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        clear_contextvars()
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        trace = continue_trace(request.headers.get("traceparent"))
        bind_contextvars(service=service, request_id=request_id)
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
        finally:
            template = route_template(request)
            metrics.HTTP_REQUESTS.labels(service, request.method, template, str(status)).inc()
            metrics.HTTP_DURATION.labels(service, request.method, template).observe(
                time.perf_counter() - started
            )
        response.headers["x-request-id"] = request_id
        response.headers["traceparent"] = trace.traceparent
        return response


ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


def install_health(app: FastAPI, readiness: ReadinessCheck) -> None:
    @app.get("/healthz", tags=["health"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Database, broker and consumers are reachable",
        responses={503: {"description": "Not ready: `checks` says what is unreachable"}},
    )
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not-ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get(
        "/metrics",
        tags=["health"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
    )
    async def metrics_endpoint() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
