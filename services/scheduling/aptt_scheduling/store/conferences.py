"""Conference availability, slots, claims (holds and bookings of a slot), bookings, a
guardian's cap tokens, interpreters and their reservations.

The rules that must hold under a rush are indexes here (decision 0310):
- `conference_claims`: one claim per slot. A hold is a claim with `expires_at`; a booking
  turns it into a claim without one. An expired hold is taken over by a write conditional
  on the version read, so no background job is needed to free it.
- `conference_bookings`: partial unique indexes over active bookings, one per slot and one
  per student and window.
- `conference_caps`: token n of a guardian in a window, unique; tokens are 1..cap, so a
  guardian cannot hold more than cap bookings however many requests race.
- `interpreter_reservations`: one per interpreter and start time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from aptt_platform.mongo import Document, UnitOfWork
from aptt_platform.readmodel import ReadModel
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from aptt_scheduling.domain.conferences import (
    MAX_SLOT_MINUTES,
    Availability,
    Booking,
    Break,
    DayRange,
    Slot,
)

AVAILABILITY = "conference_availability"
SLOTS = "conference_slots"
CLAIMS = "conference_claims"
BOOKINGS = "conference_bookings"
CAPS = "conference_caps"
INTERPRETERS = "interpreters"
RESERVATIONS = "interpreter_reservations"

ACTIVE = {"status": "booked"}


def _keys(*names: str) -> list[tuple[str, int]]:
    return [(n, ASCENDING) for n in ("district_id", *names)]


CONFERENCE_INDEXES: dict[str, Sequence[IndexModel]] = {
    AVAILABILITY: [
        IndexModel(_keys("availability_id"), name="one_per_availability", unique=True),
        IndexModel(_keys("classroom_id", "window_id"), name="by_classroom_window"),
    ],
    SLOTS: [
        IndexModel(_keys("slot_id"), name="one_per_slot", unique=True),
        IndexModel(_keys("classroom_id", "starts_at"), name="by_classroom_start"),
        IndexModel(_keys("availability_id", "starts_at"), name="by_availability"),
    ],
    CLAIMS: [IndexModel(_keys("slot_id"), name="one_claim_per_slot", unique=True)],
    BOOKINGS: [
        IndexModel(_keys("booking_id"), name="one_per_booking", unique=True),
        IndexModel(
            _keys("slot_id"),
            name="one_booking_per_slot",
            unique=True,
            partialFilterExpression=ACTIVE,
        ),
        IndexModel(
            _keys("window_id", "student_id"),
            name="one_booking_per_student_and_window",
            unique=True,
            partialFilterExpression=ACTIVE,
        ),
        IndexModel(_keys("classroom_id", "starts_at"), name="by_classroom_start"),
        IndexModel(_keys("window_id"), name="by_window"),
        IndexModel(_keys("guardian_id", "starts_at"), name="by_guardian"),
        IndexModel(_keys("student_id", "starts_at"), name="by_student"),
    ],
    CAPS: [IndexModel(_keys("window_id", "guardian_id", "n"), name="cap_token", unique=True)],
    INTERPRETERS: [
        IndexModel(_keys("interpreter_id"), name="one_per_interpreter", unique=True),
        IndexModel(_keys("languages"), name="by_language"),
    ],
    RESERVATIONS: [
        IndexModel(_keys("interpreter_id", "starts_at"), name="one_place_at_a_time", unique=True),
        IndexModel(_keys("booking_id"), name="by_booking"),
    ],
}


class SlotTaken(Exception):
    """Someone else holds or booked the slot."""


class OfferLapsed(SlotTaken):
    """The slot's claim is a waitlist offer its family let expire: it goes to the next family
    waiting (`pass_on_claim`) before anyone else may take it."""

    def __init__(self, claim: Document) -> None:
        super().__init__(claim["slot_id"])
        self.claim = claim


class DuplicateBooking(Exception):
    """An active booking already uses this slot (`slot`) or this student's window (`student`)."""

    def __init__(self, which: str) -> None:
        super().__init__(which)
        self.which = which


# -- availability and slots ----------------------------------------------------------------


def _availability_doc(a: Availability) -> Document:
    doc = asdict(a)
    doc["days"] = [
        {
            "day": d.day.isoformat(),
            "starts": d.starts.isoformat(),
            "ends": d.ends.isoformat(),
            "breaks": [
                {"starts": b.starts.isoformat(), "ends": b.ends.isoformat()} for b in d.breaks
            ],
        }
        for d in a.days
    ]
    return doc


