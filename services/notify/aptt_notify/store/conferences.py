"""The conference bookings read model: which students of a window have a booking, so the
nudge before sign-up closes reaches only families without one (docs/decisions/0530)."""

from __future__ import annotations

from collections.abc import Sequence

from aptt_platform.mongo import Document, UnitOfWork
from aptt_platform.readmodel import ReadModel
from pymongo import IndexModel

from aptt_notify.store import roster
from aptt_notify.store.collections import CONFERENCE_BOOKINGS, by_district

# Students of one classroom with a booking in one window; the bound is a classroom's size.
MAX_BOOKINGS_OF_WINDOW = 2000

bookings = ReadModel(CONFERENCE_BOOKINGS, "booking_id")

INDEXES: dict[str, Sequence[IndexModel]] = {
    CONFERENCE_BOOKINGS: [
        bookings.index(name="booking"),
        by_district("window_id", "classroom_id", name="by_window"),
    ],
}


async def booked_students(
    uow: UnitOfWork, district_id: str, window_id: str, classroom_id: str
) -> set[str]:
    docs = await bookings.find_live(
        uow,
        district_id,
        {"window_id": window_id, "classroom_id": classroom_id},
        projection={"student_id": 1},
        limit=MAX_BOOKINGS_OF_WINDOW,
    )
    return {doc["student_id"] for doc in docs}


async def unbooked_guardians(uow: UnitOfWork, district_id: str, audience: Document) -> set[str]:
    """Guardians of the classroom's students without a booking in the window (the nudge)."""
    classroom = await roster.classrooms.get(uow, district_id, audience["classroom_id"])
    if classroom is None:
        return set()
    booked = await booked_students(
        uow, district_id, audience["window_id"], audience["classroom_id"]
    )
    waiting = [s for s in classroom.get("student_ids", []) if s not in booked]
    return await roster.guardians_of_students(uow, district_id, waiting)
