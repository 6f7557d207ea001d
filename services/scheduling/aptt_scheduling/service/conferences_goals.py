"""Handlers of goals events: the child's current goals and latest progress, which a booking
shows so the child can present them (student-led conferences).

Applied only when newer than what is kept (retries reorder events); a closed goal is a
tombstone, so a late progress event cannot bring it back.
"""

from __future__ import annotations

from aptt_contracts.goals import GoalClosed, GoalMet, GoalProgressed, GoalSet
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.store.conferences import student_goals


async def on_goal_set(uow: UnitOfWork, event: GoalSet, meta: ReceivedEvent) -> None:
    await student_goals.upsert(
        uow,
        event.district_id,
        event.goal_id,
        {
            "student_id": event.student_id,
            "skill_code": event.skill_code,
            "baseline": event.baseline,
            "target": event.target,
            "ends_on": event.ends_on.isoformat(),
            "met": False,
        },
        version=meta.time,
    )


async def on_goal_progressed(uow: UnitOfWork, event: GoalProgressed, meta: ReceivedEvent) -> None:
    await student_goals.upsert(
        uow,
        event.district_id,
        event.goal_id,
        {
            "student_id": event.student_id,
            "skill_code": event.skill_code,
            "target": event.target,
            "score": event.score,
            "progress_percent": event.progress_percent,
            "assessed_on": event.assessed_on.isoformat(),
        },
        version=meta.time,
    )


async def on_goal_met(uow: UnitOfWork, event: GoalMet, meta: ReceivedEvent) -> None:
    await student_goals.upsert(
        uow,
        event.district_id,
        event.goal_id,
        {
            "student_id": event.student_id,
            "skill_code": event.skill_code,
            "target": event.target,
            "score": event.score,
            "met": True,
        },
        version=meta.time,
    )


async def on_goal_closed(uow: UnitOfWork, event: GoalClosed, meta: ReceivedEvent) -> None:
    await student_goals.remove(
        uow,
        event.district_id,
        event.goal_id,
        version=meta.time,
        keep={"student_id": event.student_id},
    )
