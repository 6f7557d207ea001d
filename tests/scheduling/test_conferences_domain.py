"""Conference rules without servers: cutting hours into slots, back-to-back plans."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from aptt_platform.errors import DomainError
from aptt_scheduling.domain.conferences import Break, DayRange, cut_slots
from aptt_scheduling.domain.siblings import Option, best_plans

DAY = date(2031, 10, 14)


def test_hours_are_cut_in_the_schools_zone_with_buffers_and_breaks() -> None:
    slots = cut_slots(
        (DayRange(DAY, time(17), time(19), (Break(time(18), time(18, 15)),)),),
        timezone="America/Los_Angeles",
        slot_minutes=25,
        buffer_minutes=5,
    )
    starts = [s.starts_at.strftime("%H:%M") for s in slots]
    # 17:00, 17:30 fit before the break (18:00 would cut into it); then 18:15, 18:45 would
    # end 19:10, past the hours.
    assert starts == ["00:00", "00:30", "01:15"]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=25) for s in slots)


def test_hours_that_overlap_or_end_before_they_start_are_refused() -> None:
    with pytest.raises(DomainError):
        cut_slots(
            (DayRange(DAY, time(17), time(18)), DayRange(DAY, time(17, 30), time(18, 30))),
            timezone="UTC",
            slot_minutes=30,
            buffer_minutes=0,
        )
    with pytest.raises(DomainError):
        cut_slots(
            (DayRange(DAY, time(18), time(17)),), timezone="UTC", slot_minutes=30, buffer_minutes=0
        )


def _option(student: str, school: str, hour: int, minute: int = 0) -> Option:
    start = datetime(2031, 10, 14, hour, minute, tzinfo=UTC)
    return Option(
        student,
        f"{student}-{hour}{minute}",
        f"c-{student}",
        school,
        start,
        start + timedelta(minutes=30),
    )


def test_a_plan_takes_no_gap_and_the_same_building_first() -> None:
    options = {
        "ana": [_option("ana", "north", 17), _option("ana", "north", 18)],
        "ben": [_option("ben", "south", 17, 30), _option("ben", "north", 18, 30)],
    }
    [best, second, third] = best_plans(options, count=3)
    assert [o.slot_id for o in best.options] == ["ana-180", "ben-1830"]
    assert (best.gap_minutes, best.building_changes) == (0, 0)
    # Staying in one building beats a shorter wait: an hour's gap before a change of building.
    assert (second.gap_minutes, second.building_changes) == (60, 0)
    assert (third.gap_minutes, third.building_changes) == (0, 1)


def test_no_plan_when_the_only_slots_overlap() -> None:
    options = {"ana": [_option("ana", "north", 17)], "ben": [_option("ben", "north", 17)]}
    assert best_plans(options) == []
    assert best_plans({"ana": [_option("ana", "north", 17)], "ben": []}) == []
