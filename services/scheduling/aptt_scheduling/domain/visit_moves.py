"""Moving a home visit that has not taken place (decision 0326).

The visit keeps its id, pair, place and history; it goes back to the family's choice, or to
the pair confirming a time the family offered. A move never fixes a time by itself: the time
is fixed, and the educators' blocks claimed (decision 0321), only when the family picks one
of the pair's times or the pair confirms one of the family's.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from aptt_contracts.scheduling import VisitActor, VisitMoved
from aptt_platform.errors import Conflict, DomainError

from aptt_scheduling.domain.visits import HomeVisit, VisitStatus

# After three moves a visit is better cancelled and proposed afresh with the family.
MAX_MOVES = 3
FAMILY_TIMES = 2


def move(
    visit: HomeVisit, *, times: tuple[datetime, ...], role: VisitActor, now: datetime
) -> HomeVisit:
    """The family asks for another time (offers one or two, or none: the pair proposes), or
    the pair or a coordinator offers two or three new times."""
    if not visit.pending:
        raise Conflict(f"the visit is {visit.status}", code=f"visit-{visit.status}")
    if visit.starts_at is not None and visit.starts_at <= now:
        raise Conflict(
            "the visit's time has come: mark it done or missed", code="visit-time-passed"
        )
    if visit.moves >= MAX_MOVES:
        raise Conflict(
            f"a visit is moved at most {MAX_MOVES} times; cancel it and propose a new one",
            code="too-many-moves",
        )
    at = tuple(sorted(t.astimezone(UTC) for t in times))
    if len(set(at)) != len(at):
        raise DomainError("the times must be different", code="same-time-twice")
    if any(t <= now for t in at):
        raise DomainError("new times must be in the future", code="time-in-the-past")
    status: VisitStatus
    if role == "family":
        if visit.status != "scheduled":
            raise Conflict(
                "the visit has no time yet: choose one or offer another", code="visit-not-scheduled"
            )
        if len(at) > FAMILY_TIMES:
            raise DomainError(
                "offer one or two times, or none to ask for new ones", code="one-or-two-times"
            )
        status = "counter_proposed" if at else "times_requested"
        moved = replace(
            visit,
            status=status,
            proposed_times=(),
            family_times=at,
            family_time=min(at, default=None),
        )
    else:
        if not 2 <= len(at) <= 3:
            raise DomainError("propose two or three different times", code="two-or-three-times")
        status = "proposed"
        moved = replace(visit, status=status, proposed_times=at, family_times=(), family_time=None)
    moved = replace(moved, starts_at=None, moves=visit.moves + 1, updated_at=now, events=[])
    moved.events.append(
        VisitMoved(
            district_id=visit.district_id,
            visit_id=visit.visit_id,
            student_id=visit.student_id,
            guardian_id=visit.guardian_id,
            school_id=visit.school_id,
            educator_ids=list(visit.educator_ids),
            previous_starts_at=visit.starts_at,
            status=status,
            times=list(at),
            duration_minutes=visit.duration_minutes,
            moved_by=role,
            moves=moved.moves,
        )
    )
    return moved
