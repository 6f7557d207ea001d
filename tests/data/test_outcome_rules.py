"""The rules of outcome figures, without servers: withholding small counts so that none can
be worked out from a total, Student's t, Welch's interval, a student's growth."""

from __future__ import annotations

import math
from datetime import date

from aptt_data.domain.outcomes import (
    MeetingAttendance,
    attendance,
    compare_growth,
    growth_of,
    suppress,
    t_quantile,
)


def test_one_small_count_takes_the_next_smallest_with_it() -> None:
    shown = suppress({"mother": 30, "father": 12, "grandparent": 4, "other": 11}, 10)
    assert shown == {"mother": 30, "father": 12, "grandparent": None, "other": None}
    # 57 shown as the total: 57 - 30 - 12 = 15 is grandparent + other, not either one.


def test_two_small_counts_hide_each_other_and_none_changes_nothing() -> None:
    assert suppress({"a": 3, "b": 4, "c": 20}, 5) == {"a": None, "b": None, "c": 20}
    assert suppress({"a": 5, "b": 6}, 5) == {"a": 5, "b": 6}
    assert suppress({"a": 0, "b": 40}, 10) == {"a": None, "b": None}


def test_a_scope_where_too_few_families_came_shows_only_its_size() -> None:
    meeting = MeetingAttendance("m", "c", "s", date(2026, 10, 1), 20, 4, {"mother": 4})
    found = attendance([meeting], by="meeting", minimum=5)
    assert (found.suppressed, found.attended, found.rate, found.rows) == (True, None, None, [])
    assert (found.meetings, found.families) == (1, 20)


def test_students_t_matches_the_printed_tables() -> None:
    for df, expected in ((1, 12.706), (2, 4.303), (10, 2.228), (22, 2.074), (120, 1.980)):
        assert math.isclose(t_quantile(0.975, df), expected, abs_tol=1e-3)


def test_welchs_interval_on_unequal_groups() -> None:
    # Means 14 and 10, variances 10 and 2.5, n 5 and 5: se = sqrt(2.5), df = 6.25 / 1.0625.
    found = compare_growth([10, 12, 14, 16, 18], [8, 9, 10, 11, 12], minimum=5)
    assert (found.difference, found.df) == (4.0, round(6.25 / 1.0625, 2))
    half = t_quantile(0.975, 6.25 / 1.0625) * math.sqrt(2.5)
    assert math.isclose(found.ci_low or 0, 4 - half, abs_tol=1e-3)
    assert math.isclose(found.ci_high or 0, 4 + half, abs_tol=1e-3)
    small = compare_growth([1, 2, 3], [1, 2, 3, 4, 5], minimum=5)
    assert (small.suppressed, small.difference, small.aptt.n, small.aptt.mean) == (
        True,
        None,
        3,
        None,
    )


def test_growth_needs_two_results_on_two_days() -> None:
    assert growth_of([(date(2026, 9, 1), 40.0)]) is None
    assert growth_of([(date(2026, 9, 1), 40.0), (date(2026, 9, 1), 44.0)]) is None
    assert growth_of([(date(2027, 1, 5), 61.0), (date(2026, 9, 1), 40.0)]) == 21.0
