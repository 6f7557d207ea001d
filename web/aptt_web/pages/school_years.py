"""The school years an outcome page offers: this one and the four before it, chosen with
`?year=` (decision 0608)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aptt_platform.schoolyear import school_year_of
from fastapi import Query

Year = Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{4}$", max_length=9)]
# Outcome figures older than five years are rarely asked for; the API still answers them.
YEARS_SHOWN = 5


def recent_years() -> list[str]:
    """This school year and the ones before it, newest first."""
    first = int(school_year_of(date.today())[:4])
    return [f"{y}-{y + 1}" for y in range(first, first - YEARS_SHOWN, -1)]


def chosen_year(asked: str | None) -> str:
    """The school year asked for when the selector offers it, else this one."""
    years = recent_years()
    return asked if asked in years else years[0]
