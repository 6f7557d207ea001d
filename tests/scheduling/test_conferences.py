"""One-to-one conferences through the API: availability, the booking rush, holds, sign-up
periods and cutoffs, changes, and who may reach what."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aptt_contracts.data import ClassroomUpserted, StudentUpserted
from aptt_contracts.goals import GoalProgressed, GoalSet
from aptt_contracts.scheduling import CONFERENCES
from aptt_local.kafkatools import read_topic
from aptt_local.testing import eventually, random_id
from aptt_platform.events import header_dict

from .conftest import TIMEZONE, District, Scheduling

# A short hold, so a test sees one expire without waiting two minutes.
SCHEDULING_SETTINGS = {"conference_hold_seconds": 2}

PUBLISHED = "org.aptt.scheduling.conference-availability.published.v1"
MADE = "org.aptt.scheduling.conference-booking.made.v1"
CANCELLED = "org.aptt.scheduling.conference-booking.cancelled.v1"
MOVED = "org.aptt.scheduling.conference-booking.moved.v1"


def code(answer: httpx.Response) -> str:
    """The problem's code: the last part of its type."""
    kind: str = answer.json()["type"]
    return kind.rsplit("/", 1)[-1]


def _now() -> datetime:
    return datetime.now(UTC)


def _day(in_days: int) -> date:
    return (_now() + timedelta(days=in_days)).astimezone(ZoneInfo(TIMEZONE)).date()


async def conference_window(d: District) -> str:
    """Give the district's school a conference window from this month to the next."""
    now = _now().astimezone(ZoneInfo(TIMEZONE))
    first = now.year if now.month >= 8 else now.year - 1
    offset = (now.month - 8) % 12
    template = await d.api.client.post(
        "/v1/calendar-templates",
        json={
            "name": random_id("conferences"),
            "start_month": 8,
            "windows": [
                {"kind": "conference", "month": now.month, "span_months": 2 if offset < 11 else 1}
            ],
        },
        headers=d.district_admin,
    )
    assert template.status_code == 201, template.text
    applied = await d.api.client.post(
        f"/v1/schools/{d.school_id}/engagement-calendars",
        json={"template_id": template.json()["template_id"], "school_year": f"{first}-{first + 1}"},
        headers=d.district_admin,
    )
    assert applied.status_code in (200, 201), applied.text
    windows = await d.api.client.get(
        f"/v1/classrooms/{d.classroom_id}/meeting-windows",
        params={"school_year": f"{first}-{first + 1}"},
        headers=d.teacher,
    )
    assert windows.status_code == 200, windows.text
    [window] = [w for w in windows.json()["items"] if w["kind"] == "conference"]
    window_id: str = window["window_id"]
    return window_id


def hours(
    *,
    in_days: int = 3,
    starts: str = "17:00",
    ends: str = "19:00",
    opens_in: timedelta = timedelta(minutes=-1),
    **more: Any,
) -> dict[str, Any]:
    return {
        "days": [{"day": _day(in_days).isoformat(), "starts": starts, "ends": ends}],
        "place": "Room 12",
        "signup_opens_at": (_now() + opens_in).isoformat(),
        **more,
    }


async def publish(d: District, **body: Any) -> dict[str, Any]:
    answer = await d.api.client.post(
        "/v1/conference-availability",
        json={"classroom_id": d.classroom_id, **hours(**body)},
        headers=d.teacher,
    )
    assert answer.status_code == 201, answer.text
    published: dict[str, Any] = answer.json()
    return published


async def book(
    d: District,
    slot_id: str,
    student: int = 0,
    guardian: int = 0,
    client: httpx.AsyncClient | None = None,
) -> httpx.Response:
    return await (client or d.api.client).post(
        f"/v1/conference-slots/{slot_id}/booking",
        json={"student_id": d.students[student]},
        headers=d.guardian(student, guardian),
    )


