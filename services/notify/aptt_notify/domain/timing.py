"""When messages may go out: reminder times and quiet hours, in the school's time zone.

Pure functions with an explicit `now`; every datetime in and out is aware and in UTC unless
the name says local. Wall-clock rules ("a week before, same time") are computed in the
school's zone so they hold across daylight-saving changes; "two hours before" is a duration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    """A daily window with no messages, in local wall-clock time; it may wrap midnight."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("quiet hours must start and end at different times")

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    @classmethod
    def parse(cls, start: str, end: str) -> QuietHours:
        return cls(time.fromisoformat(start), time.fromisoformat(end))

    def as_strings(self) -> tuple[str, str]:
        return self.start.strftime("%H:%M"), self.end.strftime("%H:%M")


DEFAULT_QUIET_HOURS = QuietHours(time(21, 0), time(8, 0))


def local_wall_time(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


def _at_local(day: datetime, at: time, zone: ZoneInfo) -> datetime:
    """`at` on the local date of `day`, in UTC. A wall time skipped by a spring-forward
    gap resolves after the gap, and a repeated one to its first occurrence (fold=0)."""
    naive = datetime.combine(day.date(), at)
    aware = naive.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC)


def quiet_until(now: datetime, zone: ZoneInfo, quiet: QuietHours | None) -> datetime | None:
    """The end of the quiet window `now` falls in, or None when messages may go now."""
    if quiet is None:
        return None
    local = local_wall_time(now, zone)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return None
    end_day = local
    wraps = quiet.start > quiet.end
    if wraps and local.time().replace(tzinfo=None) >= quiet.start:
        end_day = local + timedelta(days=1)
    end = _at_local(end_day, quiet.end, zone)
    if end <= now:
        # A window ending in the hour that repeats when clocks fall back: during the
        # repeat we are past its first occurrence, so it ends at the second one.
        end = datetime.combine(end_day.date(), quiet.end).replace(tzinfo=zone, fold=1)
        end = end.astimezone(UTC)
    return end if end > now else None


class ReminderOffset(StrEnum):
    WEEK = "7d"
    DAY = "1d"
    TWO_HOURS = "2h"


REMINDER_OFFSETS: tuple[ReminderOffset, ...] = (
    ReminderOffset.WEEK,
    ReminderOffset.DAY,
    ReminderOffset.TWO_HOURS,
)


def reminder_time(starts_at: datetime, offset: ReminderOffset, zone: ZoneInfo) -> datetime:
    """When a reminder is due: 7 and 1 days before at the same local time, 2 hours before."""
    if offset is ReminderOffset.TWO_HOURS:
        return (starts_at - timedelta(hours=2)).astimezone(UTC)
    days = 7 if offset is ReminderOffset.WEEK else 1
    local = local_wall_time(starts_at, zone)
    earlier = (local.replace(tzinfo=None) - timedelta(days=days)).replace(tzinfo=zone, fold=0)
    return earlier.astimezone(UTC)


def reminders_due(
    starts_at: datetime, now: datetime, zone: ZoneInfo
) -> list[tuple[ReminderOffset, datetime]]:
    """The reminders still ahead of `now` for a meeting, earliest first."""
    return [
        (offset, due)
        for offset in REMINDER_OFFSETS
        if (due := reminder_time(starts_at, offset, zone)) > now and due < starts_at
    ]


class Timing(StrEnum):
    SEND = "send"
    DEFER = "defer"
    EXPIRED = "expired"


@dataclass(frozen=True)
class SendTime:
    timing: Timing
    at: datetime  # now for SEND, the time to try again for DEFER, the expiry for EXPIRED


def when_to_send(
    *, now: datetime, zone: ZoneInfo, quiet: QuietHours | None, expires_at: datetime | None
) -> SendTime:
    """Send now, wait for the end of quiet hours, or give up because it would come too late."""
    if expires_at is not None and now >= expires_at:
        return SendTime(Timing.EXPIRED, expires_at)
    until = quiet_until(now, zone, quiet)
    if until is None:
        return SendTime(Timing.SEND, now)
    if expires_at is not None and until >= expires_at:
        return SendTime(Timing.EXPIRED, expires_at)
    return SendTime(Timing.DEFER, until)


def hour_bucket(now: datetime) -> str:
    """The clock hour (UTC) a send is counted in for rate limits."""
    return now.astimezone(UTC).strftime("%Y%m%d%H")


def next_hour(now: datetime) -> datetime:
    utc = now.astimezone(UTC)
    return utc.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def retry_delay(attempt: int, *, base_seconds: float, max_seconds: float) -> timedelta:
    """Exponential backoff after the `attempt`-th failed try (1-based)."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempt - 1, 0), max_seconds))
