"""Use cases of home visits: educators opt in, families are invited and answer, a pair
proposes times, the family chooses, the visit is done, missed or cancelled.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from aptt_contracts.scheduling import (
    AnswerChannel,
    CancelReason,
    FamilyInvited,
    FamilyOptedIn,
    FamilyOptedOut,
    MissedReason,
    PlaceKind,
    VisitActor,
)
from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import Conflict, DomainError, NotFound
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.domain import visits as rules
from aptt_scheduling.domain.meetings import local_date
from aptt_scheduling.domain.visits import Enrolment, HomeVisit, Invitation
from aptt_scheduling.service.access import load_class
from aptt_scheduling.service.calendars import school_timezone, school_today
from aptt_scheduling.service.visit_access import (
    Standing,
    coordinates,
    is_educator,
    oversees,
    visit_access,
)
from aptt_scheduling.store import roster
from aptt_scheduling.store import visits as store

MAX_DRAW = 1000


# -- educators ------------------------------------------------------------------------


async def _known_school(uow: UnitOfWork, district_id: str, school_id: str) -> None:
    if not await roster.school_is_known(uow, district_id, school_id):
        raise NotFound("no such school in the roster", code="unknown-school")


async def opt_in_educator(
    uow: UnitOfWork,
    *,
    principal: Principal,
    school_id: str,
    school_year: str,
    trained_on: date,
    now: datetime,
) -> Enrolment:
    """An educator of the school opts in to visits for a school year, after training."""
    await _known_school(uow, principal.district_id, school_id)
    if not is_educator(principal, school_id):
        raise out_of_reach(principal, "school")
    if trained_on > await school_today(uow, principal.district_id, school_id, now):
        raise DomainError("record the training once it has taken place", code="not-trained-yet")
    enrolment = Enrolment(
        educator_id=principal.subject,
        school_id=school_id,
        school_year=school_year,
        trained_on=trained_on,
        opted_in_at=now,
    )
    await store.enrol(uow, principal.district_id, enrolment)
    return enrolment


async def school_educators(
    uow: UnitOfWork, *, principal: Principal, school_id: str, school_year: str
) -> list[Enrolment]:
    await _known_school(uow, principal.district_id, school_id)
    if not oversees(principal, school_id):
        raise out_of_reach(principal, "school")
    return await store.enrolments_of_school(uow, principal.district_id, school_id, school_year)


# -- invitations ----------------------------------------------------------------------


@dataclass(frozen=True)
class InvitationBatch:
    invitations: list[Invitation]
    already_invited: int
    draw: dict[str, object] | None


async def invite_families(
    uow: UnitOfWork,
    *,
    principal: Principal,
    classroom_id: str,
    school_year: str,
    draw_size: int | None,
    seed: int | None,
    now: datetime,
) -> InvitationBatch:
    """Invite every family of a class, or a random cross-section the platform draws.

    There is deliberately no filter by scores, attendance or behaviour (no targeting).
    """
    district_id = principal.district_id
    classes = await load_class(uow, district_id, classroom_id)
    school_id = classes.classroom.school_id
    if not coordinates(principal, school_id) and not principal.is_district_admin:
        raise out_of_reach(principal, "classroom")
    families = [s for s in classes.students if s.guardian_ids]
    draw: dict[str, object] | None = None
    if draw_size is not None:
        seed = seed if seed is not None else secrets.randbits(63)
        population = sorted(s.student_id for s in families)
        drawn = set(random.Random(seed).sample(population, min(draw_size, len(population))))
        families = [s for s in families if s.student_id in drawn]
        draw = {
            "draw_id": f"vd-{uuid.uuid4().hex[:16]}",
            "classroom_id": classroom_id,
            "school_year": school_year,
            "seed": seed,
            "size": draw_size,
            "population": population,
            "drawn": sorted(drawn),
            "drawn_by": principal.subject,
            "drawn_at": now,
        }
        await store.record_draw(uow, district_id, draw)
    known = await store.invited_students(
        uow, district_id, school_year, [s.student_id for s in families]
    )
    invitations = [
        Invitation(
            invitation_id=f"vi-{uuid.uuid4().hex[:16]}",
            school_id=school_id,
            classroom_id=classroom_id,
            school_year=school_year,
            student_id=s.student_id,
            guardian_ids=tuple(sorted(s.guardian_ids)),
            invited_at=now,
            draw_id=str(draw["draw_id"]) if draw else None,
        )
        for s in families
        if s.student_id not in known
    ]
    await store.insert_invitations(uow, district_id, invitations)
    for invitation in invitations:
        uow.publish(
            FamilyInvited(
                district_id=district_id,
                invitation_id=invitation.invitation_id,
                student_id=invitation.student_id,
                guardian_ids=list(invitation.guardian_ids),
                school_id=school_id,
                classroom_id=classroom_id,
                school_year=school_year,
                draw_id=invitation.draw_id,
            )
        )
    return InvitationBatch(invitations=invitations, already_invited=len(known), draw=draw)


async def classroom_invitations(
    uow: UnitOfWork, *, principal: Principal, classroom_id: str, school_year: str
) -> list[Invitation]:
    classes = await load_class(uow, principal.district_id, classroom_id)
    if not oversees(principal, classes.classroom.school_id):
        raise out_of_reach(principal, "classroom")
    found = await store.invitations_of_classroom(
        uow, principal.district_id, classroom_id, school_year
    )
    return sorted(found, key=lambda i: i.student_id)


async def my_invitations(uow: UnitOfWork, *, principal: Principal) -> list[Invitation]:
    children = await roster.children_of(uow, principal.district_id, principal.subject)
    found = await store.invitations_of_guardian(
        uow, principal.district_id, [c.student_id for c in children]
    )
    return [i for i in found if principal.subject in i.guardian_ids]


async def answer_invitation(
    uow: UnitOfWork,
    *,
    district_id: str,
    guardian_id: str,
    invitation_id: str,
    yes: bool,
    channel: AnswerChannel,
    now: datetime,
) -> Invitation:
    """A guardian's answer, by any channel; a no after a yes withdraws the family and
    cancels its pending visits (the family and the pair are told, kindly)."""
    before = await store.get_invitation(uow, district_id, invitation_id)
    if before is None or guardian_id not in before.guardian_ids:
        raise NotFound("no such invitation", code="unknown-invitation")
    after = rules.answer(before, guardian_id=guardian_id, yes=yes, channel=channel, now=now)
    if after is before:
        return before
    await store.save_answer(uow, district_id, before, after)
    common = {
        "district_id": district_id,
        "invitation_id": invitation_id,
        "student_id": after.student_id,
        "guardian_id": guardian_id,
        "school_id": after.school_id,
        "channel": channel,
        "answered_at": now,
    }
    if yes:
        uow.publish(FamilyOptedIn(**common))
        return after
    uow.publish(FamilyOptedOut(**common, withdrawn=after.status == "withdrawn"))
    for visit in await store.visits_of_invitation(uow, district_id, invitation_id):
        if visit.pending:
            cancelled = rules.cancel(
                visit, reason="withdrawn", by=guardian_id, role="family", now=now
            )
            await store.release_blocks(uow, visit)
            await store.save_visit(uow, visit, cancelled)
    return after


async def record_answer(
    uow: UnitOfWork,
    *,
    principal: Principal,
    invitation_id: str,
    guardian_id: str,
    yes: bool,
    channel: AnswerChannel,
    now: datetime,
) -> Invitation:
    """A coordinator records an answer a guardian gave by phone or on paper."""
    invitation = await store.get_invitation(uow, principal.district_id, invitation_id)
    if invitation is None:
        raise NotFound("no such invitation", code="unknown-invitation")
    if not coordinates(principal, invitation.school_id):
        raise out_of_reach(principal, "invitation")
    if guardian_id not in invitation.guardian_ids:
        raise DomainError("the guardian is not one of the family's", code="not-the-family")
    return await answer_invitation(
        uow,
        district_id=principal.district_id,
        guardian_id=guardian_id,
        invitation_id=invitation_id,
        yes=yes,
        channel=channel,
        now=now,
    )


# -- visits ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitView:
    visit: HomeVisit
    standing: Standing
    timezone: str
    follow_ups: tuple[dict[str, object], ...] = ()


async def view_of(uow: UnitOfWork, visit: HomeVisit, standing: Standing) -> VisitView:
    timezone = await school_timezone(uow, visit.district_id, visit.school_id)
    return VisitView(visit=visit, standing=standing, timezone=timezone)


async def check_pair_is_free(
    uow: UnitOfWork,
    *,
    district_id: str,
    school_id: str,
    school_year: str,
    educator_ids: tuple[str, str],
    times: tuple[datetime, ...],
    duration_minutes: int,
) -> None:
    """The pair is two opted-in educators trained by the first day, free at every time (a
    courtesy: the binding check is when the visit is scheduled, decision 0321)."""
    timezone = await school_timezone(uow, district_id, school_id)
    first_day = min(local_date(t, timezone) for t in times)
    enrolments = await store.enrolments(
        uow, district_id, school_id, school_year, list(educator_ids)
    )
    rules.check_pair(educator_ids, enrolments, first_day)
    wanted = [b for t in times for b in rules.blocks(t, duration_minutes)]
    if busy := await store.busy_blocks(uow, district_id, list(educator_ids), wanted):
        raise Conflict(
            "an educator of the pair is on another visit at a proposed time",
            code="educator-busy",
            educator_ids=sorted({e for e, _ in busy}),
        )


async def propose_visit(
    uow: UnitOfWork,
    *,
    principal: Principal,
    invitation_id: str,
    educator_ids: tuple[str, str],
    times: tuple[datetime, ...],
    duration_minutes: int,
    now: datetime,
) -> VisitView:
    """A pair (one of its educators) or a coordinator proposes two or three times."""
    district_id = principal.district_id
    invitation = await store.get_invitation(uow, district_id, invitation_id)
    if invitation is None:
        raise NotFound("no such invitation", code="unknown-invitation")
    school_id = invitation.school_id
    in_pair = is_educator(principal, school_id) and principal.subject in educator_ids
    if not (in_pair or coordinates(principal, school_id)):
        raise out_of_reach(principal, "invitation")
    if invitation.status != "accepted" or invitation.answered_by is None:
        raise Conflict("the family has not said yes to home visits", code="family-not-opted-in")
    await check_pair_is_free(
        uow,
        district_id=district_id,
        school_id=school_id,
        school_year=invitation.school_year,
        educator_ids=educator_ids,
        times=times,
        duration_minutes=duration_minutes,
    )
    if await store.done_count(uow, district_id, invitation.school_year, invitation.student_id) >= (
        rules.VISITS_PER_YEAR
    ):
        raise Conflict("this family had both visits of the year", code="year-complete")
    visit = rules.propose(
        visit_id=f"hv-{uuid.uuid4().hex[:16]}",
        district_id=district_id,
        invitation=invitation,
        guardian_id=invitation.answered_by,
        educator_ids=educator_ids,
        times=times,
        duration_minutes=duration_minutes,
        created_by=principal.subject,
        now=now,
    )
    await store.insert_visit(uow, visit)
    return await view_of(uow, visit, "pair" if in_pair else "coordinator")


async def get_visit(uow: UnitOfWork, *, principal: Principal, visit_id: str) -> VisitView:
    visit, standing = await visit_access(uow, principal, visit_id)
    view = await view_of(uow, visit, standing)
    if standing in ("pair", "coordinator"):
        found = await store.follow_ups(uow, principal.district_id, visit_id)
        view = replace(view, follow_ups=tuple(found))
    return view


async def my_visits(uow: UnitOfWork, *, principal: Principal, limit: int) -> list[VisitView]:
    """An educator's visits, or a guardian's family visits (without the address), newest
    first."""
    district_id = principal.district_id
    if "educator" in principal.roles:
        found = await store.visits_of_educator(uow, district_id, principal.subject, limit)
        return [await view_of(uow, v, "pair") for v in found]
    if not principal.is_guardian:
        raise out_of_reach(principal, "home visit")
    children = await roster.children_of(uow, district_id, principal.subject)
    if not children:
        return []
    found = await store.visits_of_students(
        uow, district_id, [c.student_id for c in children], limit
    )
    return [await view_of(uow, v, "family") for v in found]


async def choose_time(
    uow: UnitOfWork,
    *,
    principal: Principal,
    visit_id: str,
    starts_at: datetime,
    place_kind: PlaceKind,
    address: str | None,
    now: datetime,
) -> VisitView:
    """The family picks one of the times (the visit is scheduled) or offers another."""
    visit, standing = await visit_access(uow, principal, visit_id, "family")
    chosen = rules.choose(
        visit, starts_at=starts_at, place_kind=place_kind, address=address, now=now
    )
    if chosen.status == "scheduled":
        await store.claim_blocks(uow, chosen)
    await store.save_visit(uow, visit, chosen)
    return await view_of(uow, chosen, standing)


async def confirm_time(
    uow: UnitOfWork,
    *,
    principal: Principal,
    visit_id: str,
    starts_at: datetime | None = None,
    now: datetime,
) -> VisitView:
    """The pair (or a coordinator) takes the time the family offered."""
    visit, standing = await visit_access(uow, principal, visit_id, "pair", "coordinator")
    scheduled = rules.confirm_family_time(visit, now=now, starts_at=starts_at)
    await store.claim_blocks(uow, scheduled)
    await store.save_visit(uow, visit, scheduled)
    return await view_of(uow, scheduled, standing)


def actor_of(standing: Standing) -> VisitActor:
    if standing == "pair":
        return "educator"
    if standing == "family":
        return "family"
    return "coordinator"


async def cancel_visit(
    uow: UnitOfWork, *, principal: Principal, visit_id: str, reason: CancelReason, now: datetime
) -> VisitView:
    visit, standing = await visit_access(uow, principal, visit_id, "pair", "coordinator", "family")
    cancelled = rules.cancel(
        visit, reason=reason, by=principal.subject, role=actor_of(standing), now=now
    )
    if cancelled is not visit:
        await store.release_blocks(uow, visit)
        await store.save_visit(uow, visit, cancelled)
    return await view_of(uow, cancelled, standing)


async def complete_visit(
    uow: UnitOfWork,
    *,
    principal: Principal,
    visit_id: str,
    started_at: datetime,
    ended_at: datetime,
    travel_minutes: int | None,
    now: datetime,
) -> VisitView:
    """Mark a visit done with its real start and end; it becomes the family's first or
    second visit of the year."""
    visit, standing = await visit_access(uow, principal, visit_id, "pair", "coordinator")
    number = await store.done_count(uow, visit.district_id, visit.school_year, visit.student_id) + 1
    if number > rules.VISITS_PER_YEAR:
        raise Conflict("this family had both visits of the year", code="year-complete")
    done = rules.complete(
        visit,
        started_at=started_at,
        ended_at=ended_at,
        travel_minutes=travel_minutes,
        visit_number=number,
        by=principal.subject,
        role=actor_of(standing),
        now=now,
    )
    await store.save_visit(uow, visit, done)
    return await view_of(uow, done, standing)


async def mark_missed(
    uow: UnitOfWork, *, principal: Principal, visit_id: str, reason: MissedReason, now: datetime
) -> VisitView:
    visit, standing = await visit_access(uow, principal, visit_id, "pair", "coordinator")
    gone = rules.missed(
        visit, reason=reason, by=principal.subject, role=actor_of(standing), now=now
    )
    await store.release_blocks(uow, visit)
    await store.save_visit(uow, visit, gone)
    return await view_of(uow, gone, standing)
