"""Dependencies of the goals routes: the runtime, rules, clock, caller and language."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aptt_platform.auth import Principal, require_roles
from aptt_platform.mongo import Mongo
from aptt_platform.runtime import Runtime
from fastapi import Depends, Header, Query, Request, Response

from aptt_goals import i18n
from aptt_goals.service import Clock, GoalRules


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


class Goals:
    """What a route needs of the service: its database, rules and clock."""

    def __init__(self, request: Request) -> None:
        self.runtime = _runtime(request)
        self.rules: GoalRules = request.app.state.goal_rules
        self._clock: Clock = request.app.state.clock

    @property
    def mongo(self) -> Mongo:
        return self.runtime.mongo

    def now(self) -> datetime:
        return self._clock()

    def published(self) -> None:
        self.runtime.wake_relay()


def _language(
    response: Response,
    accept_language: Annotated[str | None, Header(description="e.g. es, en;q=0.8")] = None,
) -> str:
    language = i18n.negotiate(accept_language)
    response.headers["Content-Language"] = language
    return language


Service = Annotated[Goals, Depends(Goals)]
Language = Annotated[str, Depends(_language)]
Guardian = Annotated[Principal, Depends(require_roles("guardian"))]
Staff = Annotated[Principal, Depends(require_roles("teacher", "school_admin", "district_admin"))]
# aptt_platform.web.Limit puts the default inside Annotated, which this FastAPI refuses;
# routes write `limit: Limit = 50`.
Limit = Annotated[int, Query(ge=1, le=200, description="items per page")]