async def conference_events(d: District, event_type: str, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    async def enough() -> bool:
        found.clear()
        for record in await read_topic(d.api.stack.kafka_bootstrap, CONFERENCES):
            headers = header_dict(record.headers)
            if (
                headers.get("ce_district") == d.district_id.encode()
                and headers.get("ce_type") == event_type.encode()
            ):
                found.append(json.loads(record.value or b"{}"))
        return len(found) >= count

    await eventually(enough, what=f"{count} {event_type}")
    return found


async def test_a_teacher_publishes_hours_cut_into_slots_with_breaks_and_buffers(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1)
    window_id = await conference_window(d)
    body = hours(starts="17:00", ends="19:00", slot_minutes=20, buffer_minutes=5)
    body["days"][0]["breaks"] = [{"starts": "17:50", "ends": "18:10"}]
    answer = await scheduling.client.post(
        "/v1/conference-availability",
        json={"classroom_id": d.classroom_id, **body},
        headers=d.teacher,
    )
    assert answer.status_code == 201, answer.text
    availability = answer.json()
    local = [s["local_starts_at"][11:16] for s in availability["slots"]]
    # 17:00, 17:25 fit before the break; 17:50 would cut into it; after it 18:10, 18:35.
    assert local == ["17:00", "17:25", "18:10", "18:35"]
    assert {s["state"] for s in availability["slots"]} == {"free"}
    assert availability["window_id"] == window_id
    first = datetime.fromisoformat(availability["slots"][0]["starts_at"])
    closes = datetime.fromisoformat(availability["signup_closes_at"])
    assert closes == first - timedelta(hours=24)

    [event] = await conference_events(d, PUBLISHED, 1)
    assert event["availability_id"] == availability["availability_id"]
    assert (event["slot_count"], event["slot_minutes"], event["buffer_minutes"]) == (4, 20, 5)
    assert "place" not in event
    assert "video_link" not in event

    too_short = await scheduling.client.post(
        "/v1/conference-availability",
        json={"classroom_id": d.classroom_id, **hours(slot_minutes=5)},
        headers=d.teacher,
    )
    assert too_short.status_code == 422
    overlapping = await scheduling.client.post(
        "/v1/conference-availability",
        json={"classroom_id": d.classroom_id, **hours(starts="18:00", ends="20:00")},
        headers=d.teacher,
    )
    assert overlapping.status_code == 409
    assert code(overlapping) == "overlapping-availability"


async def test_two_hundred_families_racing_for_fifty_slots_get_exactly_fifty_bookings(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=200, guardians_per_student=1)
    await conference_window(d)
    availability = await publish(d, starts="09:00", ends="17:20", slot_minutes=10)
    slots = [s["slot_id"] for s in availability["slots"]]
    assert len(slots) == 50

    # Two hundred requests at once on a shared 2-core machine: the answers may be slow, and
    # only what they decide is asserted.
    async with httpx.AsyncClient(
        base_url=scheduling.url, timeout=180, limits=httpx.Limits(max_connections=200)
    ) as rush:
        answers = await asyncio.gather(
            *(book(d, slots[i % 50], student=i, client=rush) for i in range(200))
        )
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 50, 409: 150}, statuses
    assert {code(a) for a in answers if a.status_code == 409} == {"slot-taken"}

    stored = (
        await scheduling.db["conference_bookings"]
        .find({"district_id": d.district_id, "status": "booked"})
        .to_list(None)
    )
    assert len(stored) == 50
    assert len({b["slot_id"] for b in stored}) == 50
    assert len({b["student_id"] for b in stored}) == 50


