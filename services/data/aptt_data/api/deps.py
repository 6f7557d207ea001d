"""What the data service's routes share beyond the platform's dependencies: its config,
the callers who may read a student's data, ids in paths, and uploads."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any

from aptt_platform.auth import Principal, require_roles
from aptt_platform.deps import config_dependency
from aptt_platform.errors import PayloadTooLarge
from aptt_platform.web import PROBLEM_JSON
from fastapi import Depends, Path, UploadFile
from pydantic import BaseModel, ConfigDict

from aptt_data.settings import Config

CHUNK = 256 * 1024

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


async def read_upload(file: UploadFile, limit: int) -> bytes:
    """The uploaded file, refused with 413 as soon as it passes the limit."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(_too_large(limit), limit_bytes=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> str:
    return f"uploads are limited to {limit:,} bytes ({limit / 1048576:.1f} MiB)"


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class UploadLimit:
    """Refuses an upload larger than the limit before the form parser spools it to disk.

    With a Content-Length the answer comes before the body is parsed; a chunked body is read
    into memory up to the limit and passed on only if it fits. A refused body up to four
    times the limit is read and dropped first, so the client sees the answer rather than a
    reset connection; a bigger one is cut off.
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
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
            if len(body) > cap:
                if more:
                    await self._drain(receive, budget=3 * cap)
                await self._refuse(scope, send)
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

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