def _availability(doc: Document) -> Availability:
    kept = {k: doc[k] for k in Availability.__dataclass_fields__}
    kept["days"] = tuple(
        DayRange(
            day=date.fromisoformat(d["day"]),
            starts=time.fromisoformat(d["starts"]),
            ends=time.fromisoformat(d["ends"]),
            breaks=tuple(
                Break(time.fromisoformat(b["starts"]), time.fromisoformat(b["ends"]))
                for b in d["breaks"]
            ),
        )
        for d in doc["days"]
    )
    return Availability(**kept)


async def save_availability(uow: UnitOfWork, availability: Availability) -> None:
    await uow.collection(AVAILABILITY).replace_one(
        {"district_id": availability.district_id, "availability_id": availability.availability_id},
        _availability_doc(availability),
        upsert=True,
        session=uow.session,
    )


async def get_availability(
    uow: UnitOfWork, district_id: str, availability_id: str
) -> Availability | None:
    doc = await uow.collection(AVAILABILITY).find_one(
        {"district_id": district_id, "availability_id": availability_id}, session=uow.session
    )
    return _availability(doc) if doc else None


async def availabilities_of_classroom(
    uow: UnitOfWork, district_id: str, classroom_id: str, *, limit: int
) -> list[Availability]:
    cursor = uow.collection(AVAILABILITY).find(
        {"district_id": district_id, "classroom_id": classroom_id}, session=uow.session
    )
    return [_availability(d) async for d in cursor.limit(limit)]


def _slot(doc: Document) -> Slot:
    return Slot(**{k: doc[k] for k in Slot.__dataclass_fields__})


async def add_slots(uow: UnitOfWork, district_id: str, slots: list[Slot]) -> None:
    if slots:
        await uow.collection(SLOTS).insert_many(
            [{"district_id": district_id, **asdict(s)} for s in slots], session=uow.session
        )


async def remove_slots(uow: UnitOfWork, district_id: str, slot_ids: list[str]) -> None:
    if slot_ids:
        await uow.collection(SLOTS).delete_many(
            {"district_id": district_id, "slot_id": {"$in": slot_ids}}, session=uow.session
        )


async def get_slot(uow: UnitOfWork, district_id: str, slot_id: str) -> Slot | None:
    doc = await uow.collection(SLOTS).find_one(
        {"district_id": district_id, "slot_id": slot_id}, session=uow.session
    )
    return _slot(doc) if doc else None


async def slots_of_availability(
    uow: UnitOfWork, district_id: str, availability_id: str
) -> list[Slot]:
    cursor = uow.collection(SLOTS).find(
        {"district_id": district_id, "availability_id": availability_id}, session=uow.session
    )
    return [_slot(d) async for d in cursor.sort("starts_at", 1)]


async def slots_of_classroom_between(
    uow: UnitOfWork, district_id: str, classroom_id: str, since: datetime, until: datetime
) -> list[Slot]:
    cursor = uow.collection(SLOTS).find(
        {
            "district_id": district_id,
            "classroom_id": classroom_id,
            "starts_at": {"$gte": since - timedelta(minutes=MAX_SLOT_MINUTES), "$lt": until},
        },
        session=uow.session,
    )
    return [_slot(d) async for d in cursor.sort("starts_at", 1).limit(2000)]


# -- claims: holds and booked slots -----------------------------------------------------------


async def claims_of(uow: UnitOfWork, district_id: str, slot_ids: list[str]) -> dict[str, Document]:
    cursor = uow.collection(CLAIMS).find(
        {"district_id": district_id, "slot_id": {"$in": slot_ids}}, session=uow.session
    )
    return {d["slot_id"]: d async for d in cursor}


async def claim_slot(
    uow: UnitOfWork,
    district_id: str,
    slot_id: str,
    *,
    holder: str,
    student_id: str,
    expires_at: datetime | None,
    booking_id: str | None,
    now: datetime,
    offer_entry_id: str | None = None,
) -> str:
    """Take the slot's claim for `holder` (a hold when `expires_at` is set); returns its id.

    A hold of the same holder for the same student is renewed (or turned into the booking);
    an expired hold is taken over, conditional on the version read; a booked slot, or a live
    hold of someone else, raises SlotTaken.
    """
    claims = uow.collection(CLAIMS)
    key = {"district_id": district_id, "slot_id": slot_id}
    fresh: dict[str, Any] = {
        "holder": holder,
        "student_id": student_id,
        "expires_at": expires_at,
        "booking_id": booking_id,
        "claimed_at": now,
        "offer_entry_id": offer_entry_id,
    }
    current = await claims.find_one(key, session=uow.session)
    if current is None:
        claim_id = f"hold-{uuid.uuid4().hex[:16]}"
        try:
            await claims.insert_one(
                {**key, **fresh, "claim_id": claim_id, "version": 1}, session=uow.session
            )
        except DuplicateKeyError:
            raise SlotTaken from None
        return claim_id
    mine = current["holder"] == holder and current["student_id"] == student_id
    expired = current["expires_at"] is not None and current["expires_at"] <= now
    if current.get("booking_id"):
        raise SlotTaken  # booked: only cancelling or moving that booking frees it
    if expired and current.get("offer_entry_id"):
        raise OfferLapsed(current)  # not even its own family: the offer has lapsed
    if not (mine or expired):
        raise SlotTaken
    claim_id = current["claim_id"] if mine else f"hold-{uuid.uuid4().hex[:16]}"
    done = await claims.update_one(
        {**key, "version": current["version"]},
        {"$set": {**fresh, "claim_id": claim_id}, "$inc": {"version": 1}},
        session=uow.session,
    )
    if done.matched_count != 1:
        raise SlotTaken
    return claim_id


