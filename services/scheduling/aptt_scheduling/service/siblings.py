"""Siblings back to back: propose, hold together, book all or none.

One transaction holds (or books) every slot of a plan: if any slot was taken meanwhile the
write fails and nothing of the plan is kept, so a family never ends with half a plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aptt_platform.auth import Principal
from aptt_platform.errors import Conflict, DomainError
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.domain import conferences as rules
from aptt_scheduling.domain.siblings import MAX_CHILDREN, Option, Plan, best_plans
from aptt_scheduling.service import conferences
from aptt_scheduling.service.conferences import BookingView, Hold
from aptt_scheduling.store import conferences as store
from aptt_scheduling.store import roster

MAX_RANGE = timedelta(hours=12)
# How far around the asked range the nearest alternatives are looked for.
AROUND = timedelta(days=7)


@dataclass(frozen=True)
class Proposal:
    plan: Plan
    holds: list[Hold]


async def _options(
    uow: UnitOfWork,
    principal: Principal,
    student_ids: list[str],
    since: datetime,
    until: datetime,
    now: datetime,
) -> dict[str, list[Option]]:
    district_id = principal.district_id
    children = {c.student_id for c in await roster.children_of(uow, district_id, principal.subject)}
    wanted = student_ids or sorted(children)
    if not wanted or any(s not in children for s in wanted):
        raise DomainError("these are not all your children", code="unknown-student")
    if len(wanted) > MAX_CHILDREN:
        raise DomainError(f"at most {MAX_CHILDREN} children at once", code="too-many-children")
    classrooms = await roster.classrooms_of_students(uow, district_id, wanted)
    options: dict[str, list[Option]] = {s: [] for s in wanted}
    for classroom in classrooms:
        slots = await store.slots_of_classroom_between(
            uow, district_id, classroom.classroom_id, since, until
        )
        slots = [s for s in slots if s.starts_at >= since and s.ends_at <= until]
        taken = await store.claims_of(uow, district_id, [s.slot_id for s in slots])
        free = [
            s
            for s in slots
            if s.starts_at > now
            and (
                s.slot_id not in taken
                or (
                    taken[s.slot_id]["expires_at"] is not None
                    and taken[s.slot_id]["expires_at"] <= now
                )
            )
        ]
        for student in classroom.student_ids & set(wanted):
            options[student] += [
                Option(student, s.slot_id, s.classroom_id, s.school_id, s.starts_at, s.ends_at)
                for s in free
            ]
    return options


def _why(options: dict[str, list[Option]]) -> tuple[str, str]:
    empty = sorted(s for s, found in options.items() if not found)
    if empty:
        return "no-free-slot", "no free slot in this range with the teacher of: " + ", ".join(empty)
    return "no-back-to-back", "the free slots in this range overlap; no set fits one after another"


async def propose(
    uow: UnitOfWork,
    *,
    principal: Principal,
    student_ids: list[str],
    since: datetime,
    until: datetime,
    now: datetime,
) -> Proposal:
    """Propose back-to-back slots for the guardian's children and hold them together."""
    if until <= since or until - since > MAX_RANGE:
        raise DomainError("the range must end after it starts, within 12 hours", code="bad-range")
    options = await _options(uow, principal, student_ids, since, until, now)
    plans = best_plans(options, count=1)
    if not plans:
        code, why = _why(options)
        wider = await _options(uow, principal, student_ids, since - AROUND, until + AROUND, now)
        nearest = sorted(
            best_plans(wider, count=20),
            key=lambda p: abs((p.starts_at - since).total_seconds()),
        )[:3]
        raise Conflict(
            why,
            code=code,
            alternatives=[
                {
                    "gap_minutes": p.gap_minutes,
                    "slots": [
                        {
                            "student_id": o.student_id,
                            "slot_id": o.slot_id,
                            "starts_at": o.starts_at.isoformat(),
                        }
                        for o in p.options
                    ],
                }
                for p in nearest
            ],
        )
    plan = plans[0]
    holds = [
        await conferences.hold_slot(
            uow, principal=principal, slot_id=o.slot_id, student_id=o.student_id, now=now
        )
        for o in plan.options
    ]
    return Proposal(plan=plan, holds=holds)


async def book_all(
    uow: UnitOfWork,
    *,
    principal: Principal,
    items: list[tuple[str, str]],
    interpreter_language: str | None,
    now: datetime,
) -> list[BookingView]:
    """Book every (student, slot) of a plan, or none of them."""
    if len({s for s, _ in items}) != len(items):
        raise DomainError("one slot per child", code="duplicate-student")
    slots = [await store.get_slot(uow, principal.district_id, slot_id) for _, slot_id in items]
    times = [rules.SlotTime(s.starts_at, s.ends_at) for s in slots if s is not None]
    rules.check_no_overlap(times)
    return [
        await conferences.book_slot(
            uow,
            principal=principal,
            slot_id=slot_id,
            student_id=student_id,
            guardian_id=None,
            interpreter_language=interpreter_language,
            now=now,
        )
        for student_id, slot_id in items
    ]
