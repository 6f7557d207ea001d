"""A school's family events and its consolidated year: a crowded month is flagged, an
unlinked event beside a team meeting is listed to merge or cut, and only the school's own
admins (and the district's) reach any of it."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aptt_contracts.scheduling import FAMILY_EVENTS
from aptt_local.kafkatools import read_topic
from aptt_local.testing import eventually, random_id
from aptt_platform.events import header_dict
from aptt_platform.schoolyear import school_year_of

from .conftest import TIMEZONE, District, Scheduling


def _month_far_from(day: date) -> date:
    """The first day of the month six months from `day`'s, in the same August-July year."""
    first = day.year if day.month >= 8 else day.year - 1
    index = (day.month - 8) % 12
    far = (index + 6) % 12
    month = (far + 7) % 12 + 1
    return date(first + (1 if month < 8 else 0), month, 1)


async def _event(d: District, on: date, *, linked: bool, kind: str = "bake-sale") -> str:
    answer = await d.api.client.post(
        f"/v1/schools/{d.school_id}/family-events",
        json={
            "title": kind.replace("-", " "),
            "kind": kind,
            "learning_linked": linked,
            "on": on.isoformat(),
        },
        headers=d.school_admin,
    )
    assert answer.status_code == 201, answer.text
    event_id: str = answer.json()["family_event_id"]
    return event_id


async def _year(d: District) -> tuple[str, date, dict[str, str]]:
    """A team meeting with two families present, a bake sale two days from it, a science night
    the same week, a crowded month far away (four events) with a small concert."""
    meeting = await d.schedule(in_days=10)
    starts = datetime.fromisoformat(meeting["starts_at"])
    day = starts.astimezone(ZoneInfo(TIMEZONE)).date()
    s, g = d.students, d.guardians
    records = [
        {"student_id": s[0], "guardian_id": g[s[0]][0], "relationship": "father"},
        {"student_id": s[1], "guardian_id": g[s[1]][0], "relationship": "mother"},
        {"student_id": s[2], "guardian_id": g[s[2]][0], "relationship": "mother", "present": False},
    ]
    answer = await d.api.client.put(
        f"/v1/team-meetings/{meeting['meeting_id']}/attendance",
        json={"records": records},
        headers=d.teacher,
    )
    assert answer.status_code == 200, answer.text
    # Beside the meeting, on the side that stays in its school year (August to July).
    side = -1 if day.month == 7 and day.day >= 25 else 1
    ids = {
        "bake_sale": await _event(d, day + timedelta(days=2 * side), linked=False),
        "science": await _event(d, day + timedelta(days=side), linked=True, kind="science-night"),
    }
    far = _month_far_from(day)
    for offset in (2, 9, 16):
        await _event(d, far + timedelta(days=offset), linked=True, kind="family-reading")
    ids["concert"] = await _event(d, far + timedelta(days=20), linked=False, kind="concert")
    answer = await d.api.client.put(
        f"/v1/family-events/{ids['concert']}/turnout",
        json={"families_attending": 4, "by_relationship": {"mother": 3, "father": 2}},
        headers=d.school_admin,
    )
    assert answer.status_code == 200, answer.text
    return school_year_of(day), far, ids


