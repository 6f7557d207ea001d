"""Closing goals whose end date has passed: a use case per goal, and one pass over what is due.

Each goal closes in its own transaction, conditional on being still active and due, so two
replicas running the pass, or a pass re-run after a crash, close it and publish GoalClosed
once. The loop that runs the pass is `aptt_goals.workers`.
"""

from __future__ import annotations

from datetime import datetime

from aptt_platform.mongo import Mongo, UnitOfWork

from aptt_goals import store
from aptt_goals.domain import Outcome
from aptt_goals.service import metrics

BATCH = 200


async def due_goals(uow: UnitOfWork, *, now: datetime, limit: int = BATCH) -> list[tuple[str, str]]:
    """(district, goal) pairs of active goals whose end date has passed by `now`."""
    due: list[tuple[str, str]] = []
    for district_id in await store.districts_with_active_goals(uow):
        due.extend((district_id, g) for g in await store.due_goal_ids(uow, district_id, now, limit))
        if len(due) >= limit:
            break
    return due[:limit]


async def close_due_goal(
    uow: UnitOfWork, *, district_id: str, goal_id: str, now: datetime
) -> Outcome | None:
    """Close one goal as met or not met; None when it is not (or no longer) due."""
    goal = await store.get_goal(uow, district_id, goal_id)
    if goal is None or not goal.is_due(now):
        return None
    goal.close(on=goal.ends_on, reason="ended")
    await store.save_goal(uow, goal)
    return goal.outcome


async def close_due_goals(mongo: Mongo, *, now: datetime) -> int:
    """Close every goal due by `now`, batch by batch; returns how many this call closed."""
    closed = 0
    while True:
        due = await mongo.run(due_goals, now=now)
        for district_id, goal_id in due:
            outcome = await mongo.run(
                close_due_goal, district_id=district_id, goal_id=goal_id, now=now
            )
            if outcome is not None:
                metrics.GOALS_CLOSED.labels(outcome, "ended").inc()
                closed += 1
        if len(due) < BATCH:
            return closed
