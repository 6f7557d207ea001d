"""What the data service's routes share beyond the platform's dependencies: its config,
the callers who may read a student's data, ids in paths, uploads and import jobs."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any, Literal

from aptt_platform.auth import Principal, require_roles
from aptt_platform.deps import config_dependency
from aptt_platform.web import PROBLEM_JSON
from fastapi import Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from aptt_data.service.imports import too_large
from aptt_data.settings import Config

ConfigDep = Annotated[Config, Depends(config_dependency(Config))]
# A student's data is for their guardians and their staff; educators (home visits) do not
# read results.
StudentReader = Annotated[
    Principal,
    Depends(require_roles("guardian", "teacher", "school_admin", "district_admin")),
]
# Ids are OneRoster sourcedIds (at most 255 characters) or ids other services gave.
Id = Annotated[str, Path(min_length=1, max_length=255)]


class Problem(BaseModel):
    """RFC 9457 problem details, as the platform answers every error."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str


PROBLEM_MEANINGS = {
    403: "Outside your role, schools or classrooms",
    404: "Not found in your district (or not yours to know of)",
    409: "Exists already",
    410: "Withdrawn",
    413: "Larger than APTT_MAX_UPLOAD_BYTES",
    422: "Invalid input: `errors` name each field and what is wrong (never its value)",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of a route's problem answers."""
    schema = Problem.model_json_schema()
    return {
        status: {
            "description": PROBLEM_MEANINGS[status],
            "content": {PROBLEM_JSON: {"schema": schema}},
        }
        for status in statuses
    }


class RejectedRow(BaseModel):
    file: str
    line: int | None
    column: str | None
    reason: str


class ImportProgress(BaseModel):
    rows_read: int = Field(description="rows of the upload read and checked so far")
    rows_applied: int = Field(description="accepted rows written so far")
    rows_rejected: int = Field(description="problems found so far (see the report)")
    entities_applied: int = Field(
        default=0, description="roster records created, changed or removed"
    )
    chunks_applied: int = Field(description="chunks committed (each its own transaction)")


class ImportError_(BaseModel):
    file: str | None
    reason: str


ImportStatus = Literal["queued", "validating", "applying", "done", "failed"]
IMPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Stored and queued; follow `Location` to see progress and the report"},
    413: {"description": "Larger than APTT_MAX_UPLOAD_BYTES", "content": {PROBLEM_JSON: {}}},
    422: {
        "description": "`not-a-package`: not a zip, unsafe, too big unpacked, no usable "
        "manifest; or a bad form field",
        "content": {PROBLEM_JSON: {}},
    },
}


def _too_large(limit: int) -> str:
    return too_large(limit).detail


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class UploadLimit:
    """Refuses an upload larger than the limit before the form parser spools it to disk.

    With a Content-Length the answer comes before the body is parsed; a chunked body is
    counted as it streams and cut off at the limit. A refused body up to four times the limit
    is read and dropped first, so the client sees the answer rather than a reset connection;
    a bigger one is cut off.
    """

    SLACK = 64 * 1024  # multipart boundaries and the form's other fields

    def __init__(self, app: ASGIApp, *, limit: int, paths: tuple[str, ...]) -> None:
        self.app = app
        self.limit = limit
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        cap = self.limit + self.SLACK
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            declared = int(length) if length.isdigit() else 0
            if declared > cap:
                if declared <= 4 * cap:
                    await self._drain(receive, budget=declared)
                await self._refuse(scope, send)
                return
            await self.app(scope, receive, send)
            return
        # A chunked body is counted as it passes through, never held: past the limit the
        # app reads an end of input, and we answer 413 in its place.
        received = 0
        over = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request" and not over:
                received += len(message.get("body", b""))
                if received > cap:
                    over = True
                    if message.get("more_body", False):
                        await self._drain(receive, budget=3 * cap)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not over:
                await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:
                raise
        if over:
            await self._refuse(scope, send)

    async def _drain(self, receive: Receive, *, budget: int) -> None:
        """Read and drop the rest of a refused body (up to `budget` bytes), so the client
        reads our answer instead of a reset connection."""
        drained = 0
        while drained <= budget:
            message = await receive()
            if message["type"] != "http.request":
                return
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = json.dumps(
            {
                "type": "https://aptt.org/problems/payload-too-large",
                "title": "The upload is too large",
                "status": 413,
                "detail": _too_large(self.limit),
                "instance": scope["path"],
                "limit_bytes": self.limit,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
