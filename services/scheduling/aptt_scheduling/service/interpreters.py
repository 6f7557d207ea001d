"""Interpreters: the district's list, reservations for conference bookings, schedules.

A booking that asks for an interpreter reserves one in the same transaction, or is refused at
once with the slots where one of that language is free (nearest first, slots next to other
families of the language first, so one interpreter covers a block).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from aptt_contracts.scheduling import InterpreterAssigned, InterpreterReleased
from aptt_platform.auth import Principal
from aptt_platform.errors import Conflict, NotFound
from aptt_platform.mongo import Document, UnitOfWork

from aptt_scheduling.domain.conferences import Booking, Slot
from aptt_scheduling.domain.interpreters import (
    Interpreter,
    Reservation,
    free_for,
    next_to_language,
)
from aptt_scheduling.store import conferences as store

MAX_ALTERNATIVES = 10


@dataclass(frozen=True)
class InterpreterDraft:
    name: str
    languages: tuple[str, ...]
    available: tuple[tuple[datetime, datetime], ...]


def _interpreter(doc: Document) -> Interpreter:
    return Interpreter(
        interpreter_id=doc["interpreter_id"],
        languages=tuple(doc["languages"]),
        available=tuple((a["starts_at"], a["ends_at"]) for a in doc["available"]),
    )


def _reservation(doc: Document) -> Reservation:
    return Reservation(doc["interpreter_id"], doc["starts_at"], doc["ends_at"])


async def register_interpreter(
    uow: UnitOfWork, *, principal: Principal, draft: InterpreterDraft, now: datetime
) -> Document:
    """A district admin adds an interpreter: languages and when they can be called on."""
    doc: Document = {
        "district_id": principal.district_id,
        "interpreter_id": f"int-{uuid.uuid4().hex[:16]}",
        "name": draft.name,
        "languages": sorted({lang.lower() for lang in draft.languages}),
        "available": [{"starts_at": a, "ends_at": b} for a, b in draft.available],
        "created_by": principal.subject,
        "created_at": now,
    }
    await store.insert_interpreter(uow, dict(doc))
    return doc


async def _candidates(
    uow: UnitOfWork, district_id: str, language: str, since: datetime, until: datetime
) -> tuple[list[Interpreter], list[Reservation]]:
    interpreters = [
        _interpreter(d) for d in await store.interpreters_of_language(uow, district_id, language)
    ]
    reservations = [
        _reservation(d)
        for d in await store.reservations_between(
            uow, district_id, [i.interpreter_id for i in interpreters], since, until
        )
    ]
    return interpreters, reservations


async def slots_for_language(
    uow: UnitOfWork,
    district_id: str,
    availability_id: str,
    language: str,
    *,
    near: datetime | None,
    now: datetime,
) -> list[Slot]:
    """Free slots of an availability where an interpreter of the language is free: those
    next to other families of the language first (one interpreter covers a block), then
    nearest to `near` (or earliest)."""
    language = language.lower()
    interpreters = [
        _interpreter(d) for d in await store.interpreters_of_language(uow, district_id, language)
    ]
    slots = await store.slots_of_availability(uow, district_id, availability_id)
    claims = await store.claims_of(uow, district_id, [s.slot_id for s in slots])
    free = [
        s
        for s in slots
        if s.starts_at > now
        and (
            s.slot_id not in claims
            or (
                claims[s.slot_id]["expires_at"] is not None
                and claims[s.slot_id]["expires_at"] <= now
            )
        )
    ]
    if not free or not interpreters:
        return []
    reservations = [
        _reservation(d)
        for d in await store.reservations_between(
            uow,
            district_id,
            [i.interpreter_id for i in interpreters],
            free[0].starts_at,
            free[-1].ends_at,
        )
    ]
    fitting = [s for s in free if free_for(interpreters, reservations, s.starts_at, s.ends_at)]
    anchor = near or free[0].starts_at
    fitting.sort(
        key=lambda s: (
            not next_to_language(reservations, s.starts_at, s.ends_at),
            abs((s.starts_at - anchor).total_seconds()),
        )
    )
    return fitting


async def _alternatives(uow: UnitOfWork, booking: Booking, language: str) -> list[Document]:
    """Free slots of the same teacher and window where an interpreter of the language is."""
    fitting = await slots_for_language(
        uow,
        booking.district_id,
        booking.availability_id,
        language,
        near=booking.starts_at,
        now=booking.created_at,
    )
    return [
        {"slot_id": s.slot_id, "starts_at": s.starts_at.isoformat()}
        for s in fitting[:MAX_ALTERNATIVES]
    ]


async def reserve_for(uow: UnitOfWork, booking: Booking, slot: Slot) -> Booking:
    """Reserve an interpreter of the booking's language for its slot, or refuse at once."""
    language = booking.interpreter_language
    if language is None:
        return booking
    language = language.lower()
    district_id = booking.district_id
    interpreters, reservations = await _candidates(
        uow, district_id, language, slot.starts_at, slot.ends_at
    )
    free = free_for(interpreters, reservations, slot.starts_at, slot.ends_at)
    if not free:
        raise Conflict(
            "no interpreter of this language is free at this time; these slots have one",
            code="no-interpreter-free",
            language=language,
            slots_with_interpreter=await _alternatives(uow, booking, language),
        )
    chosen = free[0]
    try:
        await store.reserve_interpreter(
            uow,
            {
                "district_id": district_id,
                "interpreter_id": chosen.interpreter_id,
                "starts_at": slot.starts_at,
                "ends_at": slot.ends_at,
                "booking_id": booking.booking_id,
                "slot_id": slot.slot_id,
                "classroom_id": slot.classroom_id,
                "school_id": slot.school_id,
                "language": language,
            },
        )
    except store.InterpreterTaken:
        raise Conflict(
            "the interpreter for this time was just reserved by another family; try again",
            code="interpreter-just-taken",
        ) from None
    uow.publish(
        InterpreterAssigned(
            district_id=district_id,
            booking_id=booking.booking_id,
            interpreter_id=chosen.interpreter_id,
            language=language,
            slot_id=slot.slot_id,
            classroom_id=slot.classroom_id,
            school_id=slot.school_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
        )
    )
    return replace(booking, interpreter_language=language, interpreter_id=chosen.interpreter_id)


async def release_for(uow: UnitOfWork, booking: Booking) -> Booking:
    """Free the booking's interpreter (cancelled or moved)."""
    if booking.interpreter_id is None:
        return booking
    found = await store.release_interpreter(uow, booking.district_id, booking.booking_id)
    if found is not None:
        uow.publish(
            InterpreterReleased(
                district_id=booking.district_id,
                booking_id=booking.booking_id,
                interpreter_id=found["interpreter_id"],
                language=found["language"],
                slot_id=found["slot_id"],
                classroom_id=found["classroom_id"],
                school_id=found["school_id"],
                starts_at=found["starts_at"],
                ends_at=found["ends_at"],
            )
        )
    return replace(booking, interpreter_id=None)


async def interpreter_schedule(
    uow: UnitOfWork, *, principal: Principal, interpreter_id: str, now: datetime, limit: int
) -> tuple[Document, list[Document]]:
    """An interpreter's coming reservations (district staff, or the interpreter themself)."""
    found = await store.get_interpreter(uow, principal.district_id, interpreter_id)
    if found is None:
        raise NotFound("no such interpreter", code="unknown-interpreter")
    schedule = await store.schedule_of_interpreter(
        uow, principal.district_id, interpreter_id, now, limit
    )
    return found, schedule
