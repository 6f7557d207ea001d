"""HTTP API of the scheduling service: engagement calendars and their meeting windows, team
meetings, RSVPs and attendance; one-to-one conferences.

Bearer tokens from the district's issuer. Staff see the classrooms they teach (teachers),
the schools they administer (school admins) or their whole district (district admins);
guardians see the team meetings of their own children's classes.
"""

from __future__ import annotations

from fastapi import APIRouter

from aptt_scheduling.api.calendars import router as calendars
from aptt_scheduling.api.conferences import router as conferences
from aptt_scheduling.api.families import router as families
from aptt_scheduling.api.interpreters import router as interpreters
from aptt_scheduling.api.meetings import router as meetings

router = APIRouter(prefix="/v1")
router.include_router(calendars)
router.include_router(meetings)
router.include_router(families)

# Home visits (PTHV).
from aptt_scheduling.api.visit_coverage import router as visit_coverage  # noqa: E402
from aptt_scheduling.api.visit_families import router as visit_families  # noqa: E402
from aptt_scheduling.api.visits import router as visits  # noqa: E402

router.include_router(visits)
router.include_router(visit_coverage)
router.include_router(visit_families)
router.include_router(conferences)
router.include_router(interpreters)

# Family events and the consolidated year (decision 0330).
from aptt_scheduling.api.family_events import router as family_events  # noqa: E402

router.include_router(family_events)

# Changes that make messages go out to families: held to the tighter messages budget of the
# request limits (aptt_platform.ratelimit, docs/decisions/0013); every other write route
# has the writes budget.
from aptt_scheduling.api.conferences import book, book_plan, change_availability, move, publish  # noqa: E402
from aptt_scheduling.api.conferences import cancel as cancel_booking  # noqa: E402
from aptt_scheduling.api.meetings import cancel as cancel_meeting  # noqa: E402
from aptt_scheduling.api.meetings import reschedule, schedule  # noqa: E402
from aptt_scheduling.api.visits import cancel as cancel_visit  # noqa: E402
from aptt_scheduling.api.visits import choose, confirm, invite, propose  # noqa: E402
from aptt_scheduling.api.visits import move as move_visit  # noqa: E402

MESSAGE_ROUTES = (
    schedule,
    reschedule,
    cancel_meeting,
    invite,
    propose,
    choose,
    confirm,
    move_visit,
    cancel_visit,
    publish,
    change_availability,
    book,
    cancel_booking,
    move,
    book_plan,
)
