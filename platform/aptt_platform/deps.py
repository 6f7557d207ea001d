"""The `Annotated` dependencies every service's `api` uses: callers by role, the runtime, the
service's configuration, paging. A service's `api/deps.py` imports these and adds only what
is its own (docs/platform.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from aptt_platform.auth import CurrentPrincipal, Principal, require_roles
from aptt_platform.errors import DomainError, Forbidden, NotFound
from aptt_platform.mongo import Mongo, utcnow
from aptt_platform.runtime import Runtime

C = TypeVar("C")

# Who is who. Staff work in schools; educators visit homes (PTHV); admins are staff too.
ADMIN_ROLES = ("district_admin", "school_admin")
STAFF_ROLES = ("district_admin", "school_admin", "teacher")
EDUCATOR_ROLES = ("district_admin", "school_admin", "educator")

CurrentUser = CurrentPrincipal
DistrictAdmin = Annotated[Principal, Depends(require_roles("district_admin"))]
SchoolAdmin = Annotated[Principal, Depends(require_roles(*ADMIN_ROLES))]
Staff = Annotated[Principal, Depends(require_roles(*STAFF_ROLES))]
Educator = Annotated[Principal, Depends(require_roles(*EDUCATOR_ROLES))]
Guardian = Annotated[Principal, Depends(require_roles("guardian"))]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _mongo(request: Request) -> Mongo:
    return _runtime(request).mongo


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
Store = Annotated[Mongo, Depends(_mongo)]


def config_dependency(kind: type[C]) -> Callable[[Request], C]:
    """A dependency that hands a route the service's configuration (ServiceDefinition.config):
    `ConfigDep = Annotated[Config, Depends(config_dependency(Config))]`."""

    def dependency(request: Request) -> C:
        config = _runtime(request).config
        if not isinstance(config, kind):
            raise TypeError(f"the service was built without a {kind.__name__}")
        return config

    return dependency


def _now() -> datetime:
    # MongoDB keeps milliseconds: answer with the time that is stored.
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


Now = Annotated[datetime, Depends(_now)]


def out_of_reach(principal: Principal, what: str) -> DomainError:
    """The one answer for a record of the caller's district that the caller may not reach.

    A guardian learns nothing of other families' records: 404, as if it did not exist. Staff
    know the school's records exist and are told they may not act on them: 403. A record of
    another district is always 404 (raise NotFound before asking this).
    (docs/decisions/0005-platform-v2.md)
    """
    if principal.is_guardian and not principal.has_any(*STAFF_ROLES, "educator"):
        return NotFound(f"no {what}")
    return Forbidden(f"this {what} is outside your schools or classrooms")