async def test_both_guardians_of_a_child_racing_get_one_booking(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1, guardians_per_student=2)
    await conference_window(d)
    slots = [s["slot_id"] for s in (await publish(d))["slots"]]

    mother, father = await asyncio.gather(
        book(d, slots[0], guardian=0), book(d, slots[1], guardian=1)
    )
    assert sorted([mother.status_code, father.status_code]) == [201, 409]
    loser = mother if mother.status_code == 409 else father
    assert code(loser) == "student-already-booked"
    stored = await scheduling.db["conference_bookings"].count_documents(
        {"district_id": d.district_id, "student_id": d.students[0], "status": "booked"}
    )
    assert stored == 1
    # A booked slot cannot be held again, not even by the family that booked it.
    won = mother if mother.status_code == 201 else father
    rehold = await scheduling.client.post(
        f"/v1/conference-slots/{won.json()['slot_id']}/hold",
        json={"student_id": d.students[0]},
        headers=d.guardian(0, 0 if won is mother else 1),
    )
    assert (rehold.status_code, code(rehold)) == (409, "slot-taken")


async def test_a_held_slot_is_offered_to_nobody_else_until_the_hold_expires(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=2, guardians_per_student=1)
    await conference_window(d)
    availability = await publish(d)
    slot = availability["slots"][0]["slot_id"]

    held = await scheduling.client.post(
        f"/v1/conference-slots/{slot}/hold",
        json={"student_id": d.students[0]},
        headers=d.guardian(0),
    )
    assert held.status_code == 201, held.text
    seen = await scheduling.client.get(
        f"/v1/conference-availability/{availability['availability_id']}", headers=d.guardian(1)
    )
    assert seen.json()["slots"][0]["state"] == "held"
    refused = await book(d, slot, student=1)
    assert refused.status_code == 409
    assert code(refused) == "slot-taken"

    async def taken_over() -> bool:
        return (await book(d, slot, student=1)).status_code == 201

    await eventually(taken_over, what="the other family to book the slot once the hold expired")
    late = await book(d, slot, student=0)
    assert late.status_code == 409


async def test_families_book_inside_the_sign_up_period_and_staff_at_any_time(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=2, guardians_per_student=1)
    await conference_window(d)
    later = await publish(d, opens_in=timedelta(days=1))
    early = await book(d, later["slots"][0]["slot_id"])
    assert early.status_code == 409
    problem = early.json()
    assert code(early) == "signup-not-open"
    assert datetime.fromisoformat(problem["signup_opens_at"]) == datetime.fromisoformat(
        later["signup_opens_at"]
    )
    assert "signup_closes_at" in problem

    closed = await publish(
        d,
        in_days=4,
        opens_in=timedelta(days=-2),
        signup_closes_at=(_now() - timedelta(hours=1)).isoformat(),
    )
    late = await book(d, closed["slots"][0]["slot_id"])
    assert (late.status_code, code(late)) == (409, "signup-closed")

    by_phone = await scheduling.client.post(
        f"/v1/conference-slots/{closed['slots'][0]['slot_id']}/booking",
        json={"student_id": d.students[1]},
        headers=d.teacher,
    )
    assert by_phone.status_code == 201, by_phone.text
    assert by_phone.json()["by"] == "staff"
    assert by_phone.json()["guardian_id"] == d.guardians[d.students[1]][0]


async def test_families_change_until_the_cutoff_and_teachers_move_with_a_reason(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=2, guardians_per_student=1)
    await conference_window(d)
    # Families may change until three days before: the slots are sooner, so it has passed.
    strict = await publish(d, in_days=2, change_cutoff_hours=72)
    [first, second, *_] = [s["slot_id"] for s in strict["slots"]]
    booked = (await book(d, first)).json()
    too_late = await scheduling.client.post(
        f"/v1/conference-bookings/{booked['booking_id']}/cancel", json={}, headers=d.guardian(0)
    )
    assert (too_late.status_code, code(too_late)) == (409, "change-cutoff-passed")
    assert "cutoff_at" in too_late.json()

    moved = await scheduling.client.post(
        f"/v1/conference-bookings/{booked['booking_id']}/move",
        json={
            "slot_id": second,
            "reason_code": "schedule_change",
            "note": "A staff meeting ran late",
        },
        headers=d.teacher,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["slot_id"], moved.json()["sequence"]) == (second, 1)
    [event] = await conference_events(d, MOVED, 1)
    assert (event["previous_slot_id"], event["reason_code"], event["by"]) == (
        first,
        "schedule_change",
        "staff",
    )
    assert "A staff meeting" not in json.dumps(event)
    # The first slot is free again for another family.
    assert (await book(d, first, student=1)).status_code == 201

    relaxed = await publish(d, in_days=5)
    other = await book(d, relaxed["slots"][0]["slot_id"], student=1)
    assert code(other) == "student-already-booked"


