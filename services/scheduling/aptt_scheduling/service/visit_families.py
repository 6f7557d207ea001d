"""What a pair needs to propose a visit from its own page: the families of its school who said
yes and have no visit pending, and the educators it may pair with (decision 0326).

Ids and answer times only: never scores, attendance or addresses, so a pair cannot pick
families by results (no targeting, decision 0320).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import NotFound
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.domain import visits as rules
from aptt_scheduling.domain.visits import Enrolment, Invitation
from aptt_scheduling.service.calendars import school_timezone, school_today
from aptt_scheduling.service.visit_access import coordinates, is_educator
from aptt_scheduling.store import roster
from aptt_scheduling.store import visits as store

MAX_FAMILIES = 500


@dataclass(frozen=True)
class FamiliesToVisit:
    families: list[Invitation]
    partners: list[Enrolment]
    timezone: str


async def families_to_visit(
    uow: UnitOfWork, *, principal: Principal, school_id: str, school_year: str, now: datetime
) -> FamiliesToVisit:
    """For an opted-in, trained educator of the school (or its coordinators)."""
    district_id = principal.district_id
    if not await roster.school_is_known(uow, district_id, school_id):
        raise NotFound("no such school in the roster", code="unknown-school")
    enrolled = await store.enrolments_of_school(uow, district_id, school_id, school_year)
    today = await school_today(uow, district_id, school_id, now)
    trained = [e for e in enrolled if e.trained_on <= today]
    if not coordinates(principal, school_id):
        mine = any(e.educator_id == principal.subject for e in trained)
        if not (is_educator(principal, school_id) and mine):
            raise out_of_reach(principal, "school")
    accepted = await store.accepted_invitations_of_school(
        uow, district_id, school_id, school_year, MAX_FAMILIES
    )
    busy = await store.invitations_with_pending_visits(
        uow, district_id, [i.invitation_id for i in accepted]
    )
    done = await store.done_by_student(
        uow, district_id, school_year, [i.student_id for i in accepted]
    )
    families = [
        i
        for i in accepted
        if i.invitation_id not in busy and done.get(i.student_id, 0) < rules.VISITS_PER_YEAR
    ]
    partners = [e for e in trained if e.educator_id != principal.subject]
    timezone = await school_timezone(uow, district_id, school_id)
    return FamiliesToVisit(families=families, partners=partners, timezone=timezone)
