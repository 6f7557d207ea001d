"""Team meetings through the API: schedule, read, reschedule, cancel; who may do what."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from aptt_contracts.data import SkillDefined
from aptt_local.testing import eventually, random_id

from .conftest import District, Scheduling, iso

SCHEDULED = "org.aptt.scheduling.team-meeting.scheduled.v1"
RESCHEDULED = "org.aptt.scheduling.team-meeting.rescheduled.v1"
CANCELLED = "org.aptt.scheduling.team-meeting.cancelled.v1"
NEXT_YEAR = datetime.now(UTC).year + 1


def in_days(days: float) -> str:
    return iso(datetime.now(UTC) + timedelta(days=days))


async def meetings_of(d: District) -> list[dict[str, Any]]:
    answer = await d.api.client.get(
        f"/v1/classrooms/{d.classroom_id}/team-meetings", headers=d.teacher
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_a_teacher_schedules_a_team_meeting_and_it_is_published(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district()
    meeting = await d.schedule(
        starts_at=f"{NEXT_YEAR}-10-14T18:00:00-07:00",
        agenda=["Welcome", "Reading lesson"],
        location="Library",
    )
    assert meeting["status"] == "scheduled"
    assert meeting["duration_minutes"] == 75
    assert meeting["starts_at"] == f"{NEXT_YEAR}-10-15T01:00:00Z"
    assert meeting["ends_at"] == f"{NEXT_YEAR}-10-15T02:15:00Z"
    assert meeting["local_starts_at"] == f"{NEXT_YEAR}-10-14T18:00:00-07:00"
    assert meeting["agenda"] == ["Welcome", "Reading lesson"]

    [event] = await d.published(SCHEDULED)
    assert event["meeting_id"] == meeting["meeting_id"]
    assert (event["classroom_id"], event["school_id"]) == (d.classroom_id, d.school_id)
    assert (event["duration_minutes"], event["focus_skill_code"]) == (75, "orf")
    assert event["location"] == "Library"

    fetched = await scheduling.client.get(
        f"/v1/team-meetings/{meeting['meeting_id']}", headers=d.school_admin
    )
    assert fetched.json()["meeting_id"] == meeting["meeting_id"]


async def test_without_an_agenda_the_meeting_gets_the_five_parts_of_aptt(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1)
    meeting = await d.schedule()
    assert len(meeting["agenda"]) == 5
    assert meeting["agenda"][-1] == "Goal setting"


async def test_bad_meetings_are_refused_with_reasons_and_nothing_is_kept(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1)
    kept = await d.schedule(in_days=20)
    base = {
        "classroom_id": d.classroom_id,
        "starts_at": in_days(30),
        "location": "Room 12",
        "focus_skill_code": "orf",
    }
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"starts_at": in_days(-1)}, 422, "in-the-past"),
        ({"starts_at": "2030-10-14T18:00:00"}, 422, "validation"),
        ({"duration_minutes": 300}, 422, "validation"),
        ({"duration_minutes": 10}, 422, "validation"),
        ({"focus_skill_code": "phonics"}, 422, "unknown-skill"),
        ({"window_id": "win-nope"}, 422, "unknown-window"),
        ({"starts_at": kept["starts_at"]}, 409, "overlapping-meeting"),
        ({"surprise": 1}, 422, "validation"),
        ({"location": "x" * 201}, 422, "validation"),
        ({"agenda": ["item"] * 21}, 422, "validation"),
        ({"classroom_id": "c" * 201}, 422, "validation"),
        ({"classroom_id": random_id("cls")}, 404, "unknown-classroom"),
    ]
    for change, status, code in cases:
        answer = await scheduling.client.post(
            "/v1/team-meetings", json={**base, **change}, headers=d.teacher
        )
        assert answer.status_code == status, (change, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"].endswith(f"/{code}"), change
    assert [m["meeting_id"] for m in await meetings_of(d)] == [kept["meeting_id"]]


async def test_a_meeting_given_a_window_must_fall_inside_it(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    applied = await scheduling.client.post(
        f"/v1/schools/{d.school_id}/engagement-calendars",
        json={"template_id": "builtin-oakland", "school_year": f"{NEXT_YEAR}-{NEXT_YEAR + 1}"},
        headers=d.school_admin,
    )
    assert applied.status_code == 201
    windows = (
        await scheduling.client.get(
            f"/v1/classrooms/{d.classroom_id}/meeting-windows", headers=d.teacher
        )
    ).json()["items"]
    october = next(w for w in windows if w["starts_on"] == f"{NEXT_YEAR}-10-01")
    august = next(w for w in windows if w["starts_on"] == f"{NEXT_YEAR}-08-01")

    # 31 October at 6:30 pm in Oakland is 1 November in UTC: the school's date counts.
    halloween = f"{NEXT_YEAR}-10-31T18:30:00-07:00"
    meeting = await d.schedule(starts_at=halloween, window_id=october["window_id"])
    assert meeting["window_id"] == october["window_id"]

    outside = await scheduling.client.post(
        "/v1/team-meetings",
        json={
            "classroom_id": d.classroom_id,
            "starts_at": f"{NEXT_YEAR}-11-02T18:00:00-08:00",
            "location": "Room 12",
            "focus_skill_code": "orf",
            "window_id": october["window_id"],
        },
        headers=d.teacher,
    )
    assert outside.status_code == 422
    assert outside.json()["type"].endswith("/outside-window")
    conference = await scheduling.client.post(
        "/v1/team-meetings",
        json={
            "classroom_id": d.classroom_id,
            "starts_at": f"{NEXT_YEAR}-08-20T18:00:00-07:00",
            "location": "Room 12",
            "focus_skill_code": "orf",
            "window_id": august["window_id"],
        },
        headers=d.teacher,
    )
    assert conference.json()["type"].endswith("/wrong-window")

    # Without a window id, a meeting on a window's date belongs to that window.
    fitted = await d.schedule(
        starts_at=f"{NEXT_YEAR + 1}-02-10T18:00:00-08:00", focus_skill_code="math-facts"
    )
    february = next(w for w in windows if w["starts_on"] == f"{NEXT_YEAR + 1}-02-01")
    assert fitted["window_id"] == february["window_id"]
    listed = (
        await scheduling.client.get(
            f"/v1/classrooms/{d.classroom_id}/meeting-windows", headers=d.teacher
        )
    ).json()["items"]
    assert {w["window_id"]: w["meeting_ids"] for w in listed}[october["window_id"]] == [
        meeting["meeting_id"]
    ]

    moved_out = await scheduling.client.post(
        f"/v1/team-meetings/{meeting['meeting_id']}/reschedule",
        json={"starts_at": f"{NEXT_YEAR}-11-05T18:00:00-08:00"},
        headers=d.teacher,
    )
    assert moved_out.status_code == 422
    assert moved_out.json()["type"].endswith("/outside-window")


async def test_reschedule_and_cancel_are_published_and_cancel_is_final(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1)
    meeting = await d.schedule(in_days=14)
    path = f"/v1/team-meetings/{meeting['meeting_id']}"
    new_start = in_days(15)
    moved = await scheduling.client.post(
        f"{path}/reschedule",
        json={"starts_at": new_start, "duration_minutes": 90, "location": "Gym"},
        headers=d.teacher,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["duration_minutes"], moved.json()["location"]) == (90, "Gym")
    [event] = await d.published(RESCHEDULED)
    assert event["previous_starts_at"] == meeting["starts_at"]
    assert datetime.fromisoformat(event["starts_at"]) == datetime.fromisoformat(new_start)
    assert (event["duration_minutes"], event["location"]) == (90, "Gym")

    past = await scheduling.client.post(
        f"{path}/reschedule", json={"starts_at": in_days(-2)}, headers=d.teacher
    )
    assert past.status_code == 422

    cancelled = await scheduling.client.post(f"{path}/cancel", headers=d.teacher)
    assert cancelled.json()["status"] == "cancelled"
    again = await scheduling.client.post(f"{path}/cancel", headers=d.teacher)
    assert again.status_code == 200
    [event] = await d.published(CANCELLED)
    assert event["meeting_id"] == meeting["meeting_id"]
    assert len(await scheduling.events(d.district_id, CANCELLED)) == 1

    revived = await scheduling.client.post(
        f"{path}/reschedule", json={"starts_at": in_days(16)}, headers=d.teacher
    )
    assert revived.status_code == 409
    # A cancelled meeting frees its time for another.
    await d.schedule(starts_at=new_start)


async def test_other_schools_and_districts_cannot_touch_a_meeting(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    meeting = await d.schedule()
    path = f"/v1/team-meetings/{meeting['meeting_id']}"
    other_teacher = d.headers(random_id("tch"), "teacher", schools=[random_id("sch")])
    other_admin = d.headers(random_id("p"), "school_admin", schools=[random_id("sch")])
    stranger = d.headers(d.teacher_id, "teacher", district_id=random_id("d"))
    stranger_admin = d.headers(random_id("a"), "district_admin", district_id=random_id("d"))
    for headers, status in [
        (other_teacher, 403),
        (other_admin, 403),
        (stranger, 404),
        (stranger_admin, 404),
    ]:
        assert (await scheduling.client.get(path, headers=headers)).status_code == status
        ics = await scheduling.client.get(f"{path}.ics", headers=headers)
        assert ics.status_code == status
        rsvps = await scheduling.client.get(f"{path}/rsvps", headers=headers)
        assert rsvps.status_code == status
        moved = await scheduling.client.post(
            f"{path}/reschedule", json={"starts_at": in_days(12)}, headers=headers
        )
        assert moved.status_code == status
        assert (
            await scheduling.client.post(f"{path}/cancel", headers=headers)
        ).status_code == status
        listed = await scheduling.client.get(
            f"/v1/classrooms/{d.classroom_id}/team-meetings", headers=headers
        )
        assert listed.status_code == status
        scheduled = await scheduling.client.post(
            "/v1/team-meetings",
            json={
                "classroom_id": d.classroom_id,
                "starts_at": in_days(40),
                "location": "Room 1",
                "focus_skill_code": "orf",
            },
            headers=headers,
        )
        assert scheduled.status_code == status
    unchanged = await scheduling.client.get(path, headers=d.teacher)
    assert unchanged.json()["status"] == "scheduled"
    assert unchanged.json()["starts_at"] == meeting["starts_at"]
    assert len(await meetings_of(d)) == 1
    assert (await scheduling.client.get(path)).status_code == 401


async def test_a_district_skill_can_be_a_meetings_focus(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    refused = await scheduling.client.post(
        "/v1/team-meetings",
        json={
            "classroom_id": d.classroom_id,
            "starts_at": in_days(5),
            "location": "Room 12",
            "focus_skill_code": "phonics",
        },
        headers=d.teacher,
    )
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/unknown-skill")
    skill = SkillDefined(
        district_id=d.district_id,
        skill_code="phonics",
        name={"en": "Phonics"},
        unit={"en": "sounds"},
        scale_min=0,
        scale_max=100,
        benchmarks=[],
    )
    await scheduling.roster(skill)

    async def known() -> bool:
        query = {"district_id": d.district_id, "skill_code": "phonics"}
        return await scheduling.db["skills"].count_documents(query) == 1

    await eventually(known, what="the district's skill to reach scheduling")
    meeting = await d.schedule(focus_skill_code="phonics")
    assert meeting["focus_skill_code"] == "phonics"


async def test_teachers_scheduling_the_same_time_at_once_get_one_meeting(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1)
    body = {
        "classroom_id": d.classroom_id,
        "starts_at": in_days(8),
        "location": "Room 12",
        "focus_skill_code": "orf",
    }
    answers = await asyncio.gather(
        *(
            scheduling.client.post("/v1/team-meetings", json=body, headers=d.teacher)
            for _ in range(5)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409]
    assert len(await meetings_of(d)) == 1