async def pass_on_claim(
    uow: UnitOfWork, claim: Document, to: Document | None, expires_at: datetime, now: datetime
) -> bool:
    """A lapsed offer's claim goes to the entry `to` as its offer, or is dropped (nobody
    waits), conditional on the version read: two passing it on at once pass it on once."""
    key = {
        "district_id": claim["district_id"],
        "slot_id": claim["slot_id"],
        "version": claim["version"],
    }
    claims = uow.collection(CLAIMS)
    if to is None:
        dropped = await claims.delete_one(key, session=uow.session)
        return dropped.deleted_count == 1
    done = await claims.update_one(
        key,
        {
            "$set": {
                "holder": to["guardian_id"],
                "student_id": to["student_id"],
                "expires_at": expires_at,
                "booking_id": None,
                "claimed_at": now,
                "offer_entry_id": to["entry_id"],
                "claim_id": f"hold-{uuid.uuid4().hex[:16]}",
            },
            "$inc": {"version": 1},
        },
        session=uow.session,
    )
    return done.matched_count == 1


async def release_claim(uow: UnitOfWork, district_id: str, slot_id: str, booking_id: str) -> None:
    await uow.collection(CLAIMS).delete_one(
        {"district_id": district_id, "slot_id": slot_id, "booking_id": booking_id},
        session=uow.session,
    )


# -- bookings --------------------------------------------------------------------------------


def _booking_doc(b: Booking) -> Document:
    doc = {f.name: getattr(b, f.name) for f in fields(b)}
    doc["previous_slot_ids"] = list(b.previous_slot_ids)
    return doc


def _booking(doc: Document) -> Booking:
    kept = {k: v for k, v in doc.items() if k in Booking.__dataclass_fields__}
    kept["previous_slot_ids"] = tuple(kept.get("previous_slot_ids", ()))
    return Booking(**kept)


def _which(exc: DuplicateKeyError) -> str:
    text = str(exc)
    return (
        "student"
        if "one_booking_per_student_and_window" in text or "student_id" in text
        else "slot"
    )


async def insert_booking(uow: UnitOfWork, booking: Booking) -> None:
    try:
        await uow.collection(BOOKINGS).insert_one(_booking_doc(booking), session=uow.session)
    except DuplicateKeyError as exc:
        raise DuplicateBooking(_which(exc)) from None


async def save_booking(uow: UnitOfWork, booking: Booking) -> None:
    try:
        await uow.collection(BOOKINGS).replace_one(
            {"district_id": booking.district_id, "booking_id": booking.booking_id},
            _booking_doc(booking),
            session=uow.session,
        )
    except DuplicateKeyError as exc:
        raise DuplicateBooking(_which(exc)) from None


async def get_booking(uow: UnitOfWork, district_id: str, booking_id: str) -> Booking | None:
    doc = await uow.collection(BOOKINGS).find_one(
        {"district_id": district_id, "booking_id": booking_id}, session=uow.session
    )
    return _booking(doc) if doc else None


async def active_bookings_of_slots(
    uow: UnitOfWork, district_id: str, slot_ids: list[str]
) -> dict[str, Booking]:
    cursor = uow.collection(BOOKINGS).find(
        {"district_id": district_id, "slot_id": {"$in": slot_ids}, **ACTIVE}, session=uow.session
    )
    return {d["slot_id"]: _booking(d) async for d in cursor}


async def bookings_of_guardian(
    uow: UnitOfWork, district_id: str, guardian_ids: list[str], since: datetime, limit: int
) -> list[Booking]:
    cursor = uow.collection(BOOKINGS).find(
        {
            "district_id": district_id,
            "guardian_id": {"$in": guardian_ids},
            "starts_at": {"$gte": since},
        },
        session=uow.session,
    )
    return [_booking(d) async for d in cursor.sort("starts_at", 1).limit(limit)]


