"""Moving a home visit (decision 0326): the family asks for another time or offers one or two,
the pair offers new ones; the visit keeps its id, pair and place, no time is fixed without the
family's choice, and an educator is still never on two visits at once."""

from __future__ import annotations

import asyncio
from typing import Any

from aptt_local.testing import random_id

from .conftest import Scheduling
from .test_visit_records import complete, scheduled_visit
from .visiting import YEAR, Programme, at, programme, visit_events

MOVED = "org.aptt.scheduling.home-visit.moved.v1"


async def move(p: Programme, visit_id: str, headers: dict[str, str], *times: str) -> Any:
    return await p.client.post(
        f"/v1/home-visits/{visit_id}/move", json={"times": list(times)}, headers=headers
    )


def z(moment: str) -> str:
    return moment.replace("+00:00", "Z")


async def test_the_family_asks_for_new_times_and_picks_one_the_pair_offers(
    scheduling: Scheduling,
) -> None:
    p = await programme(scheduling, students=2)
    await p.answer(0, yes=True)
    await p.answer(1, yes=True)
    visit_id = await scheduled_visit(p, 0, 20, place_kind="library", address="Elm St branch")
    old_time = at(20, 1)

    asked = await move(p, visit_id, p.d.guardian(0))
    assert asked.status_code == 200, asked.text
    body = asked.json()
    assert (body["visit_id"], body["status"], body["moves"]) == (visit_id, "times_requested", 1)
    assert (body["starts_at"], body["proposed_times"], body["address"]) == (None, [], None)
    # The family cannot pick a time that nobody offered back into being.
    assert (await move(p, visit_id, p.d.guardian(0))).status_code == 409

    # The old hour is free for the pair again: another family can have it.
    other = await p.proposed(1, times=[old_time, at(21, 1)])
    assert (await p.choose(1, other, old_time)).status_code == 200

    # The pair offers new times; the busy hour is refused, as for any proposal (0321).
    busy = await move(p, visit_id, p.educator(1), old_time, at(22, 1))
    assert busy.status_code == 409
    assert busy.json()["type"].endswith("educator-busy")
    offered = await move(p, visit_id, p.educator(1), at(22, 1), at(23, 1), at(24, 1))
    assert offered.status_code == 200, offered.text
    assert (offered.json()["status"], offered.json()["moves"]) == ("proposed", 2)
    assert offered.json()["address"] == "Elm St branch"

    chosen = await p.choose(0, visit_id, at(23, 1), place_kind="library", address="Elm St branch")
    assert chosen.status_code == 200, chosen.text
    seen = (await p.client.get(f"/v1/home-visits/{visit_id}", headers=p.educator(0))).json()
    assert (seen["status"], seen["starts_at"], seen["place_kind"], seen["moves"]) == (
        "scheduled",
        z(at(23, 1)),
        "library",
        2,
    )

    # The pair's calendar file replaces the event it has: its sequence counts the moves.
    ics = await p.client.get(f"/v1/home-visits/{visit_id}.ics", headers=p.educator(0))
    assert ics.status_code == 200, ics.text
    assert "SEQUENCE:2" in ics.text

    events = await visit_events(p, MOVED, count=2)
    assert [(e["moved_by"], e["status"], e["moves"]) for e in events] == [
        ("family", "times_requested", 1),
        ("educator", "proposed", 2),
    ]
    assert events[0]["previous_starts_at"] is not None
    assert (events[0]["times"], len(events[1]["times"])) == ([], 3)
    # Ids and times only: never the address.
    assert all("Elm St" not in str(e) and "address" not in e for e in events)


async def test_the_family_offers_two_times_and_the_pair_confirms_one_of_them(
    scheduling: Scheduling,
) -> None:
    p = await programme(scheduling, students=1)
    await p.answer(0, yes=True)
    visit_id = await scheduled_visit(p, 0, 30)
    offered = await move(p, visit_id, p.d.guardian(0), at(32, 2), at(31, 2))
    assert offered.status_code == 200, offered.text
    assert offered.json()["status"] == "counter_proposed"
    assert offered.json()["family_times"] == [z(at(31, 2)), z(at(32, 2))]
    assert offered.json()["starts_at"] is None
    three = await move(p, visit_id, p.d.guardian(0), at(33, 2), at(34, 2), at(35, 2))
    assert three.status_code in (409, 422)

    confirm = f"/v1/home-visits/{visit_id}/confirm"
    not_offered = await p.client.post(confirm, json={"starts_at": at(36, 2)}, headers=p.educator(0))
    assert not_offered.status_code == 422
    assert not_offered.json()["type"].endswith("not-a-family-time")
    taken = await p.client.post(confirm, json={"starts_at": at(32, 2)}, headers=p.educator(0))
    assert taken.status_code == 200, taken.text
    assert (taken.json()["status"], taken.json()["starts_at"]) == ("scheduled", z(at(32, 2)))
    [event] = await visit_events(p, MOVED)
    assert (event["status"], event["moved_by"], len(event["times"])) == (
        "counter_proposed",
        "family",
        2,
    )


