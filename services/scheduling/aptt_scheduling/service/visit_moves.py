"""Moving a home visit: the family asks for another time, or the pair offers new ones
(decision 0326)."""

from __future__ import annotations

from datetime import datetime

from aptt_platform.auth import Principal
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.domain import visit_moves as rules
from aptt_scheduling.service.visit_access import visit_access
from aptt_scheduling.service.visits import VisitView, actor_of, check_pair_is_free, view_of
from aptt_scheduling.store import visits as store


async def move_visit(
    uow: UnitOfWork,
    *,
    principal: Principal,
    visit_id: str,
    times: tuple[datetime, ...],
    now: datetime,
) -> VisitView:
    """The visit goes back to the family's choice (or the pair's confirmation) and frees the
    pair's time; the conditional save makes a racing move or choice retry."""
    visit, standing = await visit_access(uow, principal, visit_id, "pair", "coordinator", "family")
    moved = rules.move(visit, times=times, role=actor_of(standing), now=now)
    await store.release_blocks(uow, visit)
    if moved.status == "proposed":
        # Read after the release, inside the transaction, so the visit's own old time is free.
        await check_pair_is_free(
            uow,
            district_id=visit.district_id,
            school_id=visit.school_id,
            school_year=visit.school_year,
            educator_ids=visit.educator_ids,
            times=moved.proposed_times,
            duration_minutes=visit.duration_minutes,
        )
    await store.save_visit(uow, visit, moved)
    return await view_of(uow, moved, standing)
