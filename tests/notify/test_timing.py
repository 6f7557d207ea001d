"""Quiet hours and reminder times: pure rules, checked around daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from aptt_notify.domain.timing import (
    DEFAULT_QUIET_HOURS,
    QuietHours,
    ReminderOffset,
    Timing,
    quiet_until,
    reminder_time,
    reminders_due,
    when_to_send,
)

LA = ZoneInfo("America/Los_Angeles")
MADRID = ZoneInfo("Europe/Madrid")


def local(zone: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=zone, fold=fold).astimezone(UTC)  # type: ignore[misc]


def test_daytime_sends_now() -> None:
    now = local(LA, 2026, 10, 14, 12, 0)
    assert quiet_until(now, LA, DEFAULT_QUIET_HOURS) is None
    assert when_to_send(now=now, zone=LA, quiet=DEFAULT_QUIET_HOURS, expires_at=None).timing is (
        Timing.SEND
    )


@pytest.mark.parametrize(
    ("hour", "minute", "end_day"),
    [(21, 0, 15), (23, 59, 15), (0, 0, 15), (7, 59, 15)],
)
def test_evening_and_early_morning_wait_for_eight(hour: int, minute: int, end_day: int) -> None:
    day = 14 if hour >= 21 else 15
    now = local(LA, 2026, 10, day, hour, minute)
    assert quiet_until(now, LA, DEFAULT_QUIET_HOURS) == local(LA, 2026, 10, end_day, 8, 0)


def test_eight_sharp_and_just_before_nine_pm_are_allowed() -> None:
    assert quiet_until(local(LA, 2026, 10, 15, 8, 0), LA, DEFAULT_QUIET_HOURS) is None
    assert quiet_until(local(LA, 2026, 10, 15, 20, 59), LA, DEFAULT_QUIET_HOURS) is None


def test_no_quiet_hours_means_any_time() -> None:
    assert quiet_until(local(LA, 2026, 10, 15, 3, 0), LA, None) is None


def test_a_window_that_does_not_wrap_midnight() -> None:
    siesta = QuietHours(time(13, 0), time(15, 0))
    assert quiet_until(local(MADRID, 2026, 6, 1, 14, 0), MADRID, siesta) == local(
        MADRID, 2026, 6, 1, 15, 0
    )
    assert quiet_until(local(MADRID, 2026, 6, 1, 16, 0), MADRID, siesta) is None


def test_equal_start_and_end_is_refused() -> None:
    with pytest.raises(ValueError, match="different"):
        QuietHours(time(8, 0), time(8, 0))


def test_quiet_night_before_spring_forward_ends_at_eight_new_time() -> None:
    # 2026-03-08 02:00 PST -> 03:00 PDT in Los Angeles: the night is an hour shorter.
    now = local(LA, 2026, 3, 7, 23, 0)
    end = quiet_until(now, LA, DEFAULT_QUIET_HOURS)
    assert end == datetime(2026, 3, 8, 15, 0, tzinfo=UTC)  # 08:00 PDT is UTC-7
    assert end is not None
    assert end - now == timedelta(hours=8)


def test_quiet_night_before_fall_back_ends_at_eight_old_time() -> None:
    # 2026-11-01 02:00 PDT -> 01:00 PST: the night is an hour longer.
    now = local(LA, 2026, 10, 31, 23, 0)
    end = quiet_until(now, LA, DEFAULT_QUIET_HOURS)
    assert end == datetime(2026, 11, 1, 16, 0, tzinfo=UTC)  # 08:00 PST is UTC-8
    assert end is not None
    assert end - now == timedelta(hours=10)


def test_window_ending_inside_the_spring_forward_gap_ends_after_the_gap() -> None:
    quiet = QuietHours(time(22, 0), time(2, 30))  # 02:30 does not exist on 2026-03-08
    end = quiet_until(local(LA, 2026, 3, 8, 1, 0), LA, quiet)
    assert end == datetime(2026, 3, 8, 10, 30, tzinfo=UTC)  # 03:30 PDT, just after the gap
    assert end.astimezone(LA).hour == 3


def test_window_ending_in_the_repeated_hour_ends_at_its_second_occurrence_when_needed() -> None:
    quiet = QuietHours(time(22, 0), time(1, 30))  # 01:30 happens twice on 2026-11-01
    first = local(LA, 2026, 11, 1, 1, 10, fold=0)  # PDT
    second = local(LA, 2026, 11, 1, 1, 10, fold=1)  # PST, an hour later
    assert quiet_until(first, LA, quiet) == local(LA, 2026, 11, 1, 1, 30, fold=0)
    assert quiet_until(second, LA, quiet) == local(LA, 2026, 11, 1, 1, 30, fold=1)


def test_week_and_day_reminders_keep_the_local_time_across_fall_back() -> None:
    starts = local(LA, 2026, 11, 3, 18, 0)  # Tuesday after the change, 18:00 PST
    week = reminder_time(starts, ReminderOffset.WEEK, LA)
    assert week.astimezone(LA).replace(tzinfo=None) == datetime(2026, 10, 27, 18, 0)
    assert starts - week == timedelta(days=7, hours=1)  # one hour more than a plain week
    day = reminder_time(starts, ReminderOffset.DAY, LA)
    assert day.astimezone(LA).replace(tzinfo=None) == datetime(2026, 11, 2, 18, 0)


def test_week_reminder_keeps_the_local_time_across_spring_forward() -> None:
    starts = local(MADRID, 2026, 4, 1, 17, 30)  # Europe moves clocks on 2026-03-29
    week = reminder_time(starts, ReminderOffset.WEEK, MADRID)
    assert week.astimezone(MADRID).replace(tzinfo=None) == datetime(2026, 3, 25, 17, 30)
    assert starts - week == timedelta(days=7, hours=-1)


def test_two_hour_reminder_is_two_real_hours_even_across_a_change() -> None:
    starts = local(LA, 2026, 3, 8, 3, 30)  # 03:30 PDT, right after the gap
    two = reminder_time(starts, ReminderOffset.TWO_HOURS, LA)
    assert starts - two == timedelta(hours=2)
    assert two.astimezone(LA).replace(tzinfo=None) == datetime(2026, 3, 8, 0, 30)


def test_reminders_already_past_are_skipped() -> None:
    starts = local(LA, 2026, 10, 20, 18, 0)
    now = local(LA, 2026, 10, 16, 9, 0)  # four days before: the week reminder is past
    assert [o for o, _ in reminders_due(starts, now, LA)] == [
        ReminderOffset.DAY,
        ReminderOffset.TWO_HOURS,
    ]
    assert reminders_due(starts, starts, LA) == []


def test_a_message_deferred_past_its_deadline_expires() -> None:
    # A 2-hour reminder for a 07:30 meeting falls at 05:30, in quiet hours until 08:00.
    now = local(LA, 2026, 10, 15, 5, 30)
    meeting = local(LA, 2026, 10, 15, 7, 30)
    decision = when_to_send(now=now, zone=LA, quiet=DEFAULT_QUIET_HOURS, expires_at=meeting)
    assert decision.timing is Timing.EXPIRED
    later = local(LA, 2026, 10, 15, 9, 0)
    deferred = when_to_send(now=now, zone=LA, quiet=DEFAULT_QUIET_HOURS, expires_at=later)
    assert (deferred.timing, deferred.at) == (Timing.DEFER, local(LA, 2026, 10, 15, 8, 0))
