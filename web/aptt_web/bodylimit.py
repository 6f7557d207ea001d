"""The platform's body limit, answered with a page for a person at a browser."""

from __future__ import annotations

from aptt_platform.bodylimit import BodyLimit, Receive, Scope, Send
from starlette.requests import Request

from aptt_web.pages.common import render


class PageBodyLimit(BodyLimit):
    """A browser that sent too much (a roster file too large, an over-long form) gets a page
    in the reader's language saying so, still with 413; any other client gets the problem
    details every service answers."""

    async def refuse(
        self, scope: Scope, receive: Receive, send: Send, limit: int, *, upload: bool
    ) -> None:
        request = Request(scope)
        wants_page = "text/html" in request.headers.get("accept", "")
        if not wants_page or not hasattr(request.state, "session"):
            await super().refuse(scope, receive, send, limit, upload=upload)
            return
        page = render(
            request, "error.html", status=413, kind="too-large", limit_mb=limit // 1048576
        )
        # The rest of a refused body may still be arriving: the connection is not reused.
        page.headers["Connection"] = "close"
        await page(scope, receive, send)
