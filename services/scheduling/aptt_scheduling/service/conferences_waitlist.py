"""The waitlist: a family that finds no slot waits in the window; the first slot that frees
(a cancellation or a move) is offered to the first family waiting, held for it.

The offer is made in the transaction that frees the slot, so no job is needed. An offer that
the family lets expire leaves the slot free for anyone; the next freed slot goes to the next
family waiting (decision 0310).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from aptt_contracts.scheduling import WaitlistOffered
from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import Conflict, NotFound
from aptt_platform.mongo import Document, UnitOfWork

from aptt_scheduling.domain.conferences import Slot
from aptt_scheduling.service.access import classroom_access
from aptt_scheduling.settings import Config
from aptt_scheduling.store import calendars as calendar_store
from aptt_scheduling.store import conferences as store


async def join(
    uow: UnitOfWork, *, principal: Principal, window_id: str, student_id: str, now: datetime
) -> Document:
    """A guardian puts their child on the window's waitlist (once)."""
    window = await calendar_store.get_window(uow, principal.district_id, window_id)
    if window is None or window.kind != "conference":
        raise NotFound("no such conference window", code="unknown-window")
    access = await classroom_access(uow, principal, window.classroom_id, manage=False)
    if student_id not in access.own_students:
        raise out_of_reach(principal, "student")
    entry: Document = {
        "district_id": principal.district_id,
        "entry_id": f"wl-{uuid.uuid4().hex[:16]}",
        "window_id": window_id,
        "classroom_id": window.classroom_id,
        "school_id": window.school_id,
        "student_id": student_id,
        "guardian_id": principal.subject,
        "status": "waiting",
        "created_at": now,
    }
    if not await store.add_to_waitlist(uow, dict(entry)):
        raise Conflict("your child is already on this waitlist", code="already-waiting")
    return entry


async def offer_freed_slot(uow: UnitOfWork, district_id: str, slot: Slot, now: datetime) -> None:
    """Offer a slot that just freed to the first family waiting in its window, held."""
    if slot.starts_at <= now:
        return
    # A family that booked meanwhile is still listed (booking does not touch the waitlist, to
    # keep the rush path short): it is passed over here, and marked done.
    entry = None
    for waiting in await store.first_waiting(uow, district_id, slot.window_id, count=5):
        if await store.student_has_booking(uow, district_id, slot.window_id, waiting["student_id"]):
            await store.waitlist_done(uow, district_id, slot.window_id, waiting["student_id"])
            continue
        entry = waiting
        break
    if entry is None:
        return
    expires_at = now + timedelta(seconds=uow.config_as(Config).conference_offer_hold_seconds)
    try:
        await store.claim_slot(
            uow,
            district_id,
            slot.slot_id,
            holder=entry["guardian_id"],
            student_id=entry["student_id"],
            expires_at=expires_at,
            booking_id=None,
            now=now,
        )
    except store.SlotTaken:
        return
    await store.mark_offered(uow, entry, slot.slot_id, expires_at)
    uow.publish(
        WaitlistOffered(
            district_id=district_id,
            entry_id=entry["entry_id"],
            window_id=slot.window_id,
            classroom_id=slot.classroom_id,
            school_id=slot.school_id,
            student_id=entry["student_id"],
            guardian_id=entry["guardian_id"],
            slot_id=slot.slot_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            hold_expires_at=expires_at,
        )
    )
