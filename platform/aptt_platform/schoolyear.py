"""The school year a day belongs to: one definition for every service and the web.

Scheduling's programmes (home visits, calendars, family events), data's outcome figures and
the pages name a school year the same way ("2026-2027") and place a day in it the same way,
so a home visit, a family event and an attendance figure of one day count in one year
(decision 0020). A school's engagement calendar still lays its own months out from its
template's start month; this is the year a day is counted in where no calendar says more.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

# August to July: where most US districts start instruction, and where the data service's
# outcome figures always counted from.
START_MONTH = 8
_NAME = re.compile(r"^\d{4}-\d{4}$")


def school_year_of(day: date) -> str:
    """The school year `day` falls in: 2026-10-01 and 2027-07-31 are both in 2026-2027."""
    first = day.year if day.month >= START_MONTH else day.year - 1
    return f"{first}-{first + 1}"


def first_year(school_year: str) -> int:
    """The calendar year a school year such as 2026-2027 starts in; ValueError otherwise."""
    if not _NAME.match(school_year) or int(school_year[5:]) != int(school_year[:4]) + 1:
        raise ValueError("a school year is written as two consecutive years, such as 2026-2027")
    return int(school_year[:4])


def school_year_span(school_year: str) -> tuple[date, date]:
    """The first and last day of a school year."""
    first = first_year(school_year)
    return date(first, START_MONTH, 1), date(first + 1, START_MONTH, 1) - timedelta(days=1)


def checked(school_year: str) -> str:
    """`school_year` when it names two consecutive years, else ValueError: as a request
    field's validator (pydantic's AfterValidator) it makes 1900-1900 a 422, not a 500 later."""
    first_year(school_year)
    return school_year
