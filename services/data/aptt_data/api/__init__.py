"""The data service keeps each district's roster (imported from OneRoster 1.2 CSV), its
skills and benchmarks, assessment results, and the anonymous class reports of team meetings
with each student's private number. Every route needs a bearer token of the district."""

from __future__ import annotations

from fastapi import APIRouter

from aptt_data.api import assessments, kindergarten, people, reports, roster, sync

UPLOAD_PATHS = (
    "/v1/roster/imports",
    "/v1/assessments/imports",
    "/v1/kindergarten/families/uploads",  # cut off at the upload limit; the route allows less
)

router = APIRouter(prefix="/v1")
router.include_router(roster.router)
router.include_router(sync.router)
router.include_router(assessments.router)
router.include_router(reports.router)
router.include_router(people.router)
# Countdown to kindergarten.
router.include_router(kindergarten.router)

# Outcome analytics (decisions 0230-0232).
from aptt_data.api import outcomes  # noqa: E402

router.include_router(outcomes.router)

# Changes that make messages go out to families (the countdown to kindergarten): held to
# the tighter messages budget of the request limits (docs/decisions/0013).
MESSAGE_ROUTES = (
    kindergarten.create_family,
    kindergarten.update_family,
    kindergarten.upload_families,
)