async def test_a_visit_that_took_place_or_was_moved_too_often_is_not_moved(
    scheduling: Scheduling,
) -> None:
    p = await programme(scheduling, students=2)
    await p.answer(0, yes=True)
    await p.answer(1, yes=True)
    done = await scheduled_visit(p, 0, 40)
    await complete(p, done, at(-1, -2), at(-1, -1))
    refused = await move(p, done, p.educator(0), at(41, 1), at(42, 1))
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("visit-done")

    visit_id = await p.proposed(1, times=[at(43, 1), at(44, 1)])
    # A family with times to choose from chooses; it does not move.
    assert (await move(p, visit_id, p.d.guardian(1), at(45, 1))).status_code == 409
    one_time = await move(p, visit_id, p.d.school_admin, at(45, 1))
    assert one_time.status_code == 422
    past = await move(p, visit_id, p.educator(0), at(-1), at(45, 1))
    assert past.json()["type"].endswith("time-in-the-past")
    for n in range(3):
        by = p.d.school_admin if n == 1 else p.educator(n % 2)
        moved = await move(p, visit_id, by, at(46 + n, 1), at(46 + n, 3))
        assert moved.status_code == 200, moved.text
    assert moved.json()["moves"] == 3
    fourth = await move(p, visit_id, p.educator(0), at(50, 1), at(51, 1))
    assert fourth.status_code == 409
    assert fourth.json()["type"].endswith("too-many-moves")
    roles = [e["moved_by"] for e in await visit_events(p, MOVED, count=3)]
    assert roles == ["educator", "coordinator", "educator"]


async def test_two_guardians_moving_one_visit_at_once_move_it_once(
    scheduling: Scheduling,
) -> None:
    p = await programme(scheduling, students=1)
    await p.answer(0, yes=True)
    visit_id = await scheduled_visit(p, 0, 60)
    answers = await asyncio.gather(
        move(p, visit_id, p.d.guardian(0, 0), at(61, 1)),
        move(p, visit_id, p.d.guardian(0, 1)),
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    seen = (await p.client.get(f"/v1/home-visits/{visit_id}", headers=p.educator(0))).json()
    assert seen["moves"] == 1


async def test_a_trained_educator_reads_the_families_waiting_for_a_visit_at_their_school_only(
    scheduling: Scheduling,
) -> None:
    p = await programme(scheduling, students=3, educators=4, opted_in=3)
    for student in range(3):
        await p.answer(student, yes=True)
    await p.proposed(0)
    url = f"/v1/schools/{p.d.school_id}/visit-families"
    query = {"school_year": YEAR}
    seen = await p.client.get(url, params=query, headers=p.educator(0))
    assert seen.status_code == 200, seen.text
    body = seen.json()
    # The family with a pending visit is not offered again; ids and times only.
    assert sorted(f["student_id"] for f in body["families"]) == sorted(p.d.students[1:])
    assert body["timezone"]
    assert set(body["families"][0]) == {
        "invitation_id",
        "student_id",
        "classroom_id",
        "guardian_id",
        "answered_at",
    }
    assert sorted(body["partners"]) == sorted(p.educators[1:3])
    coordinator = await p.client.get(url, params=query, headers=p.d.school_admin)
    assert coordinator.status_code == 200

    elsewhere = random_id("d")
    refused = {
        "an educator who has not opted in": (p.educator(3), 403),
        "an educator of another school": (
            p.d.headers(random_id("edu"), "educator", schools=[random_id("sch")]),
            403,
        ),
        "another school's coordinator": (
            p.d.headers(random_id("principal"), "school_admin", schools=[random_id("sch")]),
            403,
        ),
        "the same educator in another district": (
            p.d.headers(p.educators[0], "educator", schools=[p.d.school_id], district_id=elsewhere),
            404,
        ),
        "a guardian": (p.d.guardian(0), 403),
    }
    for who, (headers, status) in refused.items():
        answer = await p.client.get(url, params=query, headers=headers)
        assert answer.status_code == status, (who, answer.text)
