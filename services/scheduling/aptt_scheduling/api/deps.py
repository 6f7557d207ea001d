"""Dependencies every route of the scheduling API uses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aptt_platform.auth import Principal, require_roles
from aptt_platform.mongo import Mongo, utcnow
from aptt_platform.runtime import Runtime
from fastapi import Depends, Request

from aptt_scheduling.service import Options

STAFF_ROLES = ("district_admin", "school_admin", "teacher")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _mongo(runtime: Annotated[Runtime, Depends(_runtime)]) -> Mongo:
    return runtime.mongo


def _options(request: Request) -> Options:
    options: Options = request.app.state.scheduling_options
    return options


class Committed:
    """Wakes the outbox relay after a use case committed events."""

    def __init__(self, runtime: Annotated[Runtime, Depends(_runtime)]) -> None:
        self.runtime = runtime

    def __call__(self) -> None:
        self.runtime.wake_relay()


Store = Annotated[Mongo, Depends(_mongo)]
Settings = Annotated[Options, Depends(_options)]
WakeRelay = Annotated[Committed, Depends()]


def _now() -> datetime:
    # MongoDB keeps milliseconds: answer with the time that is stored.
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


Now = Annotated[datetime, Depends(_now)]
Staff = Annotated[Principal, Depends(require_roles(*STAFF_ROLES))]
DistrictAdmin = Annotated[Principal, Depends(require_roles("district_admin"))]
SchoolAdmin = Annotated[Principal, Depends(require_roles("district_admin", "school_admin"))]
Guardian = Annotated[Principal, Depends(require_roles("guardian"))]
