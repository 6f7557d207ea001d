"""Class reports: the private-number draw, score bands, growth and small-group suppression.

Bands (docs/decisions/0203-class-reports.md), for a skill where a higher score is better:
well below < 80% of the benchmark <= below < 100% <= at < 110% <= above. For a skill where
lower is better the ratio is inverted (benchmark / score).
"""

from __future__ import annotations

import secrets
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

# The band rule is shared with scheduling's home-visit coverage.
from aptt_contracts.skills import BANDS, Band
from aptt_contracts.skills import band_of as band_of

TOO_FEW_SCORES = "too-few-scores"
NO_BENCHMARK = "no-benchmark"
MAX_DRAWS = 20


@dataclass(frozen=True)
class Entry:
    """One student's line in a class report; never leaves the service with the student id
    except to notify, on the restricted private-numbers topic."""

    student_id: str
    number: int
    guardian_ids: tuple[str, ...] = ()
    score: float | None = None
    assessed_on: date | None = None
    previous_score: float | None = None

    @property
    def growth(self) -> float | None:
        if self.score is None or self.previous_score is None:
            return None
        return round(self.score - self.previous_score, 2)


@dataclass(frozen=True)
class Bar:
    number: int
    score: float | None
    previous_score: float | None
    growth: float | None
    band: Band | None


@dataclass(frozen=True)
class Figures:
    benchmark: float | None
    suppressed: bool
    suppressed_reason: str | None
    bands: dict[Band, int]
    student_count: int
    scored_count: int
    compared_count: int  # students with a score now and in the previous report
    median_growth: float | None
    bars: tuple[Bar, ...]


def figures(
    entries: Sequence[Entry],
    *,
    benchmark: float | None,
    higher_is_better: bool,
    min_group_size: int,
) -> Figures:
    """The anonymous content of a report: nothing when too few scores would expose anyone."""
    scored = [e for e in entries if e.score is not None]
    reason = None
    if len(scored) < min_group_size:
        reason = TOO_FEW_SCORES
    elif benchmark is None or benchmark <= 0:
        reason = NO_BENCHMARK
    if reason is not None:
        return Figures(benchmark, True, reason, {}, len(entries), len(scored), 0, None, ())
    assert benchmark is not None
    bands: dict[Band, int] = dict.fromkeys(BANDS, 0)
    bars = []
    for entry in sorted(entries, key=lambda e: e.number):
        band = None
        if entry.score is not None:
            band = band_of(entry.score, benchmark, higher_is_better=higher_is_better)
            bands[band] += 1
        bars.append(Bar(entry.number, entry.score, entry.previous_score, entry.growth, band))
    growths = [e.growth for e in entries if e.growth is not None]
    median = round(statistics.median(growths), 2) if growths else None
    return Figures(
        benchmark, False, None, bands, len(entries), len(scored), len(growths), median, tuple(bars)
    )


def draw_numbers(
    student_ids: Iterable[str], *, previous: Mapping[str, int] | None = None
) -> dict[str, int]:
    """A fresh random private number 1..n for each student, from the system's CSPRNG.

    A draw that happens to repeat the previous meeting's numbers exactly is drawn again,
    so families can never link one meeting's chart to the next.
    """
    students = sorted(set(student_ids))
    rng = secrets.SystemRandom()
    numbers = list(range(1, len(students) + 1))
    for _ in range(MAX_DRAWS):
        rng.shuffle(numbers)
        draw = dict(zip(students, numbers, strict=True))
        if len(students) < 2 or not previous or any(previous.get(s) != n for s, n in draw.items()):
            return draw
    return draw


def number_newcomers(used: Iterable[int], newcomers: Iterable[str]) -> dict[str, int]:
    """Students who join before the meeting get numbers no one in this report has had."""
    students = sorted(set(newcomers))
    start = max(used, default=0) + 1
    numbers = list(range(start, start + len(students)))
    secrets.SystemRandom().shuffle(numbers)
    return dict(zip(students, numbers, strict=True))


def with_scores(
    entry: Entry,
    *,
    latest: tuple[float, date] | None,
    previous_score: float | None,
    guardian_ids: Sequence[str],
) -> Entry:
    return replace(
        entry,
        score=latest[0] if latest else None,
        assessed_on=latest[1] if latest else None,
        previous_score=previous_score,
        guardian_ids=tuple(sorted(guardian_ids)),
    )


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()
