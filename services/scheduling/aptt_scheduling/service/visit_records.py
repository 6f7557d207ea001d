"""What the pair keeps of a visit (follow-up contacts, the reflection) and the hours it is
paid for (per pay period, approved by a coordinator, exported for payroll)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from aptt_contracts.scheduling import ReflectionRecorded
from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import Conflict, NotFound
from aptt_platform.mongo import Document, UnitOfWork
from aptt_platform.schoolyear import school_year_span

from aptt_scheduling.domain import visit_hours as hours
from aptt_scheduling.domain.visit_hours import EducatorHours, SchoolDay, WorkedVisit
from aptt_scheduling.service.calendars import school_timezone
from aptt_scheduling.service.visit_access import CLOSE, coordinates, oversees, visit_access
from aptt_scheduling.settings import Config
from aptt_scheduling.store import roster
from aptt_scheduling.store import visits as store

FollowUpKind = Literal["call", "note", "meeting", "text"]


async def log_follow_up(
    uow: UnitOfWork,
    *,
    principal: Principal,
    visit_id: str,
    kind: FollowUpKind,
    contacted_on: date,
    now: datetime,
) -> Document:
    """A contact between visits (a call, a note, a meeting), logged on the visit before it."""
    visit, _ = await visit_access(uow, principal, visit_id, *CLOSE)
    follow_up: Document = {
        "visit_id": visit.visit_id,
        "kind": kind,
        "contacted_on": contacted_on.isoformat(),
        "logged_by": principal.subject,
        "logged_at": now,
    }
    await store.add_follow_up(uow, principal.district_id, follow_up)
    follow_up.pop("_id", None)
    return follow_up


@dataclass(frozen=True)
class ReflectionText:
    hopes_learned: str
    class_actions: str
    follow_up_promised: str
    notes: str


async def write_reflection(
    uow: UnitOfWork, *, principal: Principal, visit_id: str, text: ReflectionText, now: datetime
) -> Document:
    """The pair's one reflection on a done visit; writing again revises it. Only the fact
    that it was written is published."""
    visit, _ = await visit_access(uow, principal, visit_id, "pair")
    if visit.status != "done":
        raise Conflict("a reflection follows a visit that took place", code=f"visit-{visit.status}")
    retention = uow.config_as(Config).visit_reflection_retention_days
    _, ends = school_year_span(visit.school_year)
    reflection: Document = {
        "visit_id": visit_id,
        "school_id": visit.school_id,
        **text.__dict__,
        "written_by": principal.subject,
        "written_at": now,
        "delete_at": datetime.combine(ends, time(0), tzinfo=UTC) + timedelta(days=retention + 1),
    }
    await store.save_reflection(uow, principal.district_id, reflection)
    uow.publish(
        ReflectionRecorded(
            district_id=principal.district_id,
            visit_id=visit_id,
            school_id=visit.school_id,
            educator_ids=list(visit.educator_ids),
            recorded_at=now,
        )
    )
    return reflection


async def read_reflection(uow: UnitOfWork, *, principal: Principal, visit_id: str) -> Document:
    """The pair and the school's coordinators only."""
    await visit_access(uow, principal, visit_id, *CLOSE)
    found = await store.get_reflection(uow, principal.district_id, visit_id)
    if found is None:
        raise NotFound("no reflection on this visit yet", code="no-reflection")
    return found


# -- hours ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodHours:
    school_id: str
    first_day: date
    last_day: date
    timezone: str
    rows: list[EducatorHours]
    approved_by: str | None = None
    approved_at: datetime | None = None


async def _school(uow: UnitOfWork, principal: Principal, school_id: str, *, approve: bool) -> str:
    if not await roster.school_is_known(uow, principal.district_id, school_id):
        raise NotFound("no such school in the roster", code="unknown-school")
    allowed = coordinates(principal, school_id) if approve else oversees(principal, school_id)
    if not allowed:
        raise out_of_reach(principal, "school")
    return await school_timezone(uow, principal.district_id, school_id)


async def _compute(
    uow: UnitOfWork, district_id: str, school_id: str, first: date, last: date, timezone: str
) -> list[EducatorHours]:
    hours.check_period(first, last)
    zone = ZoneInfo(timezone)
    start, end = hours.period_bounds(first, last, zone)
    config = uow.config_as(Config)
    day = SchoolDay(starts=config.visit_school_day_starts, ends=config.visit_school_day_ends)
    worked = [
        WorkedVisit(
            visit_id=v.visit_id,
            educator_ids=v.educator_ids,
            started_at=v.started_at,
            ended_at=v.ended_at,
            travel_minutes=v.travel_minutes,
        )
        for v in await store.done_visits(uow, district_id, school_id, start, end)
        if v.started_at is not None and v.ended_at is not None
    ]
    return hours.hours_by_educator(worked, zone, day)


def _rows(approval: Document) -> list[EducatorHours]:
    return [EducatorHours(**row) for row in approval["rows"]]


async def period_hours(
    uow: UnitOfWork, *, principal: Principal, school_id: str, first: date, last: date
) -> PeriodHours:
    """The approved figures when the period is approved, else the figures as they stand."""
    timezone = await _school(uow, principal, school_id, approve=False)
    approval = await store.get_approval(uow, principal.district_id, school_id, first, last)
    if approval is not None:
        return PeriodHours(
            school_id,
            first,
            last,
            timezone,
            _rows(approval),
            approved_by=approval["approved_by"],
            approved_at=approval["approved_at"],
        )
    rows = await _compute(uow, principal.district_id, school_id, first, last, timezone)
    return PeriodHours(school_id, first, last, timezone, rows)


async def approve_hours(
    uow: UnitOfWork,
    *,
    principal: Principal,
    school_id: str,
    first: date,
    last: date,
    now: datetime,
) -> PeriodHours:
    """A coordinator approves a pay period: its figures are frozen for payroll."""
    timezone = await _school(uow, principal, school_id, approve=True)
    rows = await _compute(uow, principal.district_id, school_id, first, last, timezone)
    await store.approve_period(
        uow,
        principal.district_id,
        {
            "school_id": school_id,
            "first_day": datetime(first.year, first.month, first.day),
            "last_day": datetime(last.year, last.month, last.day),
            "rows": [row.__dict__ for row in rows],
            "approved_by": principal.subject,
            "approved_at": now,
        },
    )
    return PeriodHours(
        school_id, first, last, timezone, rows, approved_by=principal.subject, approved_at=now
    )


async def payroll_export(
    uow: UnitOfWork, *, principal: Principal, school_id: str, first: date, last: date
) -> str:
    """The approved period as CSV; a period not approved yet is not exported."""
    await _school(uow, principal, school_id, approve=False)
    approval = await store.get_approval(uow, principal.district_id, school_id, first, last)
    if approval is None:
        raise Conflict(
            "a coordinator approves the period before it is exported", code="not-approved"
        )
    return hours.payroll_csv(_rows(approval), first, last)
