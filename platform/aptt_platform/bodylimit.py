"""A size limit on every request body, enforced before the body is read whole.

Every route takes at most `APTT_MAX_BODY_BYTES`; upload routes name their own, larger limit
(`ServiceDefinition.upload_limits`). With a Content-Length the answer comes before the body
is read; a chunked body is counted as it streams and cut off at the limit. A refused body up
to four times the limit is read and dropped first, so the client sees the 413 problem rather
than a reset connection; a bigger one is cut off.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from aptt_platform.web import PROBLEM_BASE, PROBLEM_JSON

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Multipart boundaries and an upload form's other fields.
UPLOAD_SLACK = 64 * 1024


def too_large_detail(limit: int, *, upload: bool) -> str:
    what = "uploads" if upload else "request bodies"
    return f"{what} are limited to {limit:,} bytes ({limit / 1048576:.1f} MiB)"


class BodyLimit:
    """ASGI middleware: 413 problem details for a body over its route's limit."""

    def __init__(
        self, app: ASGIApp, *, limit: int, upload_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.upload_limits = dict(upload_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = self.upload_limits.get(scope["path"])
        limit = upload if upload is not None else self.limit
        cap = limit + UPLOAD_SLACK if upload is not None else limit
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            declared = int(length) if length.isdigit() else 0
            if declared > cap:
                if declared <= 4 * cap:
                    await _drain(receive, budget=declared)
                await self.refuse(scope, receive, send, limit, upload=upload is not None)
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
                        await _drain(receive, budget=3 * cap)
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
            await self.refuse(scope, receive, send, limit, upload=upload is not None)

    async def refuse(
        self, scope: Scope, receive: Receive, send: Send, limit: int, *, upload: bool
    ) -> None:
        """The 413 answer; an edge serving people (the web) answers a page instead."""
        await _refuse(scope, send, limit, upload=upload)


async def _drain(receive: Receive, *, budget: int) -> None:
    """Read and drop the rest of a refused body (up to `budget` bytes), so the client reads
    our answer instead of a reset connection."""
    drained = 0
    while drained <= budget:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _refuse(scope: Scope, send: Send, limit: int, *, upload: bool) -> None:
    body = json.dumps(
        {
            "type": PROBLEM_BASE + "payload-too-large",
            "title": "The upload is too large" if upload else "The request body is too large",
            "status": 413,
            "detail": too_large_detail(limit, upload=upload),
            "instance": scope["path"],
            "limit_bytes": limit,
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
