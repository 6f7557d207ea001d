"""Who reaches a home visit, and how much of it.

The pair and the school's coordinators (its school admins) see everything, the address and
the reflection included. A district admin sees the visit but not those. The family sees its
own visit without the address kept for the pair. Everyone else in the district is out of
reach (403 for staff, 404 for a guardian); another district's visit is not found
(decision 0322).
"""

from __future__ import annotations

from typing import Literal

from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import NotFound
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.domain.visits import HomeVisit
from aptt_scheduling.store import roster
from aptt_scheduling.store import visits as store

Standing = Literal["pair", "coordinator", "district_admin", "family"]
# Who may read the address and the reflection.
CLOSE: tuple[Standing, ...] = ("pair", "coordinator")


def coordinates(principal: Principal, school_id: str) -> bool:
    """A school's home-visit coordinators are its school admins."""
    return "school_admin" in principal.roles and school_id in principal.school_ids


def oversees(principal: Principal, school_id: str) -> bool:
    """Coordinators, and district admins for every school of their district."""
    return principal.is_district_admin or coordinates(principal, school_id)


def is_educator(principal: Principal, school_id: str) -> bool:
    return "educator" in principal.roles and school_id in principal.school_ids


async def family_of(uow: UnitOfWork, principal: Principal, student_id: str) -> bool:
    """The caller is one of the student's guardians, as the roster says."""
    if not principal.is_guardian:
        return False
    found = await roster.current_students(uow, principal.district_id, [student_id])
    return any(principal.subject in s.guardian_ids for s in found)


async def standing(uow: UnitOfWork, principal: Principal, visit: HomeVisit) -> Standing | None:
    if "educator" in principal.roles and principal.subject in visit.educator_ids:
        return "pair"
    if coordinates(principal, visit.school_id):
        return "coordinator"
    if principal.is_district_admin:
        return "district_admin"
    if await family_of(uow, principal, visit.student_id):
        return "family"
    return None


async def visit_access(
    uow: UnitOfWork, principal: Principal, visit_id: str, *allowed: Standing
) -> tuple[HomeVisit, Standing]:
    """The visit and the caller's standing, if it is one of `allowed` (all when none given)."""
    visit = await store.get_visit(uow, principal.district_id, visit_id)
    if visit is None:
        raise NotFound("no such home visit", code="unknown-visit")
    found = await standing(uow, principal, visit)
    if found is None or (allowed and found not in allowed):
        raise out_of_reach(principal, "home visit")
    return visit, found
