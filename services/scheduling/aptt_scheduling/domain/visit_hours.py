"""Educators' paid hours for home visits: time outside the school day, per pay period.

Every minute is placed on the school's wall clock (its IANA zone), so a pay period across a
daylight-saving change counts each visit by the hours the school kept that day.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aptt_platform.errors import DomainError

MAX_PERIOD_DAYS = 62


@dataclass(frozen=True)
class SchoolDay:
    """The hours a school keeps on its teaching weekdays (0 = Monday)."""

    starts: time
    ends: time
    weekdays: frozenset[int] = frozenset(range(5))


@dataclass(frozen=True)
class WorkedVisit:
    visit_id: str
    educator_ids: tuple[str, ...]
    started_at: datetime
    ended_at: datetime
    travel_minutes: int | None


@dataclass(frozen=True)
class EducatorHours:
    educator_id: str
    visits: int
    visit_minutes: int
    outside_school_day_minutes: int
    travel_minutes: int

    @property
    def paid_hours(self) -> float:
        """Hours outside the school day plus travel, to the hundredth."""
        return round((self.outside_school_day_minutes + self.travel_minutes) / 60, 2)


def check_period(first: date, last: date) -> None:
    if last < first:
        raise DomainError("a pay period ends on or after its first day", code="bad-period")
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise DomainError(f"a pay period is at most {MAX_PERIOD_DAYS} days", code="bad-period")


def period_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants of a pay period given in the school's local dates (last day included)."""
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def minutes_outside(start: datetime, end: datetime, zone: ZoneInfo, day: SchoolDay) -> int:
    """Minutes of [start, end) outside the school day, read on the school's wall clock."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    inside = timedelta(0)
    local_start = start.astimezone(zone)
    local_end = end.astimezone(zone)
    current = local_start.date()
    while current <= local_end.date():
        if current.weekday() in day.weekdays:
            # In UTC: Python subtracts two times of one zone by their wall clocks.
            opens = datetime.combine(current, day.starts, tzinfo=zone).astimezone(UTC)
            closes = datetime.combine(current, day.ends, tzinfo=zone).astimezone(UTC)
            overlap = min(end, closes) - max(start, opens)
            if overlap > timedelta(0):
                inside += overlap
        current += timedelta(days=1)
    total = end - start
    return int((total - inside).total_seconds() // 60)


def hours_by_educator(
    visits: Iterable[WorkedVisit], zone: ZoneInfo, day: SchoolDay
) -> list[EducatorHours]:
    """Each educator of each pair is paid for the whole visit."""
    totals: dict[str, list[int]] = {}
    for visit in visits:
        worked = int((visit.ended_at - visit.started_at).total_seconds() // 60)
        outside = minutes_outside(visit.started_at, visit.ended_at, zone, day)
        for educator_id in visit.educator_ids:
            row = totals.setdefault(educator_id, [0, 0, 0, 0])
            row[0] += 1
            row[1] += worked
            row[2] += outside
            row[3] += visit.travel_minutes or 0
    return [EducatorHours(educator_id, *row) for educator_id, row in sorted(totals.items())]


CSV_COLUMNS = (
    "educator_id",
    "period_first_day",
    "period_last_day",
    "visits",
    "visit_minutes",
    "outside_school_day_minutes",
    "travel_minutes",
    "paid_hours",
)


def payroll_csv(rows: Iterable[EducatorHours], first: date, last: date) -> str:
    """Ids and numbers only: payroll joins educator ids to people in its own system."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.educator_id,
                first.isoformat(),
                last.isoformat(),
                row.visits,
                row.visit_minutes,
                row.outside_school_day_minutes,
                row.travel_minutes,
                f"{row.paid_hours:.2f}",
            ]
        )
    return out.getvalue()
