"""One school year for every service: a day lands in the same year wherever it is counted."""

from __future__ import annotations

from datetime import date

import pytest
from aptt_platform.schoolyear import first_year, school_year_of, school_year_span


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2026, 8, 1), "2026-2027"),
        (date(2026, 12, 31), "2026-2027"),
        (date(2027, 1, 1), "2026-2027"),
        # Summer school and a July home visit still belong to the year that is ending.
        (date(2027, 7, 31), "2026-2027"),
        (date(2026, 7, 31), "2025-2026"),
    ],
)
def test_a_day_belongs_to_the_school_year_that_starts_in_august(day: date, year: str) -> None:
    assert school_year_of(day) == year


def test_a_school_year_spans_its_first_to_its_last_day_and_holds_both() -> None:
    first, last = school_year_span("2026-2027")
    assert (first, last) == (date(2026, 8, 1), date(2027, 7, 31))
    assert school_year_of(first) == school_year_of(last) == "2026-2027"


@pytest.mark.parametrize("bad", ["2026-2028", "2026", "26-27", "2026/2027", "abcd-efgh"])
def test_a_school_year_not_written_as_two_consecutive_years_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="two consecutive years"):
        first_year(bad)
