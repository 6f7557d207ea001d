"""Routes of one-to-one conferences: availability, slots, holds, bookings."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

from aptt_platform.deps import CurrentUser, Guardian, Now, SchoolAdmin, Staff, Store
from aptt_platform.mongo import Contended, Mongo
from aptt_platform.web import Limit, Page, problems
from fastapi import APIRouter, Query, Response, status

from aptt_scheduling.api.conferences_ics import conference_feed
from aptt_scheduling.api.conferences_schemas import (
    AvailabilityIn,
    AvailabilityOut,
    BookingIn,
    BookingOut,
    CancelIn,
    ClassroomAvailabilityIn,
    DaySheetOut,
    HoldIn,
    HoldOut,
    MoveIn,
    PlanBookingIn,
    PlanIn,
    PlanOut,
    SchoolEveningIn,
    WaitlistIn,
    WaitlistOut,
)
from aptt_scheduling.api.schemas import Language, PathId
from aptt_scheduling.service import conferences as service
from aptt_scheduling.service import conferences_views as views
from aptt_scheduling.service import conferences_waitlist as waitlist
from aptt_scheduling.service import siblings

T = TypeVar("T")

router = APIRouter(tags=["conferences"])

# Requests racing for one slot conflict on its claim and would retry each other out (the
# driver re-runs every loser at once, again and again). As the consumer does with batches,
# each runs once; the losers then run one after another per slot, and each of them reads the
# winner's claim at once. The locks are an optimisation of this process only: the database's
# indexes and conditional writes keep the rules whatever the number of processes.
_serial: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


async def _run_racing(
    mongo: Mongo,
    key: str,
    use_case: Callable[..., Awaitable[T]],
    **kwargs: Any,
) -> T:
    try:
        return await _run_serially(mongo, key, use_case, **kwargs)
    except waitlist.OfferToPassOn as met:
        # The refused use case's transaction is gone: the offer is passed on in its own,
        # then the request runs again and meets the slot as it is now.
        await mongo.run(
            waitlist.pass_on_offer,
            district_id=met.claim["district_id"],
            slot_id=met.claim["slot_id"],
            now=kwargs["now"],
        )
        return await _run_serially(mongo, key, use_case, **kwargs)


async def _run_serially(
    mongo: Mongo,
    key: str,
    use_case: Callable[..., Awaitable[T]],
    **kwargs: Any,
) -> T:
    try:
        return await mongo.run_contended(use_case, **kwargs)
    except Contended:
        lock = _serial.get(key)
        if lock is None:
            lock = asyncio.Lock()
            _serial[key] = lock
        async with lock:
            return await mongo.run(use_case, **kwargs)


@router.post(
    "/conference-availability",
    status_code=status.HTTP_201_CREATED,
    summary="Publish a classroom's conference hours, cut into slots (teacher, or an admin)",
    responses=problems(403, 404, 409),
)
async def publish(
    body: ClassroomAvailabilityIn, principal: Staff, mongo: Store, now: Now
) -> AvailabilityOut:
    view = await mongo.run(
        service.publish_availability,
        principal=principal,
        classroom_id=body.classroom_id,
        draft=body.draft(),
        now=now,
    )
    return AvailabilityOut.of(view)


@router.post(
    "/schools/{school_id}/conference-evenings",
    status_code=status.HTTP_201_CREATED,
    summary="Publish one conference evening for every classroom of a school (school admin)",
    responses=problems(403, 404, 409),
)
async def publish_evening(
    school_id: PathId, body: SchoolEveningIn, principal: SchoolAdmin, mongo: Store, now: Now
) -> list[AvailabilityOut]:
    views = await mongo.run(
        service.publish_school_evening,
        principal=principal,
        school_id=school_id,
        draft=body.draft(),
        places=body.places,
        now=now,
    )
    return [AvailabilityOut.of(v) for v in views]


@router.get(
    "/conference-availability/{availability_id}",
    summary="Conference hours and their slots (staff of the classroom, its families)",
    responses=problems(403, 404),
)
async def get_availability(
    availability_id: PathId,
    principal: CurrentUser,
    mongo: Store,
    now: Now,
    interpreter_language: Language | None = Query(
        default=None, description="also list the slots with an interpreter of this language"
    ),
) -> AvailabilityOut:
    view = await mongo.run(
        service.get_availability,
        principal=principal,
        availability_id=availability_id,
        now=now,
        interpreter_language=interpreter_language,
    )
    return AvailabilityOut.of(view)


@router.get(
    "/classrooms/{classroom_id}/conference-availability",
    summary="A classroom's conference hours with slots still to come (staff, its families)",
    responses=problems(403, 404),
)
async def classroom_availability(
    classroom_id: PathId, principal: CurrentUser, mongo: Store, now: Now, limit: Limit = 20
) -> Page[AvailabilityOut]:
    views = await mongo.run(
        service.classroom_availabilities,
        principal=principal,
        classroom_id=classroom_id,
        now=now,
        limit=limit,
    )
    return Page(items=[AvailabilityOut.of(v) for v in views])


@router.put(
    "/conference-availability/{availability_id}",
    summary="Change conference hours; booked slots are kept",
    responses=problems(403, 404, 409),
)
async def change_availability(
    availability_id: PathId, body: AvailabilityIn, principal: Staff, mongo: Store, now: Now
) -> AvailabilityOut:
    view = await mongo.run(
        service.change_availability,
        principal=principal,
        availability_id=availability_id,
        draft=body.draft(),
        now=now,
    )
    return AvailabilityOut.of(view)


@router.post(
    "/conference-slots/{slot_id}/hold",
    status_code=status.HTTP_201_CREATED,
    summary="Hold a slot for a few minutes while the family finishes booking",
    responses=problems(403, 404, 409),
)
async def hold(
    slot_id: PathId, body: HoldIn, principal: CurrentUser, mongo: Store, now: Now
) -> HoldOut:
    held = await _run_racing(
        mongo,
        slot_id,
        service.hold_slot,
        principal=principal,
        slot_id=slot_id,
        student_id=body.student_id,
        now=now,
    )
    return HoldOut.of(held)


@router.post(
    "/conference-slots/{slot_id}/booking",
    status_code=status.HTTP_201_CREATED,
    summary="Book a slot for a student (a guardian for their child; staff for a family)",
    responses=problems(403, 404, 409),
)
async def book(
    slot_id: PathId, body: BookingIn, principal: CurrentUser, mongo: Store, now: Now
) -> BookingOut:
    view = await _run_racing(
        mongo,
        slot_id,
        service.book_slot,
        principal=principal,
        slot_id=slot_id,
        student_id=body.student_id,
        guardian_id=body.guardian_id,
        interpreter_language=body.interpreter_language,
        now=now,
    )
    return BookingOut.of(view)


@router.get(
    "/conference-bookings/{booking_id}",
    summary="A conference booking (the student's guardians, staff of the classroom)",
    responses=problems(403, 404),
)
async def get_booking(booking_id: PathId, principal: CurrentUser, mongo: Store) -> BookingOut:
    view = await mongo.run(service.get_booking, principal=principal, booking_id=booking_id)
    return BookingOut.of(view)


@router.post(
    "/conference-bookings/{booking_id}/cancel",
    summary="Cancel a conference (family until the cutoff; staff with a reason)",
    responses=problems(403, 404, 409),
)
async def cancel(
    booking_id: PathId, body: CancelIn, principal: CurrentUser, mongo: Store, now: Now
) -> BookingOut:
    view = await mongo.run(
        service.cancel_booking,
        principal=principal,
        booking_id=booking_id,
        reason_code=body.reason_code,
        reason_note=body.note,
        now=now,
    )
    return BookingOut.of(view)


@router.post(
    "/conference-bookings/{booking_id}/move",
    summary="Move a conference to another slot of the same teacher and window",
    responses=problems(403, 404, 409),
)
async def move(
    booking_id: PathId, body: MoveIn, principal: CurrentUser, mongo: Store, now: Now
) -> BookingOut:
    view = await _run_racing(
        mongo,
        body.slot_id,
        service.move_booking,
        principal=principal,
        booking_id=booking_id,
        slot_id=body.slot_id,
        reason_code=body.reason_code,
        reason_note=body.note,
        now=now,
    )
    return BookingOut.of(view)


@router.get(
    "/me/conference-bookings",
    summary="A guardian's coming conferences, for all their children",
)
async def my_bookings(
    principal: Guardian, mongo: Store, now: Now, limit: Limit = 20
) -> Page[BookingOut]:
    views = await mongo.run(service.my_bookings, principal=principal, now=now, limit=limit)
    return Page(items=[BookingOut.of(v) for v in views])


@router.post(
    "/me/conference-plans",
    status_code=status.HTTP_201_CREATED,
    summary="Propose back-to-back conferences for all my children in a time range, held",
    responses=problems(409),
)
async def propose_plan(body: PlanIn, principal: Guardian, mongo: Store, now: Now) -> PlanOut:
    proposal = await _run_racing(
        mongo,
        principal.subject,
        siblings.propose,
        principal=principal,
        student_ids=body.student_ids,
        since=body.starts_at,
        until=body.ends_at,
        now=now,
    )
    return PlanOut.of(proposal)


@router.post(
    "/me/conference-plans/booking",
    status_code=status.HTTP_201_CREATED,
    summary="Book every conference of a plan, or none",
    responses=problems(404, 409),
)
async def book_plan(
    body: PlanBookingIn, principal: Guardian, mongo: Store, now: Now
) -> list[BookingOut]:
    views = await _run_racing(
        mongo,
        principal.subject,
        siblings.book_all,
        principal=principal,
        items=[(i.student_id, i.slot_id) for i in body.items],
        interpreter_language=body.interpreter_language,
        now=now,
    )
    return [BookingOut.of(v) for v in views]


@router.get(
    "/classrooms/{classroom_id}/conference-day-sheet",
    summary="The teacher's day sheet: every slot of a day in order, and families not booked",
    responses=problems(403, 404),
)
async def day_sheet(
    classroom_id: PathId, principal: Staff, mongo: Store, day: date = Query()
) -> DaySheetOut:
    sheet = await mongo.run(
        views.day_sheet, principal=principal, classroom_id=classroom_id, day=day
    )
    return DaySheetOut.of(sheet)


@router.get(
    "/classrooms/{classroom_id}/conferences.ics",
    summary="The classroom's coming conferences as an iCalendar feed (its teachers, admins)",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, **problems(403, 404)},
)
async def classroom_feed(
    classroom_id: PathId, principal: Staff, mongo: Store, now: Now
) -> Response:
    bookings = await mongo.run(
        views.classroom_feed, principal=principal, classroom_id=classroom_id, now=now
    )
    return Response(conference_feed(bookings, now=now), media_type="text/calendar; charset=utf-8")


@router.post(
    "/conference-waitlist",
    status_code=status.HTTP_201_CREATED,
    summary="Join a conference window's waitlist: the first slot that frees is offered, held",
    responses=problems(404, 409),
)
async def join_waitlist(
    body: WaitlistIn, principal: Guardian, mongo: Store, now: Now
) -> WaitlistOut:
    entry = await mongo.run(
        waitlist.join,
        principal=principal,
        window_id=body.window_id,
        student_id=body.student_id,
        now=now,
    )
    return WaitlistOut.model_validate(entry)
