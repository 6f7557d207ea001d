"""A waitlist offer the family lets lapse goes to the next family waiting, told by a
WaitlistOffered event, without a job: when the slot is next read or claimed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aptt_local.testing import eventually

from .conftest import District, Scheduling
from .test_conferences import book, code, conference_events, conference_window, publish

# A short offer, so a test sees one lapse without waiting an hour.
SCHEDULING_SETTINGS = {"conference_offer_hold_seconds": 2}
OFFERED = "org.aptt.scheduling.waitlist.offered.v1"


async def _two_waiting_and_a_freed_slot(
    scheduling: Scheduling,
) -> tuple[District, dict[str, Any], str]:
    """One slot, booked by the first family and then cancelled, with two families waiting:
    the second family (student 1) is offered it first."""
    d = await scheduling.district(students=3, guardians_per_student=1)
    window_id = await conference_window(d)
    availability = await publish(d, starts="17:00", ends="17:30")
    [slot] = [s["slot_id"] for s in availability["slots"]]
    first = (await book(d, slot)).json()
    for i in (1, 2):
        joined = await scheduling.client.post(
            "/v1/conference-waitlist",
            json={"window_id": window_id, "student_id": d.students[i]},
            headers=d.guardian(i),
        )
        assert joined.status_code == 201, joined.text
    cancelled = await scheduling.client.post(
        f"/v1/conference-bookings/{first['booking_id']}/cancel", json={}, headers=d.guardian(0)
    )
    assert cancelled.status_code == 200, cancelled.text
    [offer] = await conference_events(d, OFFERED, 1)
    assert (offer["student_id"], offer["slot_id"]) == (d.students[1], slot)
    return d, availability, slot


async def test_a_lapsed_offer_goes_to_the_next_family_when_the_slots_are_read(
    scheduling: Scheduling,
) -> None:
    d, availability, slot = await _two_waiting_and_a_freed_slot(scheduling)

    # Nobody books. Families keep reading the classroom's times, as the pages do: once the
    # offer has lapsed, the read passes it on.
    async def offered_to_the_next() -> bool:
        read = await scheduling.client.get(
            f"/v1/conference-availability/{availability['availability_id']}",
            headers=d.guardian(2),
        )
        assert read.status_code == 200, read.text
        return any(s["slot_id"] == slot and s["state"] == "yours" for s in read.json()["slots"])

    await eventually(offered_to_the_next, timeout=60, what="the offer passed on")
    offers = await conference_events(d, OFFERED, 2)
    # Keyed by waitlist entry, the two offers may sit in different partitions: no order.
    assert sorted((o["student_id"], o["slot_id"]) for o in offers) == sorted(
        [(d.students[1], slot), (d.students[2], slot)]
    )

    # The family that let it lapse can no longer book it; the next family can.
    late = await book(d, slot, student=1)
    assert (late.status_code, code(late)) == (409, "slot-taken")
    assert (await book(d, slot, student=2)).status_code == 201


async def test_the_lapsed_family_trying_to_book_passes_the_offer_on(
    scheduling: Scheduling,
) -> None:
    d, _, slot = await _two_waiting_and_a_freed_slot(scheduling)

    async def lapsed() -> bool:
        claim = await scheduling.db["conference_claims"].find_one(
            {"district_id": d.district_id, "slot_id": slot}
        )
        return claim is not None and claim["expires_at"] <= datetime.now(UTC)

    await eventually(lapsed, timeout=60, what="the offer to lapse")
    # No read in between: the lapsed family's own booking meets the lapsed offer, which goes
    # to the next family, and is refused.
    late = await book(d, slot, student=1)
    assert (late.status_code, code(late)) == (409, "slot-taken")
    offers = await conference_events(d, OFFERED, 2)
    assert sorted(o["student_id"] for o in offers) == sorted(d.students[1:3])
    # Someone not on the waitlist cannot take it either while it is offered.
    assert code(await book(d, slot, student=0)) == "slot-taken"
    assert (await book(d, slot, student=2)).status_code == 201
