"""Home-visit rules without servers: the educators' time grid, answers, paid minutes on the
school's clock, and the hypergeometric tail of the coverage report."""

from __future__ import annotations

from datetime import UTC, datetime, time
from math import comb
from zoneinfo import ZoneInfo

import pytest
from aptt_contracts.skills import Band
from aptt_scheduling.domain.visit_coverage import skew, upper_tail
from aptt_scheduling.domain.visit_hours import SchoolDay, minutes_outside
from aptt_scheduling.domain.visits import Invitation, answer, blocks

LA = ZoneInfo("America/Los_Angeles")
DAY = SchoolDay(starts=time(8), ends=time(15))


def test_a_visit_claims_every_quarter_hour_it_touches() -> None:
    start = datetime(2026, 12, 3, 17, 50, tzinfo=UTC)
    assert blocks(start, 60) == [
        datetime(2026, 12, 3, 17, 45, tzinfo=UTC),
        datetime(2026, 12, 3, 18, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 18, 15, tzinfo=UTC),
        datetime(2026, 12, 3, 18, 30, tzinfo=UTC),
        datetime(2026, 12, 3, 18, 45, tzinfo=UTC),
    ]


def test_a_no_after_a_yes_is_a_withdrawal_and_the_same_answer_changes_nothing() -> None:
    now = datetime(2026, 12, 2, tzinfo=UTC)
    invited = Invitation("vi-1", "s", "c", "2026-2027", "stu", ("g1", "g2"), now)
    yes = answer(invited, guardian_id="g2", yes=True, channel="sms", now=now)
    assert (yes.status, yes.answered_by, yes.answer_channel) == ("accepted", "g2", "sms")
    assert answer(yes, guardian_id="g1", yes=True, channel="web", now=now) is yes
    assert answer(yes, guardian_id="g1", yes=False, channel="web", now=now).status == "withdrawn"
    assert answer(invited, guardian_id="g1", yes=False, channel="web", now=now).status == "declined"


def test_paid_minutes_follow_the_school_clock_on_the_spring_change() -> None:
    # Monday 15 March 2027, the day after Los Angeles moved to UTC-7: 14:00-16:00 local.
    start = datetime(2027, 3, 15, 21, 0, tzinfo=UTC)
    end = datetime(2027, 3, 15, 23, 0, tzinfo=UTC)
    assert minutes_outside(start, end, LA, DAY) == 60
    # Saturday: every minute is outside the school day.
    saturday = datetime(2027, 3, 13, 18, 0, tzinfo=UTC)
    assert minutes_outside(saturday, saturday.replace(hour=19), LA, DAY) == 60


def test_the_hypergeometric_tail_matches_the_counting_formula() -> None:
    assert upper_tail(20, 10, 6, 6) == pytest.approx(comb(10, 6) / comb(20, 6))
    assert upper_tail(20, 10, 6, 0) == pytest.approx(1.0)
    expected = sum(comb(10, i) * comb(10, 6 - i) for i in range(3, 7)) / comb(20, 6)
    assert upper_tail(20, 10, 6, 3) == pytest.approx(expected)


def test_a_skew_towards_the_strong_students_is_not_called_targeting() -> None:
    bands: dict[str, Band] = {f"s{i}": ("well_below" if i < 10 else "above") for i in range(20)}
    report = skew(bands, {f"s{i}" for i in range(10, 16)}, min_group=5)
    assert report.flagged is False
    assert report.visited_struggling == 0