async def bookings_of_students(
    uow: UnitOfWork, district_id: str, student_ids: list[str], since: datetime, limit: int
) -> list[Booking]:
    cursor = uow.collection(BOOKINGS).find(
        {
            "district_id": district_id,
            "student_id": {"$in": student_ids},
            "starts_at": {"$gte": since},
        },
        session=uow.session,
    )
    return [_booking(d) async for d in cursor.sort("starts_at", 1).limit(limit)]


# -- a guardian's cap per window ------------------------------------------------------------


async def take_cap_token(
    uow: UnitOfWork, district_id: str, window_id: str, guardian_id: str, booking_id: str, cap: int
) -> bool:
    """Take the guardian's lowest free token 1..cap for this window; False when none is free.

    Two racing requests that pick the same number collide on the unique index: one wins.
    """
    caps = uow.collection(CAPS)
    key = {"district_id": district_id, "window_id": window_id, "guardian_id": guardian_id}
    used: set[int] = set()
    if cap > 1:  # with one token there is nothing to choose: the index answers
        used = {d["n"] async for d in caps.find(key, {"n": 1}, session=uow.session).limit(cap)}
    free = [n for n in range(1, cap + 1) if n not in used]
    if not free:
        return False
    try:
        await caps.insert_one({**key, "n": free[0], "booking_id": booking_id}, session=uow.session)
    except DuplicateKeyError:
        return False
    return True


async def return_cap_token(
    uow: UnitOfWork, district_id: str, window_id: str, guardian_id: str, booking_id: str
) -> None:
    await uow.collection(CAPS).delete_one(
        {
            "district_id": district_id,
            "window_id": window_id,
            "guardian_id": guardian_id,
            "booking_id": booking_id,
        },
        session=uow.session,
    )


# -- interpreters and their reservations ------------------------------------------------------


async def insert_interpreter(uow: UnitOfWork, doc: Document) -> None:
    await uow.collection(INTERPRETERS).insert_one(doc, session=uow.session)


async def get_interpreter(
    uow: UnitOfWork, district_id: str, interpreter_id: str
) -> Document | None:
    return await uow.collection(INTERPRETERS).find_one(
        {"district_id": district_id, "interpreter_id": interpreter_id}, session=uow.session
    )


async def interpreters_of_language(
    uow: UnitOfWork, district_id: str, language: str
) -> list[Document]:
    cursor = uow.collection(INTERPRETERS).find(
        {"district_id": district_id, "languages": language}, session=uow.session
    )
    return [d async for d in cursor.sort("interpreter_id", 1).limit(200)]


async def reservations_between(
    uow: UnitOfWork, district_id: str, interpreter_ids: list[str], since: datetime, until: datetime
) -> list[Document]:
    """Reservations of these interpreters that could overlap [since, until)."""
    cursor = uow.collection(RESERVATIONS).find(
        {
            "district_id": district_id,
            "interpreter_id": {"$in": interpreter_ids},
            "starts_at": {"$gt": since - timedelta(minutes=MAX_SLOT_MINUTES), "$lt": until},
        },
        session=uow.session,
    )
    return [d async for d in cursor.limit(5000)]


class InterpreterTaken(Exception):
    """Another booking reserved this interpreter for this time a moment ago."""


async def reserve_interpreter(uow: UnitOfWork, doc: Document) -> None:
    try:
        await uow.collection(RESERVATIONS).insert_one(doc, session=uow.session)
    except DuplicateKeyError:
        raise InterpreterTaken from None


async def release_interpreter(
    uow: UnitOfWork, district_id: str, booking_id: str
) -> Document | None:
    found: Document | None = await uow.collection(RESERVATIONS).find_one_and_delete(
        {"district_id": district_id, "booking_id": booking_id}, session=uow.session
    )
    return found


async def schedule_of_interpreter(
    uow: UnitOfWork, district_id: str, interpreter_id: str, since: datetime, limit: int
) -> list[Document]:
    cursor = uow.collection(RESERVATIONS).find(
        {
            "district_id": district_id,
            "interpreter_id": interpreter_id,
            "starts_at": {"$gte": since},
        },
        session=uow.session,
    )
    return [d async for d in cursor.sort("starts_at", 1).limit(limit)]


# -- the students' goals (a read model of aptt.goals.goals.v1), shown on a booking -------------