async def test_changed_hours_keep_booked_families(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1, guardians_per_student=1)
    await conference_window(d)
    availability = await publish(d, starts="17:00", ends="19:00")
    last = availability["slots"][-1]["slot_id"]
    assert (await book(d, last)).status_code == 201

    changed = await scheduling.client.put(
        f"/v1/conference-availability/{availability['availability_id']}",
        json=hours(starts="17:00", ends="18:00"),
        headers=d.teacher,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["booked_slots_kept"] == [last]
    assert [s["state"] for s in body["slots"]] == ["free", "free", "booked"]


async def test_other_families_teachers_and_districts_are_out_of_reach(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=2, guardians_per_student=1)
    await conference_window(d)
    availability = await publish(d)
    slot = availability["slots"][0]["slot_id"]
    booking = (await book(d, slot)).json()
    path = f"/v1/conference-bookings/{booking['booking_id']}"

    assert (await scheduling.client.get(path, headers=d.guardian(0))).status_code == 200
    other_family = await scheduling.client.get(path, headers=d.guardian(1))
    assert other_family.status_code == 404
    cancel_other = await scheduling.client.post(f"{path}/cancel", json={}, headers=d.guardian(1))
    assert cancel_other.status_code == 404
    # Booking for someone else's child is as if the child did not exist.
    for_other = await scheduling.client.post(
        f"/v1/conference-slots/{availability['slots'][1]['slot_id']}/booking",
        json={"student_id": d.students[0]},
        headers=d.guardian(1),
    )
    assert for_other.status_code == 404

    other_teacher = d.headers(random_id("tch"), "teacher", schools=[d.school_id])
    changed = await scheduling.client.put(
        f"/v1/conference-availability/{availability['availability_id']}",
        json=hours(),
        headers=other_teacher,
    )
    assert changed.status_code == 403
    assert (await scheduling.client.get(path, headers=other_teacher)).status_code == 403

    elsewhere = d.headers(random_id("admin"), "district_admin", district_id=random_id("d"))
    assert (await scheduling.client.get(path, headers=elsewhere)).status_code == 404
    assert (
        await scheduling.client.get(
            f"/v1/conference-availability/{availability['availability_id']}", headers=elsewhere
        )
    ).status_code == 404
    assert (
        await scheduling.client.post(
            f"/v1/conference-slots/{slot}/hold",
            json={"student_id": d.students[1]},
            headers=elsewhere,
        )
    ).status_code == 404


async def second_classroom(
    d: District, guardian: str | None = None, neighbours: int = 0
) -> tuple[str, str, dict[str, str]]:
    """Another classroom of the school, with its teacher and a child (of `guardian`, else of
    a new family): (classroom, student, the guardian's headers). Its other families, if any,
    are `d.more["neighbours"]`: (student, headers)."""
    classroom, teacher = random_id("cls"), random_id("tch")
    student, guardian = random_id("stu"), guardian or random_id("gdn")
    others = [(random_id("stu"), random_id("gdn")) for _ in range(neighbours)]
    d.more["neighbours"] = [(s, d.headers(g, "guardian")) for s, g in others]
    await d.api.roster(
        *(
            StudentUpserted(
                district_id=d.district_id, student_id=s, school_id=d.school_id, guardian_ids=[g]
            )
            for s, g in [(student, guardian), *others]
        ),
        ClassroomUpserted(
            district_id=d.district_id,
            classroom_id=classroom,
            school_id=d.school_id,
            grade=3,
            teacher_ids=[teacher],
            student_ids=[student, *(s for s, _ in others)],
        ),
    )
    await d.api.wait_for(
        d.district_id, classrooms=[classroom], students=[student, *(s for s, _ in others)]
    )
    return classroom, student, d.headers(guardian, "guardian")


async def test_an_interpreter_is_never_in_two_places_and_families_hear_where_one_is_free(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1, guardians_per_student=1)
    classroom, student, guardian = await second_classroom(d)
    await conference_window(d)
    evening = await scheduling.client.post(
        f"/v1/schools/{d.school_id}/conference-evenings",
        # The second classroom in its teacher's room; the first takes the evening's place.
        json={**hours(starts="17:00", ends="18:00"), "places": {classroom: "Room 7"}},
        headers=d.school_admin,
    )
    assert evening.status_code == 201, evening.text
    by_classroom = {a["classroom_id"]: a["slots"] for a in evening.json()}
    assert set(by_classroom) == {d.classroom_id, classroom}
    places = {a["classroom_id"]: a["place"] for a in evening.json()}
    assert places == {d.classroom_id: "Room 12", classroom: "Room 7"}
    day = _day(3)
    zone = ZoneInfo(TIMEZONE)
    interpreter = await scheduling.client.post(
        "/v1/interpreters",
        json={
            "name": "Ana",
            "languages": ["es"],
            "available": [
                {
                    "starts_at": datetime.combine(day, time(16), zone).isoformat(),
                    "ends_at": datetime.combine(day, time(20), zone).isoformat(),
                }
            ],
        },
        headers=d.district_admin,
    )
    assert interpreter.status_code == 201, interpreter.text
    interpreter_id = interpreter.json()["interpreter_id"]

    # Both families ask for Spanish at 17:00, in two classrooms, at once.
    first, second = await asyncio.gather(
        scheduling.client.post(
            f"/v1/conference-slots/{by_classroom[d.classroom_id][0]['slot_id']}/booking",
            json={"student_id": d.students[0], "interpreter_language": "es"},
            headers=d.guardian(0),
        ),
        scheduling.client.post(
            f"/v1/conference-slots/{by_classroom[classroom][0]['slot_id']}/booking",
            json={"student_id": student, "interpreter_language": "es"},
            headers=guardian,
        ),
    )
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [201, 409], (first.text, second.text)
    won, lost = (first, second) if first.status_code == 201 else (second, first)
    assert won.json()["interpreter_id"] == interpreter_id
    assert code(lost) in ("no-interpreter-free", "interpreter-just-taken")
    if code(lost) == "no-interpreter-free":
        [alternative] = lost.json()["slots_with_interpreter"]
        assert (
            alternative["slot_id"] == by_classroom[lost_classroom(lost, d, classroom)][1]["slot_id"]
        )
    lost_in = lost_classroom(lost, d, classroom)
    availability_id = next(
        a["availability_id"] for a in evening.json() if a["classroom_id"] == lost_in
    )
    offered = await scheduling.client.get(
        f"/v1/conference-availability/{availability_id}",
        params={"interpreter_language": "es"},
        headers=guardian if lost_in == classroom else d.guardian(0),
    )
    assert offered.json()["offered_with_interpreter"] == [by_classroom[lost_in][1]["slot_id"]]
    reservations = await scheduling.db["interpreter_reservations"].count_documents(
        {"district_id": d.district_id, "interpreter_id": interpreter_id}
    )
    assert reservations == 1

    schedule = await scheduling.client.get(
        f"/v1/interpreters/{interpreter_id}/schedule", headers=d.school_admin
    )
    assert [i["booking_id"] for i in schedule.json()["items"]] == [won.json()["booking_id"]]
    feed = await scheduling.client.get(
        f"/v1/interpreters/{interpreter_id}/schedule.ics", headers=d.school_admin
    )
    assert feed.status_code == 200
    assert feed.text.count("BEGIN:VEVENT") == 1
    [assigned] = await conference_events(d, "org.aptt.scheduling.interpreter.assigned.v1", 1)
    assert (assigned["interpreter_id"], assigned["language"]) == (interpreter_id, "es")

    cancelled = await scheduling.client.post(
        f"/v1/conference-bookings/{won.json()['booking_id']}/cancel",
        json={"reason_code": "illness"},
        headers=d.school_admin,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["interpreter_id"] is None
    await conference_events(d, "org.aptt.scheduling.interpreter.released.v1", 1)
    [event] = await conference_events(d, CANCELLED, 1)
    assert (event["reason_code"], event["by"]) == ("illness", "staff")


def lost_classroom(lost: httpx.Response, d: District, other: str) -> str:
    return d.classroom_id if d.students[0] in lost.request.content.decode() else other


async def test_siblings_are_proposed_back_to_back_held_together_and_booked_all_or_none(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=2, guardians_per_student=1)
    parent = d.guardians[d.students[0]][0]
    classroom, younger, _ = await second_classroom(d, guardian=parent, neighbours=1)
    [(neighbour, neighbour_family)] = d.more["neighbours"]
    await conference_window(d)
    evening = await scheduling.client.post(
        f"/v1/schools/{d.school_id}/conference-evenings",
        json=hours(starts="17:00", ends="18:00"),
        headers=d.school_admin,
    )
    assert evening.status_code == 201, evening.text
    slots = {a["classroom_id"]: [s["slot_id"] for s in a["slots"]] for a in evening.json()}
    zone = ZoneInfo(TIMEZONE)

    def at(hour: int, minute: int = 0) -> str:
        return datetime.combine(_day(3), time(hour, minute), zone).isoformat()

    family = d.guardian(0)
    # Both teachers have only 17:00 in this range: no set fits one after the other.
    squeezed = await scheduling.client.post(
        "/v1/me/conference-plans", json={"starts_at": at(17), "ends_at": at(17, 30)}, headers=family
    )
    assert (squeezed.status_code, code(squeezed)) == (409, "no-back-to-back")
    [nearest, *_] = squeezed.json()["alternatives"]
    assert nearest["gap_minutes"] == 0

    plan = await scheduling.client.post(
        "/v1/me/conference-plans", json={"starts_at": at(17), "ends_at": at(18)}, headers=family
    )
    assert plan.status_code == 201, plan.text
    proposed = plan.json()
    assert proposed["gap_minutes"] == 0
    assert {s["student_id"] for s in proposed["slots"]} == {d.students[0], younger}
    [first, second] = proposed["slots"]
    assert first["ends_at"] == second["starts_at"]
    # Held for the family: another family is not offered them.
    assert (await book(d, first["slot_id"], student=1)).status_code in (404, 409)

    # A neighbour in the younger child's class takes that teacher's other slot; a plan asking
    # for it books nothing, not even the older child's slot.
    younger_slot = next(s for s in proposed["slots"] if s["student_id"] == younger)
    older_slot = next(s for s in proposed["slots"] if s["student_id"] == d.students[0])
    other_younger_slot = next(s for s in slots[classroom] if s != younger_slot["slot_id"])
    other_older_slot = next(s for s in slots[d.classroom_id] if s != older_slot["slot_id"])
    taken_by_neighbour = await scheduling.client.post(
        f"/v1/conference-slots/{other_younger_slot}/booking",
        json={"student_id": neighbour},
        headers=neighbour_family,
    )
    assert taken_by_neighbour.status_code == 201, taken_by_neighbour.text
    half = await scheduling.client.post(
        "/v1/me/conference-plans/booking",
        json={
            "items": [
                {"student_id": d.students[0], "slot_id": other_older_slot},
                {"student_id": younger, "slot_id": other_younger_slot},
            ]
        },
        headers=family,
    )
    assert (half.status_code, code(half)) == (409, "slot-taken")
    older_booked = await scheduling.db["conference_bookings"].count_documents(
        {"district_id": d.district_id, "student_id": d.students[0]}
    )
    assert older_booked == 0

    both = await scheduling.client.post(
        "/v1/me/conference-plans/booking",
        json={
            "items": [
                {"student_id": s["student_id"], "slot_id": s["slot_id"]} for s in proposed["slots"]
            ]
        },
        headers=family,
    )
    assert both.status_code == 201, both.text
    assert len(both.json()) == 2
    mine = await scheduling.client.get("/v1/me/conference-bookings", headers=family)
    assert len(mine.json()["items"]) == 2


async def test_a_student_led_booking_shows_the_childs_goals_and_latest_progress(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1, guardians_per_student=1)
    student, goal = d.students[0], random_id("goal")
    today = _day(0)
    await scheduling.roster(
        GoalSet(
            district_id=d.district_id,
            goal_id=goal,
            student_id=student,
            guardian_id=d.guardians[student][0],
            skill_code="orf",
            baseline=40,
            target=60,
            starts_on=today,
            ends_on=today + timedelta(days=60),
            activity_codes=["read-aloud"],
        ),
        GoalProgressed(
            district_id=d.district_id,
            goal_id=goal,
            student_id=student,
            skill_code="orf",
            score=52,
            target=60,
            progress_percent=60,
            assessed_on=today,
        ),
    )

    async def progressed() -> bool:
        found = await scheduling.db["conference_student_goals"].find_one(
            {"district_id": d.district_id, "goal_id": goal}
        )
        return found is not None and "score" in found and "baseline" in found

    await eventually(progressed, what="the goal and its progress in scheduling's read model")
    await conference_window(d)
    availability = await publish(d, student_led=True)
    booked = await book(d, availability["slots"][0]["slot_id"])
    assert booked.status_code == 201, booked.text
    body = booked.json()
    assert body["student_led"] is True
    [shown] = body["goals"]
    assert (shown["skill_code"], shown["target"], shown["score"]) == ("orf", 60, 52)
    assert shown["progress_percent"] == 60
    [event] = await conference_events(d, MADE, 1)
    assert event["student_led"] is True


async def test_the_teachers_day_sheet_and_calendar_feed(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=2, guardians_per_student=1)
    await conference_window(d)
    availability = await publish(d, starts="17:00", ends="18:00")
    second = availability["slots"][1]["slot_id"]
    assert (await book(d, second)).status_code == 201
    path = f"/v1/classrooms/{d.classroom_id}/conference-day-sheet"

    sheet = await scheduling.client.get(
        path, params={"day": _day(3).isoformat()}, headers=d.teacher
    )
    assert sheet.status_code == 200, sheet.text
    rows = sheet.json()["rows"]
    assert [r["local_starts_at"][11:16] for r in rows] == ["17:00", "17:30"]
    assert [r["student_id"] for r in rows] == [None, d.students[0]]
    assert sheet.json()["not_booked"] == [d.students[1]]
    other_teacher = d.headers(random_id("tch"), "teacher", schools=[d.school_id])
    refused = await scheduling.client.get(
        path, params={"day": _day(3).isoformat()}, headers=other_teacher
    )
    assert refused.status_code == 403

    feed = await scheduling.client.get(
        f"/v1/classrooms/{d.classroom_id}/conferences.ics", headers=d.teacher
    )
    assert feed.status_code == 200
    assert feed.text.count("BEGIN:VEVENT") == 1
    assert "SEQUENCE:0" in feed.text


async def test_a_waiting_family_is_offered_the_first_slot_that_frees_held_for_it(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=3, guardians_per_student=1)
    window_id = await conference_window(d)
    availability = await publish(d, starts="17:00", ends="17:30")
    [slot] = [s["slot_id"] for s in availability["slots"]]
    first = (await book(d, slot)).json()

    waiting = [
        await scheduling.client.post(
            "/v1/conference-waitlist",
            json={"window_id": window_id, "student_id": d.students[i]},
            headers=d.guardian(i),
        )
        for i in (1, 2)
    ]
    assert [w.status_code for w in waiting] == [201, 201], waiting[0].text
    again = await scheduling.client.post(
        "/v1/conference-waitlist",
        json={"window_id": window_id, "student_id": d.students[1]},
        headers=d.guardian(1),
    )
    assert (again.status_code, code(again)) == (409, "already-waiting")

    cancelled = await scheduling.client.post(
        f"/v1/conference-bookings/{first['booking_id']}/cancel", json={}, headers=d.guardian(0)
    )
    assert cancelled.status_code == 200, cancelled.text
    [offer] = await conference_events(d, "org.aptt.scheduling.waitlist.offered.v1", 1)
    assert (offer["student_id"], offer["slot_id"]) == (d.students[1], slot)
    # Held for the first family waiting: the second cannot take it.
    assert code(await book(d, slot, student=2)) == "slot-taken"
    assert (await book(d, slot, student=1)).status_code == 201


async def test_a_guardian_books_at_most_the_districts_cap_per_window(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=2, guardians_per_student=1)
    parent = d.guardians[d.students[0]][0]
    # The parent's second child is in the same classroom (twins): the cap is one per window.
    await scheduling.roster(
        StudentUpserted(
            district_id=d.district_id,
            student_id=d.students[1],
            school_id=d.school_id,
            guardian_ids=[parent],
        )
    )

    async def linked() -> bool:
        found = await scheduling.db["students"].find_one(
            {"district_id": d.district_id, "student_id": d.students[1]}
        )
        return found is not None and parent in found.get("guardian_ids", [])

    await eventually(linked, what="the second child linked to the parent")
    await conference_window(d)
    slots = [s["slot_id"] for s in (await publish(d))["slots"]]
    assert (await book(d, slots[0], student=0)).status_code == 201
    second = await scheduling.client.post(
        f"/v1/conference-slots/{slots[1]}/booking",
        json={"student_id": d.students[1]},
        headers=d.headers(parent, "guardian"),
    )
    assert (second.status_code, code(second)) == (409, "guardian-cap-reached")
    assert second.json()["cap"] == 1
    # The front desk may book the second child for the family.
    by_staff = await scheduling.client.post(
        f"/v1/conference-slots/{slots[1]}/booking",
        json={"student_id": d.students[1], "guardian_id": parent},
        headers=d.school_admin,
    )
    assert by_staff.status_code == 201, by_staff.text


async def test_a_family_finds_the_classrooms_conference_hours_to_book(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=2, guardians_per_student=1)
    await conference_window(d)
    availability = await publish(d)
    later = await publish(d, in_days=5)
    slot = availability["slots"][0]["slot_id"]
    assert (await book(d, slot)).status_code == 201
    path = f"/v1/classrooms/{d.classroom_id}/conference-availability"

    listed = await scheduling.client.get(path, headers=d.guardian(0))
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [a["availability_id"] for a in items] == [
        availability["availability_id"],
        later["availability_id"],
    ]
    states = {s["slot_id"]: s["state"] for s in items[0]["slots"]}
    assert states[slot] == "yours"
    # The other family of the class sees the slot taken, not whose it is.
    theirs = (await scheduling.client.get(path, headers=d.guardian(1))).json()["items"][0]
    [taken] = [s for s in theirs["slots"] if s["slot_id"] == slot]
    assert (taken["state"], taken["student_id"], taken["booking_id"]) == ("booked", None, None)
    assert (await scheduling.client.get(path, headers=d.teacher)).status_code == 200

    _, _, outsider = await second_classroom(d)
    assert (await scheduling.client.get(path, headers=outsider)).status_code == 404
    elsewhere = d.headers(random_id("admin"), "district_admin", district_id=random_id("d"))
    assert (await scheduling.client.get(path, headers=elsewhere)).status_code == 404
