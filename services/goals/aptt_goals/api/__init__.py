"""HTTP API of the goals service: 60-day SMART goals for a child, checked in plain words in
the guardian's language (`Accept-Language`); progress from assessment results; practice
logs; and a library of home activities per skill and grade."""

from __future__ import annotations

from fastapi import APIRouter

from aptt_goals.api import activities, goals

router = APIRouter(prefix="/v1")
router.include_router(goals.router)
router.include_router(activities.router)

__all__ = ["router"]

# Changes that make messages go out to families (goal confirmations, progress, closing):
# held to the tighter messages budget of the request limits (docs/decisions/0013).
MESSAGE_ROUTES = (goals.set_goal, goals.log_practice, goals.close_goal)
