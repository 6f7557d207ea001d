"""Siblings back to back: one conference per child, across their teachers, in a time range.

Among the free slots of each child's teachers, the plan takes one per child so that no two
overlap, with the fewest changes of building first, then the smallest total gap, then the
earliest start. The search is exhaustive but bounded: a guardian has few children and a
range of a few hours holds few slots per teacher (decision 0310).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

MAX_CHILDREN = 6
MAX_OPTIONS = 24  # per child: the nearest free slots in the range
MAX_PLANS = 200_000


@dataclass(frozen=True)
class Option:
    student_id: str
    slot_id: str
    classroom_id: str
    school_id: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Plan:
    options: tuple[Option, ...]  # in time order
    gap_minutes: int
    building_changes: int

    @property
    def starts_at(self) -> datetime:
        return self.options[0].starts_at


def _score(options: tuple[Option, ...]) -> tuple[int, int, datetime] | None:
    ordered = sorted(options, key=lambda o: o.starts_at)
    gap = 0
    changes = 0
    for first, second in itertools.pairwise(ordered):
        if second.starts_at < first.ends_at:
            return None
        gap += int((second.starts_at - first.ends_at).total_seconds() // 60)
        changes += first.school_id != second.school_id
    return changes, gap, ordered[0].starts_at


def best_plans(options: dict[str, list[Option]], *, count: int = 3) -> list[Plan]:
    """The best `count` sets of one option per child without overlaps, best first."""
    if not options or any(not found for found in options.values()):
        return []
    lists = [sorted(found, key=lambda o: o.starts_at)[:MAX_OPTIONS] for found in options.values()]
    scored: list[tuple[tuple[int, int, datetime], tuple[Option, ...]]] = []
    for tried, combo in enumerate(itertools.product(*lists)):
        if tried >= MAX_PLANS:
            break
        score = _score(combo)
        if score is not None:
            scored.append((score, combo))
    scored.sort(key=lambda s: s[0])
    return [
        Plan(
            options=tuple(sorted(combo, key=lambda o: o.starts_at)),
            gap_minutes=score[1],
            building_changes=score[0],
        )
        for score, combo in scored[:count]
    ]
