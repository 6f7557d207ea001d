"""Interpreters as bookable resources: who is free for a slot, and whom to pick.

An interpreter is never in two places at once: the store's unique index on (interpreter,
start) refuses a second reservation at the same start, and the choice below skips anyone
whose reservations overlap the slot. Families of one language are placed next to each other
so one interpreter covers a block (decision 0310).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Interpreter:
    interpreter_id: str
    languages: tuple[str, ...]
    # When the district can call on them, in UTC.
    available: tuple[tuple[datetime, datetime], ...]

    def covers(self, starts_at: datetime, ends_at: datetime) -> bool:
        return any(a <= starts_at and ends_at <= b for a, b in self.available)


@dataclass(frozen=True)
class Reservation:
    interpreter_id: str
    starts_at: datetime
    ends_at: datetime


def free_for(
    interpreters: list[Interpreter],
    reservations: list[Reservation],
    starts_at: datetime,
    ends_at: datetime,
) -> list[Interpreter]:
    """Interpreters available for [starts_at, ends_at) and not reserved in any part of it,
    those who already interpret right before or after first (one block, fewer trips)."""
    busy = {
        r.interpreter_id for r in reservations if r.starts_at < ends_at and starts_at < r.ends_at
    }
    adjacent = {
        r.interpreter_id for r in reservations if r.ends_at == starts_at or r.starts_at == ends_at
    }
    free = [
        i for i in interpreters if i.covers(starts_at, ends_at) and i.interpreter_id not in busy
    ]
    return sorted(free, key=lambda i: (i.interpreter_id not in adjacent, i.interpreter_id))


def next_to_language(
    reservations: list[Reservation], starts_at: datetime, ends_at: datetime
) -> bool:
    """Whether a slot touches a reservation of the language asked for (it joins a block)."""
    return any(r.ends_at == starts_at or r.starts_at == ends_at for r in reservations)
