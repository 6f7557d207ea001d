"""Reading team meetings: guardians and their children's meetings, lists, calendar files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aptt_contracts.data import ClassReportPublished, ClassroomUpserted, StudentUpserted
from aptt_local.testing import random_id
from icalendar import Calendar

from .conftest import Scheduling


async def test_guardians_read_their_childs_meetings_and_nobody_elses(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=2)
    other_family = await scheduling.district(students=1, district_id=d.district_id)
    meeting = await d.schedule()
    path = f"/v1/team-meetings/{meeting['meeting_id']}"
    own = await scheduling.client.get(path, headers=d.guardian(1, 1))
    assert own.status_code == 200
    assert own.json()["your_student_ids"] == [d.students[1]]
    assert own.json()["class_report"] is None
    assert (await scheduling.client.get(path, headers=other_family.guardian())).status_code == 404
    listed = await scheduling.client.get(
        f"/v1/classrooms/{d.classroom_id}/team-meetings", headers=d.guardian()
    )
    assert [m["meeting_id"] for m in listed.json()["items"]] == [meeting["meeting_id"]]
    cancel = await scheduling.client.post(f"{path}/cancel", headers=d.guardian())
    assert cancel.status_code == 403


async def test_meetings_are_listed_by_start_in_pages(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    ids = [(await d.schedule(in_days=days))["meeting_id"] for days in (9, 3, 6)]
    path = f"/v1/classrooms/{d.classroom_id}/team-meetings"
    first = (await scheduling.client.get(path, params={"limit": 2}, headers=d.teacher)).json()
    second = (
        await scheduling.client.get(
            path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=d.teacher
        )
    ).json()
    assert [m["meeting_id"] for m in first["items"] + second["items"]] == [ids[1], ids[2], ids[0]]
    assert second["next_cursor"] is None
    bad = await scheduling.client.get(path, params={"cursor": "###"}, headers=d.teacher)
    assert bad.status_code == 422


async def test_the_meeting_as_an_icalendar_file(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    meeting = await d.schedule(location="Library")
    path = f"/v1/team-meetings/{meeting['meeting_id']}.ics"
    answer = await scheduling.client.get(path, params={"lang": "es"}, headers=d.guardian())
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    [event] = Calendar.from_ical(answer.content).walk("VEVENT")
    assert str(event["uid"]) == f"{meeting['meeting_id']}@aptt.org"
    assert str(event["summary"]) == "Reunión de equipo de la clase"
    assert str(event["location"]) == "Library"
    assert event.decoded("dtstart") == datetime.fromisoformat(meeting["starts_at"])
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=75)
    for params, headers, summary in [
        ({"lang": "es-MX"}, {}, "Reunión de equipo de la clase"),
        ({}, {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}, "Reunión de equipo de la clase"),
        ({"lang": "vi"}, {}, "Buổi họp nhóm phụ huynh của lớp"),
        ({"lang": "de"}, {"Accept-Language": "es"}, "Class team meeting"),
        ({}, {}, "Class team meeting"),
    ]:
        answer = await scheduling.client.get(
            path, params=params, headers={**d.guardian(), **headers}
        )
        [event] = Calendar.from_ical(answer.content).walk("VEVENT")
        assert str(event["summary"]) == summary, (params, headers)
    await scheduling.client.post(
        f"/v1/team-meetings/{meeting['meeting_id']}/cancel", headers=d.teacher
    )
    cancelled = await scheduling.client.get(path, headers=d.teacher)
    [event] = Calendar.from_ical(cancelled.content).walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"
    assert str(event["summary"]) == "Cancelled: Class team meeting"
    spanish = await scheduling.client.get(path, params={"lang": "es"}, headers=d.teacher)
    [event] = Calendar.from_ical(spanish.content).walk("VEVENT")
    assert str(event["summary"]) == "Cancelada: Reunión de equipo de la clase"
    assert int(event["sequence"]) == 1
    other = await scheduling.district(students=1, district_id=d.district_id)
    assert (await scheduling.client.get(path, headers=other.guardian())).status_code == 404


async def test_by_default_attendance_can_be_taken_before_the_day(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    meeting = await d.schedule(in_days=3)
    student = d.students[0]
    answer = await scheduling.client.put(
        f"/v1/team-meetings/{meeting['meeting_id']}/attendance",
        json={
            "records": [
                {
                    "student_id": student,
                    "guardian_id": d.guardians[student][0],
                    "relationship": "grandparent",
                }
            ]
        },
        headers=d.teacher,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["by_relationship"]["grandparent"] == 1


async def test_a_guardian_sees_the_coming_meetings_of_all_their_children(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=2)
    parent = d.guardians[d.students[0]][0]
    sibling = random_id("stu")
    other_class = random_id("cls")
    await scheduling.roster(
        StudentUpserted(
            district_id=d.district_id,
            student_id=sibling,
            school_id=d.school_id,
            guardian_ids=[parent],
        ),
        ClassroomUpserted(
            district_id=d.district_id,
            classroom_id=other_class,
            school_id=d.school_id,
            teacher_ids=[d.teacher_id],
            student_ids=[sibling],
        ),
    )
    await scheduling.wait_for(d.district_id, classrooms=[other_class], students=[sibling])
    later = await d.schedule(in_days=9)
    sooner = await d.schedule(in_days=2, classroom_id=other_class)
    mine = await scheduling.client.get("/v1/me/team-meetings", headers=d.guardian())
    assert mine.status_code == 200
    assert [(m["meeting_id"], m["your_student_ids"]) for m in mine.json()["items"]] == [
        (sooner["meeting_id"], [sibling]),
        (later["meeting_id"], [d.students[0]]),
    ]
    classmate = await scheduling.client.get("/v1/me/team-meetings", headers=d.guardian(1))
    assert [m["meeting_id"] for m in classmate.json()["items"]] == [later["meeting_id"]]
    elsewhere = d.headers(parent, "guardian", district_id=random_id("d"))
    assert (await scheduling.client.get("/v1/me/team-meetings", headers=elsewhere)).json()[
        "items"
    ] == []
    assert (
        await scheduling.client.get("/v1/me/team-meetings", headers=d.teacher)
    ).status_code == 403


async def test_staff_see_when_the_class_report_is_ready(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    meeting = await d.schedule()
    path = f"/v1/team-meetings/{meeting['meeting_id']}"
    assert (await scheduling.client.get(path, headers=d.teacher)).json()["class_report"] is None
    report = ClassReportPublished(
        district_id=d.district_id,
        report_id="rep-1",
        meeting_id=meeting["meeting_id"],
        classroom_id=d.classroom_id,
        school_id=d.school_id,
        skill_code="orf",
        benchmark=83,
        student_count=1,
        scored_count=1,
        suppressed=True,
        suppressed_reason="too-few-scores",
        bands={"well_below": 0, "below": 0, "at": 0, "above": 0},
    )
    await scheduling.deliver(report, time=datetime.now(UTC))
    seen = await scheduling.client.get(path, headers=d.teacher)
    assert seen.json()["class_report"] == {"report_id": "rep-1", "suppressed": True}
    family = await scheduling.client.get(path, headers=d.guardian())
    assert family.json()["class_report"] is None
