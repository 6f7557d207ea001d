"""The waitlist: a family that finds no slot waits in the window; the first slot that frees
(a cancellation or a move) is offered to the first family waiting, held for it.

The offer is made in the transaction that frees the slot, so no job is needed. An offer that
the family lets expire is passed on to the next family waiting when the slot is next touched:
read in a list of slots, or claimed by anyone, the lapsed family included (decision 0310).
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


async def _next_waiting(uow: UnitOfWork, district_id: str, window_id: str) -> Document | None:
    # A family that booked meanwhile is still listed (booking does not touch the waitlist, to
    # keep the rush path short): it is passed over here, and marked done.
    for waiting in await store.first_waiting(uow, district_id, window_id, count=5):
        if await store.student_has_booking(uow, district_id, window_id, waiting["student_id"]):
            await store.waitlist_done(uow, district_id, window_id, waiting["student_id"])
            continue
        return waiting
    return None


def _offer_expiry(uow: UnitOfWork, now: datetime) -> datetime:
    return now + timedelta(seconds=uow.config_as(Config).conference_offer_hold_seconds)


async def offer_freed_slot(uow: UnitOfWork, district_id: str, slot: Slot, now: datetime) -> None:
    """Offer a slot that just freed to the first family waiting in its window, held."""
    if slot.starts_at <= now:
        return
    entry = await _next_waiting(uow, district_id, slot.window_id)
    if entry is None:
        return
    expires_at = _offer_expiry(uow, now)
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
            offer_entry_id=entry["entry_id"],
        )
    except store.SlotTaken:
        return
    await _offered(uow, entry, slot, expires_at)


async def _offered(uow: UnitOfWork, entry: Document, slot: Slot, expires_at: datetime) -> None:
    await store.mark_offered(uow, entry, slot.slot_id, expires_at)
    uow.publish(
        WaitlistOffered(
            district_id=entry["district_id"],
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


async def pass_on(uow: UnitOfWork, claim: Document, now: datetime) -> None:
    """A lapsed offer goes to the next family waiting, or the slot frees for anyone."""
    district_id = claim["district_id"]
    await store.offer_lapsed(uow, district_id, claim["offer_entry_id"])
    slot = await store.get_slot(uow, district_id, claim["slot_id"])
    entry = None
    if slot is not None and slot.starts_at > now:
        entry = await _next_waiting(uow, district_id, slot.window_id)
    expires_at = _offer_expiry(uow, now)
    if await store.pass_on_claim(uow, claim, entry, expires_at, now) and entry and slot:
        await _offered(uow, entry, slot, expires_at)


async def pass_on_lapsed(
    uow: UnitOfWork, claims: dict[str, Document], now: datetime
) -> dict[str, Document]:
    """Pass on the lapsed offers among `claims` (slot id -> claim, as read); returns the
    claims as they are now, for a list of slots to show."""
    lapsed = [
        c
        for c in claims.values()
        if c.get("offer_entry_id") and not c.get("booking_id") and c["expires_at"] <= now
    ]
    if not lapsed:
        return claims
    for claim in lapsed:
        await pass_on(uow, claim, now)
    district_id = lapsed[0]["district_id"]
    return await store.claims_of(uow, district_id, list(claims))


class OfferToPassOn(Conflict):
    """A claim met a lapsed offer: the request passes it on in a transaction of its own
    (the refused use case's is rolled back) and runs again."""

    def __init__(self, claim: Document) -> None:
        super().__init__("this slot is held for another family", code="slot-taken")
        self.claim = claim


async def pass_on_offer(uow: UnitOfWork, *, district_id: str, slot_id: str, now: datetime) -> None:
    """Pass on the slot's offer if it is still a lapsed one (someone may have meanwhile)."""
    claims = await store.claims_of(uow, district_id, [slot_id])
    await pass_on_lapsed(uow, claims, now)