GOALS = "conference_student_goals"
student_goals = ReadModel(GOALS, "goal_id")
CONFERENCE_INDEXES = {
    **CONFERENCE_INDEXES,
    GOALS: [
        student_goals.index("one_per_goal"),
        IndexModel(_keys("student_id"), name="by_student"),
    ],
}


async def current_goals(uow: UnitOfWork, district_id: str, student_id: str) -> list[Document]:
    return await student_goals.find_live(
        uow, district_id, {"student_id": student_id}, sort="goal_id", limit=20
    )


async def bookings_of_classroom(
    uow: UnitOfWork, district_id: str, classroom_id: str, since: datetime, until: datetime
) -> list[Booking]:
    cursor = uow.collection(BOOKINGS).find(
        {
            "district_id": district_id,
            "classroom_id": classroom_id,
            "starts_at": {"$gte": since, "$lt": until},
            **ACTIVE,
        },
        session=uow.session,
    )
    return [_booking(d) async for d in cursor.sort("starts_at", 1).limit(2000)]


async def booked_students_of_windows(
    uow: UnitOfWork, district_id: str, window_ids: list[str]
) -> set[str]:
    cursor = uow.collection(BOOKINGS).find(
        {"district_id": district_id, "window_id": {"$in": window_ids}, **ACTIVE},
        {"student_id": 1},
        session=uow.session,
    )
    return {d["student_id"] async for d in cursor.limit(5000)}


async def booking_starts_in_windows(
    uow: UnitOfWork, district_id: str, window_ids: list[str]
) -> list[datetime]:
    """When each booked conference of these windows starts."""
    cursor = uow.collection(BOOKINGS).find(
        {"district_id": district_id, "window_id": {"$in": window_ids}},
        {"starts_at": 1, "status": 1},
        session=uow.session,
    )
    # The status is checked here, as in meetings' store: SecantusDB would not plan the
    # partial (window, student) index for it.
    return [d["starts_at"] async for d in cursor if d["status"] == ACTIVE["status"]]


# -- the waitlist ------------------------------------------------------------------------------

WAITLIST = "conference_waitlist"
CONFERENCE_INDEXES = {
    **CONFERENCE_INDEXES,
    WAITLIST: [
        IndexModel(_keys("entry_id"), name="one_per_entry", unique=True),
        IndexModel(
            _keys("window_id", "student_id"),
            name="once_per_student_waiting",
            unique=True,
            partialFilterExpression={"status": "waiting"},
        ),
        IndexModel(_keys("window_id", "status", "created_at"), name="by_window_queue"),
    ],
}


async def add_to_waitlist(uow: UnitOfWork, entry: Document) -> bool:
    try:
        await uow.collection(WAITLIST).insert_one(entry, session=uow.session)
    except DuplicateKeyError:
        return False
    return True


async def first_waiting(
    uow: UnitOfWork, district_id: str, window_id: str, *, count: int
) -> list[Document]:
    cursor = uow.collection(WAITLIST).find(
        {"district_id": district_id, "window_id": window_id, "status": "waiting"},
        session=uow.session,
    )
    return [d async for d in cursor.sort("created_at", 1).limit(count)]


async def student_has_booking(
    uow: UnitOfWork, district_id: str, window_id: str, student_id: str
) -> bool:
    found = await uow.collection(BOOKINGS).find_one(
        {"district_id": district_id, "window_id": window_id, "student_id": student_id, **ACTIVE},
        {"_id": 1},
        session=uow.session,
    )
    return found is not None


async def mark_offered(
    uow: UnitOfWork, entry: Document, slot_id: str, expires_at: datetime
) -> None:
    await uow.collection(WAITLIST).update_one(
        {"district_id": entry["district_id"], "entry_id": entry["entry_id"]},
        {"$set": {"status": "offered", "slot_id": slot_id, "offer_expires_at": expires_at}},
        session=uow.session,
    )


async def offer_lapsed(uow: UnitOfWork, district_id: str, entry_id: str) -> None:
    """The family let its offer expire: it waits no more (it may join the waitlist again)."""
    await uow.collection(WAITLIST).update_one(
        {"district_id": district_id, "entry_id": entry_id, "status": "offered"},
        {"$set": {"status": "lapsed"}},
        session=uow.session,
    )


async def waitlist_done(uow: UnitOfWork, district_id: str, window_id: str, student_id: str) -> None:
    """The student has a booking in the window: they wait no more."""
    await uow.collection(WAITLIST).update_many(
        {
            "district_id": district_id,
            "window_id": window_id,
            "student_id": student_id,
            "status": {"$in": ["waiting", "offered"]},
        },
        {"$set": {"status": "booked"}},
        session=uow.session,
    )
