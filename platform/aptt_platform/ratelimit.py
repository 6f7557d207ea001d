"""Limits on write requests per caller and per district, shared by every replica.

Every POST, PUT, PATCH and DELETE of an authenticated caller counts in two fixed windows,
the caller's and the district's. A window is one document of the service's database whose
`_id` names it (budget, scope, who, window start); a request counts with one atomic
`find_one_and_update` with upsert on that `_id`, outside any transaction, so counting never
conflicts with a use case and all replicas share the count. Documents expire by a TTL index
once their window is over. Over a limit the request is refused with 429 problem details and
`Retry-After` (seconds to the end of the full window); the request's own work never runs.

Routes that make messages go out to families (a service's `message_routes`, one list of
endpoints per service in its `api` package) count against a second, tighter budget instead
of the writes budget. docs/decisions/0013-request-rate-limits.md says why this is not a library.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from aptt_platform import metrics
from aptt_platform.auth import Principal, current_principal
from aptt_platform.errors import RateLimited
from aptt_platform.logging import get_logger
from aptt_platform.mongo import Document
from aptt_platform.settings import ServiceSettings

log = get_logger(__name__)

REQUEST_LIMITS = "request_limits"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
INDEXES: dict[str, list[IndexModel]] = {
    # Looked up by `_id` alone; this index only removes windows that are over.
    REQUEST_LIMITS: [
        IndexModel([("expires_at", ASCENDING)], name="request_limit_expiry", expireAfterSeconds=0)
    ],
}


@dataclass(frozen=True)
class Budget:
    """How many requests of one kind a caller, and a whole district, may make per window."""

    name: str
    window_seconds: int
    per_principal: int
    per_district: int


@dataclass(frozen=True)
class Window:
    """One count: which window, how many requests it holds now, when it ends."""

    scope: str
    limit: int
    count: int
    ends_at: datetime

    @property
    def full(self) -> bool:
        return self.count > self.limit


# A service names its message routes by their endpoint functions: a renamed route still
# counts, a removed one fails at import.
Endpoint = Callable[..., object]


class RequestLimiter:
    """The budgets of a service and the counter collection they are counted in."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        settings: ServiceSettings,
        message_routes: Collection[Endpoint] = (),
    ) -> None:
        self.collection = db[REQUEST_LIMITS]
        self.service = settings.service_name
        self.enabled = settings.request_limits_enabled
        self.message_routes = frozenset(message_routes)
        self.writes = Budget(
            "writes",
            settings.request_limit_window_seconds,
            settings.request_limit_writes_per_principal,
            settings.request_limit_writes_per_district,
        )
        self.messages = Budget(
            "messages",
            settings.request_limit_message_window_seconds,
            settings.request_limit_messages_per_principal,
            settings.request_limit_messages_per_district,
        )

    def budget_for(self, method: str, endpoint: Endpoint) -> Budget | None:
        if method.upper() not in WRITE_METHODS:
            return None
        return self.messages if endpoint in self.message_routes else self.writes

    async def check(self, principal: Principal, budget: Budget, *, route: str) -> None:
        """Count the request in the caller's and the district's window; raise 429 when one
        of them is full."""
        now = datetime.now(UTC)
        district = principal.district_id
        windows = await asyncio.gather(
            self._count(budget, "principal", district, principal.subject, now),
            self._count(budget, "district", district, None, now),
        )
        full = [w for w in windows if w is not None and w.full]
        if not full:
            return
        for window in full:
            metrics.REQUESTS_LIMITED.labels(self.service, route, budget.name, window.scope).inc()
        # The caller may try again when every full window is over.
        retry_after = max(math.ceil((w.ends_at - now).total_seconds()) for w in full)
        scopes = sorted(w.scope for w in full)
        log.info("request limit reached", route=route, budget=budget.name, scopes=scopes)
        who = "your district" if scopes == ["district"] else "you"
        raise RateLimited(
            f"{who} made more than {min(w.limit for w in full)} such requests in "
            f"{budget.window_seconds} seconds; try again in {retry_after} seconds",
            retry_after=retry_after,
            budget=budget.name,
            scopes=scopes,
            window_seconds=budget.window_seconds,
        )

    async def _count(
        self, budget: Budget, scope: str, district_id: str, subject: str | None, now: datetime
    ) -> Window | None:
        limit = budget.per_district if subject is None else budget.per_principal
        started = math.floor(now.timestamp() / budget.window_seconds) * budget.window_seconds
        ends_at = datetime.fromtimestamp(started + budget.window_seconds, UTC)
        who = district_id if subject is None else f"{district_id}|{subject}"
        window_id = f"{budget.name}|{scope}|{who}|{budget.window_seconds}|{started}"
        for attempt in (1, 2):
            try:
                found = await self.collection.find_one_and_update(
                    {"_id": window_id},
                    {
                        "$inc": {"count": 1},
                        "$setOnInsert": {"district_id": district_id, "expires_at": ends_at},
                    },
                    upsert=True,
                    projection={"count": 1},
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:
                # Two first requests of a window upserted at once; the second finds it now.
                if attempt == 2:
                    raise
                continue
            except PyMongoError as exc:
                # A counter the database cannot keep must not refuse every change: the
                # request goes on and meets the same database in its use case.
                log.warning("request limit not counted", error=type(exc).__name__)
                return None
            count = int((found or {}).get("count", 1))
            return Window(scope, limit, count, ends_at)
        return None


async def enforce_request_limits(request: Request) -> None:
    """The dependency `create_app` puts in front of every service route.

    Reads (GET, HEAD) pass. A write without a bearer token passes on to the route, which
    refuses it with 401 or checks a provider's signature of its own (SMS and email webhooks,
    whose callers are the providers, not people)."""
    limiter: RequestLimiter | None = getattr(request.app.state, "request_limiter", None)
    if limiter is None or not limiter.enabled:
        return
    endpoint = request.scope.get("endpoint")
    if endpoint is None:
        return
    budget = limiter.budget_for(request.method, endpoint)
    if budget is None or not request.headers.get("authorization"):
        return
    principal = await current_principal(request)
    # The route's template, as the request metrics name it.
    route = getattr(request.scope.get("route"), "path", "unmatched")
    await limiter.check(principal, budget, route=route)
