"""Use cases of the scheduling service: one function per command or handled event.

Each runs in a unit of work (`Mongo.run`): what it writes and the events it publishes commit
together. Callers pass `now`, so every rule about time is decided once, by the caller's clock.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    """The service's settings the use cases need, handed to routes and handlers."""

    default_timezone: str = "America/Los_Angeles"
    attendance_opens_minutes_before: int | None = None