async def test_a_crowded_month_is_flagged_and_unlinked_events_beside_a_meeting_are_listed(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district()
    year, far, ids = await _year(d)
    answer = await scheduling.client.get(
        f"/v1/schools/{d.school_id}/event-consolidation",
        params={"school_year": year},
        headers=d.school_admin,
    )
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    assert (view["total"], view["linked"], view["unlinked"], view["aim"]) == (7, 5, 2, 12)
    assert len(view["months"]) == 12
    crowded = [m["month"] for m in view["months"] if m["crowded"]]
    assert crowded == [far.strftime("%Y-%m")]
    candidates = {c["item"]["item_id"]: c["reasons"] for c in view["candidates"]}
    assert candidates == {
        ids["bake_sale"]: ["next-to-team-meeting"],
        ids["concert"]: ["few-families"],
    }
    rounds = [i for i in view["items"] if i["source"] == "team_meeting"]
    assert [(r["learning_linked"], r["families_attending"]) for r in rounds] == [(True, 2)]

    answer = await scheduling.client.get(
        f"/v1/schools/{d.school_id}/event-consolidation.csv",
        params={"school_year": year},
        headers=d.district_admin,
    )
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 7
    bake = next(r for r in rows if r["kind"] == "bake-sale")
    assert (bake["learning_linked"], bake["candidate"]) == ("no", "next-to-team-meeting")

    answer = await scheduling.client.get(
        f"/v1/schools/{d.school_id}/event-consolidation.svg",
        params={"school_year": year, "lang": "es"},
        headers=d.school_admin,
    )
    assert answer.status_code == 200, answer.text
    assert answer.text.count("saturado") == 1
    assert "Ligados al aprendizaje: 5" in answer.text

    # Data compares fathers at meetings and at unlinked events: the turnout is published,
    # with the kind code and never the title.
    published: list[dict[str, Any]] = []

    async def out() -> bool:
        published[:] = [
            json.loads(r.value or b"{}")
            for r in await read_topic(scheduling.stack.kafka_bootstrap, FAMILY_EVENTS)
            if header_dict(r.headers).get("ce_district") == d.district_id.encode()
        ]
        return bool(published)

    await eventually(out, what="the concert's turnout on its topic")
    assert published == [
        {
            "district_id": d.district_id,
            "family_event_id": ids["concert"],
            "school_id": d.school_id,
            "kind": "concert",
            "learning_linked": False,
            "on": (far + timedelta(days=20)).isoformat(),
            "families_attending": 4,
            "by_relationship": {"mother": 3, "father": 2},
        }
    ]


async def test_an_event_on_the_day_of_a_team_meeting_clashes_and_kinds_of_its_own_are_refused(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district()
    meeting = await d.schedule(in_days=12)
    day = datetime.fromisoformat(meeting["starts_at"]).astimezone(ZoneInfo(TIMEZONE)).date()
    clash = await _event(d, day, linked=False, kind="movie-night")
    answer = await scheduling.client.post(
        f"/v1/schools/{d.school_id}/family-events",
        json={
            "title": "Our meeting",
            "kind": "team_meeting",
            "learning_linked": True,
            "on": day.isoformat(),
        },
        headers=d.school_admin,
    )
    assert answer.status_code == 422
    assert answer.json()["type"].endswith("/reserved-kind")
    answer = await scheduling.client.get(
        f"/v1/schools/{d.school_id}/event-consolidation",
        params={"school_year": school_year_of(day)},
        headers=d.school_admin,
    )
    candidates = {c["item"]["item_id"]: c["reasons"] for c in answer.json()["candidates"]}
    assert candidates == {clash: ["clashes-with-team-meeting"]}


async def test_only_the_schools_admins_reach_its_events_and_another_district_finds_nothing(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district()
    today = datetime.now(UTC).date()
    event_id = await _event(d, today, linked=False)
    year = school_year_of(today)
    paths = [
        ("get", f"/v1/schools/{d.school_id}/event-consolidation", None),
        ("get", f"/v1/schools/{d.school_id}/event-consolidation.csv", None),
        ("get", f"/v1/schools/{d.school_id}/family-events", None),
        ("put", f"/v1/family-events/{event_id}/turnout", {"families_attending": 3}),
    ]
    other_school = d.headers(random_id("p"), "school_admin", schools=[random_id("sch")])
    other_district = d.headers(random_id("a"), "district_admin", district_id=random_id("d"))
    for method, path, body in paths:
        for headers, expected in ((d.teacher, 403), (other_school, 403), (other_district, 404)):
            answer = await scheduling.client.request(
                method, path, params={"school_year": year}, json=body, headers=headers
            )
            assert answer.status_code == expected, (path, expected, answer.text)
    answer = await scheduling.client.get(
        f"/v1/schools/{d.school_id}/family-events",
        params={"school_year": year, "limit": 1},
        headers=d.school_admin,
    )
    assert answer.status_code == 200
    assert [e["family_event_id"] for e in answer.json()["items"]] == [event_id]
    answer = await scheduling.client.put(
        f"/v1/family-events/{event_id}/turnout",
        json={"families_attending": 5, "by_relationship": {"mother": 2, "father": 1}},
        headers=d.school_admin,
    )
    assert answer.status_code == 422
    assert answer.json()["type"].endswith("/relationship-below-families")


async def test_conference_windows_of_the_schools_calendar_appear_on_their_own(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district()
    year = school_year_of(datetime.now(UTC).date())
    answer = await scheduling.client.post(
        f"/v1/schools/{d.school_id}/engagement-calendars",
        json={"template_id": "builtin-oakland", "school_year": year},
        headers=d.district_admin,
    )
    assert answer.status_code in (200, 201), answer.text
    first = int(year[:4])
    view = (
        await scheduling.client.get(
            f"/v1/schools/{d.school_id}/event-consolidation",
            params={"school_year": year},
            headers=d.school_admin,
        )
    ).json()
    windows = [(i["on"], i["title"]) for i in view["items"] if i["source"] == "conference_window"]
    assert windows == [
        (f"{first}-08-01", "Introduction conference"),
        (f"{first}-12-01", "Report-card conference"),
        (f"{first + 1}-03-01", "Report-card conference"),
    ]
    assert (view["linked"], view["unlinked"], view["candidates"]) == (3, 0, [])


async def test_over_long_or_unknown_input_is_a_problem_and_nothing_is_recorded(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district()
    today = datetime.now(UTC).date().isoformat()
    path = f"/v1/schools/{d.school_id}/family-events"
    bodies = [
        {"title": "x" * 121, "kind": "concert", "learning_linked": False, "on": today},
        {"title": "Concert", "kind": "A Concert!", "learning_linked": False, "on": today},
        {"title": "Concert", "kind": "concert", "learning_linked": False, "on": today, "x": 1},
    ]
    for body in bodies:
        answer = await scheduling.client.post(path, json=body, headers=d.school_admin)
        assert answer.status_code == 422, body
        assert answer.headers["content-type"] == "application/problem+json"
    event_id = await _event(d, datetime.now(UTC).date(), linked=False)
    for turnout in (
        {"families_attending": -1},
        {"families_attending": 3, "by_relationship": {"uncle": 3}},
    ):
        answer = await scheduling.client.put(
            f"/v1/family-events/{event_id}/turnout", json=turnout, headers=d.school_admin
        )
        assert answer.status_code == 422, turnout
    listed = await scheduling.client.get(
        path,
        params={"school_year": school_year_of(datetime.now(UTC).date())},
        headers=d.school_admin,
    )
    assert [(e["family_event_id"], e["families_attending"]) for e in listed.json()["items"]] == [
        (event_id, None)
    ]
