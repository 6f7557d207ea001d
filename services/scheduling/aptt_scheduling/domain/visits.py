"""Parent-Teacher Home Visits: who may visit, when a visit may be proposed, scheduled, done.

Voluntary on both sides: educators opt in for a school year after training, families answer
an invitation. A visit is the aggregate: what happens to it is recorded in its `events`, and
the unit of work publishes them when the store saves it. Events carry ids, codes and times;
the address and the family's choice of place stay in the document (decision 0320).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from aptt_contracts.envelope import EventModel
from aptt_contracts.scheduling import (
    AnswerChannel,
    CancelReason,
    MissedReason,
    PlaceKind,
    VisitActor,
    VisitCancelled,
    VisitCompleted,
    VisitMissed,
    VisitProposed,
    VisitScheduled,
)
from aptt_platform.errors import Conflict, DomainError

VisitStatus = Literal[
    "proposed", "counter_proposed", "times_requested", "scheduled", "done", "missed", "cancelled"
]
InvitationStatus = Literal["invited", "accepted", "declined", "withdrawn"]
# times_requested: the family asked the pair for new times (decision 0326).
PENDING: tuple[VisitStatus, ...] = ("proposed", "counter_proposed", "times_requested", "scheduled")
# The time grid an educator's calendar is claimed on (decision 0321).
BLOCK_MINUTES = 15
MIN_MINUTES = 30
MAX_MINUTES = 180
# A programme year has a first (relationship) and a second (academic) visit.
VISITS_PER_YEAR = 2
MAX_ACTUAL_MINUTES = 8 * 60


@dataclass(frozen=True)
class Enrolment:
    """An educator opted in to visits at one school for one school year."""

    educator_id: str
    school_id: str
    school_year: str
    trained_on: date
    opted_in_at: datetime


@dataclass(frozen=True)
class Invitation:
    """A family (a student's guardians) invited to the programme for a school year."""

    invitation_id: str
    school_id: str
    classroom_id: str
    school_year: str
    student_id: str
    guardian_ids: tuple[str, ...]
    invited_at: datetime
    status: InvitationStatus = "invited"
    draw_id: str | None = None
    answered_by: str | None = None
    answer_channel: AnswerChannel | None = None
    answered_at: datetime | None = None


def answer(
    invitation: Invitation, *, guardian_id: str, yes: bool, channel: AnswerChannel, now: datetime
) -> Invitation:
    """A guardian's yes or no; a no after a yes is a withdrawal. The same answer is no change."""
    if guardian_id not in invitation.guardian_ids:
        raise DomainError("only the family's guardians answer", code="not-the-family")
    if yes:
        if invitation.status == "accepted":
            return invitation
        status: InvitationStatus = "accepted"
    elif invitation.status == "accepted":
        status = "withdrawn"
    elif invitation.status in ("declined", "withdrawn"):
        return invitation
    else:
        status = "declined"
    return replace(
        invitation, status=status, answered_by=guardian_id, answer_channel=channel, answered_at=now
    )


def check_pair(educator_ids: tuple[str, ...], enrolments: dict[str, Enrolment], day: date) -> None:
    """Exactly two different educators, both opted in for the year and trained by `day`."""
    if len(educator_ids) != 2 or educator_ids[0] == educator_ids[1]:
        raise DomainError("a home visit needs exactly two different educators", code="not-a-pair")
    for educator_id in educator_ids:
        enrolment = enrolments.get(educator_id)
        if enrolment is None:
            raise DomainError(
                "an educator of the pair has not opted in to home visits this school year",
                code="educator-not-opted-in",
                educator_id=educator_id,
            )
        if enrolment.trained_on > day:
            raise DomainError(
                "an educator of the pair is not trained yet",
                code="educator-not-trained",
                educator_id=educator_id,
            )


def blocks(starts_at: datetime, minutes: int) -> list[datetime]:
    """The grid blocks a visit occupies: every block that overlaps [start, end)."""
    start = starts_at.astimezone(UTC)
    first = start.replace(
        minute=start.minute - start.minute % BLOCK_MINUTES, second=0, microsecond=0
    )
    end = start + timedelta(minutes=minutes)
    found = []
    at = first
    while at < end:
        found.append(at)
        at += timedelta(minutes=BLOCK_MINUTES)
    return found


@dataclass
class HomeVisit:
    visit_id: str
    district_id: str
    school_id: str
    school_year: str
    invitation_id: str
    student_id: str
    guardian_id: str
    educator_ids: tuple[str, str]
    proposed_times: tuple[datetime, ...]
    duration_minutes: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    status: VisitStatus = "proposed"
    starts_at: datetime | None = None
    family_time: datetime | None = None
    # The one or two times a family offered when it moved the visit; the pair confirms one.
    family_times: tuple[datetime, ...] = ()
    moves: int = 0
    place_kind: PlaceKind | None = None
    address: str | None = None
    visit_number: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    travel_minutes: int | None = None
    outcome_by: str | None = None
    outcome_role: VisitActor | None = None
    reason: str | None = None
    events: list[EventModel] = field(default_factory=list, compare=False, repr=False)

    @property
    def pending(self) -> bool:
        return self.status in PENDING

    @property
    def ends_at(self) -> datetime | None:
        if self.starts_at is None:
            return None
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def worked_minutes(self) -> int:
        if self.started_at is None or self.ended_at is None:
            return 0
        return int((self.ended_at - self.started_at).total_seconds() // 60)


def propose(
    *,
    visit_id: str,
    district_id: str,
    invitation: Invitation,
    guardian_id: str,
    educator_ids: tuple[str, str],
    times: tuple[datetime, ...],
    duration_minutes: int,
    created_by: str,
    now: datetime,
) -> HomeVisit:
    """Offer a family two or three times; only a family that said yes is ever proposed one."""
    if invitation.status != "accepted":
        raise Conflict("the family has not said yes to home visits", code="family-not-opted-in")
    if guardian_id not in invitation.guardian_ids:
        raise DomainError("the guardian is not one of the family's", code="not-the-family")
    if not MIN_MINUTES <= duration_minutes <= MAX_MINUTES:
        raise DomainError(
            f"a visit lasts {MIN_MINUTES} to {MAX_MINUTES} minutes", code="bad-duration"
        )
    if not 2 <= len(times) <= 3 or len(set(times)) != len(times):
        raise DomainError("propose two or three different times", code="two-or-three-times")
    if any(t <= now for t in times):
        raise DomainError("proposed times must be in the future", code="time-in-the-past")
    visit = HomeVisit(
        visit_id=visit_id,
        district_id=district_id,
        school_id=invitation.school_id,
        school_year=invitation.school_year,
        invitation_id=invitation.invitation_id,
        student_id=invitation.student_id,
        guardian_id=guardian_id,
        educator_ids=educator_ids,
        proposed_times=tuple(sorted(t.astimezone(UTC) for t in times)),
        duration_minutes=duration_minutes,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    visit.events.append(
        VisitProposed(
            district_id=district_id,
            visit_id=visit_id,
            student_id=visit.student_id,
            guardian_id=guardian_id,
            school_id=visit.school_id,
            educator_ids=list(educator_ids),
            proposed_times=list(visit.proposed_times),
            duration_minutes=duration_minutes,
        )
    )
    return visit


def _check_open(visit: HomeVisit) -> None:
    if not visit.pending:
        raise Conflict(f"the visit is {visit.status}", code=f"visit-{visit.status}")


def choose(
    visit: HomeVisit,
    *,
    starts_at: datetime,
    place_kind: PlaceKind,
    address: str | None,
    now: datetime,
) -> HomeVisit:
    """The family picks a proposed time (scheduled) or offers another (the pair confirms)."""
    if visit.status not in ("proposed", "counter_proposed", "times_requested"):
        _check_open(visit)
        raise Conflict("the visit is already scheduled", code="visit-scheduled")
    if starts_at <= now:
        raise DomainError("the time must be in the future", code="time-in-the-past")
    at = starts_at.astimezone(UTC)
    chosen = replace(visit, place_kind=place_kind, address=address, updated_at=now, events=[])
    if at in visit.proposed_times:
        return _scheduled(chosen, at)
    return replace(chosen, status="counter_proposed", family_time=at, family_times=(at,))


def confirm_family_time(
    visit: HomeVisit, *, now: datetime, starts_at: datetime | None = None
) -> HomeVisit:
    """The pair takes the family's time (one of the family's, when it offered two)."""
    if visit.status != "counter_proposed" or visit.family_time is None:
        raise Conflict("the family has not offered another time", code="no-family-time")
    offered = visit.family_times or (visit.family_time,)
    at = visit.family_time if starts_at is None else starts_at.astimezone(UTC)
    if at not in offered:
        raise DomainError("take one of the times the family offered", code="not-a-family-time")
    if at <= now:
        raise DomainError("the family's time has passed", code="time-in-the-past")
    return _scheduled(replace(visit, updated_at=now, events=[]), at)


def _scheduled(visit: HomeVisit, at: datetime) -> HomeVisit:
    scheduled = replace(visit, status="scheduled", starts_at=at, family_time=None, family_times=())
    assert scheduled.place_kind is not None
    scheduled.events.append(
        VisitScheduled(
            district_id=visit.district_id,
            visit_id=visit.visit_id,
            student_id=visit.student_id,
            guardian_id=visit.guardian_id,
            school_id=visit.school_id,
            educator_ids=list(visit.educator_ids),
            starts_at=at,
            duration_minutes=visit.duration_minutes,
            place_kind=scheduled.place_kind,
        )
    )
    return scheduled


def cancel(
    visit: HomeVisit, *, reason: CancelReason, by: str, role: VisitActor, now: datetime
) -> HomeVisit:
    """Cancel a pending visit; cancelling a cancelled one changes nothing."""
    if visit.status == "cancelled":
        return visit
    _check_open(visit)
    cancelled = replace(
        visit,
        status="cancelled",
        outcome_by=by,
        outcome_role=role,
        reason=reason,
        updated_at=now,
        events=[],
    )
    cancelled.events.append(
        VisitCancelled(
            district_id=visit.district_id,
            visit_id=visit.visit_id,
            student_id=visit.student_id,
            guardian_id=visit.guardian_id,
            school_id=visit.school_id,
            educator_ids=list(visit.educator_ids),
            starts_at=visit.starts_at,
            reason=reason,
            cancelled_by=role,
        )
    )
    return cancelled


def complete(
    visit: HomeVisit,
    *,
    started_at: datetime,
    ended_at: datetime,
    travel_minutes: int | None,
    visit_number: int,
    by: str,
    role: VisitActor,
    now: datetime,
) -> HomeVisit:
    """The pair records that the visit took place, with its real start and end."""
    if visit.status != "scheduled":
        raise Conflict("only a scheduled visit can be marked done", code=f"visit-{visit.status}")
    if not started_at < ended_at <= now:
        raise DomainError(
            "the visit must have started before it ended, and ended already", code="bad-times"
        )
    if ended_at - started_at > timedelta(minutes=MAX_ACTUAL_MINUTES):
        raise DomainError("a visit lasts at most eight hours", code="bad-times")
    done = replace(
        visit,
        status="done",
        started_at=started_at.astimezone(UTC),
        ended_at=ended_at.astimezone(UTC),
        travel_minutes=travel_minutes,
        visit_number=visit_number,
        outcome_by=by,
        outcome_role=role,
        updated_at=now,
        events=[],
    )
    done.events.append(
        VisitCompleted(
            district_id=visit.district_id,
            visit_id=visit.visit_id,
            student_id=visit.student_id,
            school_id=visit.school_id,
            educator_ids=list(visit.educator_ids),
            visit_number=visit_number,
            duration_minutes=max(1, done.worked_minutes),
        )
    )
    return done


def missed(
    visit: HomeVisit, *, reason: MissedReason, by: str, role: VisitActor, now: datetime
) -> HomeVisit:
    if visit.status != "scheduled":
        raise Conflict("only a scheduled visit can be missed", code=f"visit-{visit.status}")
    assert visit.starts_at is not None
    if visit.starts_at > now:
        raise DomainError("a visit can be missed only once its time came", code="not-yet")
    gone = replace(
        visit,
        status="missed",
        outcome_by=by,
        outcome_role=role,
        reason=reason,
        updated_at=now,
        events=[],
    )
    gone.events.append(
        VisitMissed(
            district_id=visit.district_id,
            visit_id=visit.visit_id,
            student_id=visit.student_id,
            school_id=visit.school_id,
            educator_ids=list(visit.educator_ids),
            reason=reason,
            recorded_by=role,
        )
    )
    return gone
