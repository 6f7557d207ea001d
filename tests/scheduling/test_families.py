"""RSVPs and attendance through the API, and the roster read model they rely on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from aptt_contracts.data import ClassroomUpserted, StudentRemoved, StudentUpserted
from aptt_local.testing import eventually, random_id

from .conftest import District, Scheduling, iso

# Attendance opens only as families arrive here (the default leaves it open throughout).
SCHEDULING_SETTINGS = {"attendance_opens_minutes_before": 60}
RSVP = "org.aptt.scheduling.rsvp.recorded.v1"
ATTENDED = "org.aptt.scheduling.attendance.recorded.v1"


def rsvp_path(meeting: dict[str, Any], student_id: str) -> str:
    return f"/v1/team-meetings/{meeting['meeting_id']}/rsvps/{student_id}"


async def soon_meeting(d: District) -> dict[str, Any]:
    """A meeting starting within the hour, so attendance is open (families sign in early)."""
    return await d.schedule(starts_at=iso(datetime.now(UTC) + timedelta(minutes=30)))


async def test_a_guardian_rsvps_with_interpreter_and_childcare(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=2)
    meeting = await d.schedule()
    student = d.students[0]
    body = {"attending": True, "interpreter_language": "es", "childcare_count": 2}
    answer = await scheduling.client.put(
        rsvp_path(meeting, student), json=body, headers=d.guardian()
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "meeting_id": meeting["meeting_id"],
        "student_id": student,
        "guardian_id": d.guardians[student][0],
        **body,
    }
    # Answering the same again changes nothing and publishes nothing new.
    await scheduling.client.put(rsvp_path(meeting, student), json=body, headers=d.guardian())
    second = {"attending": True, "interpreter_language": "es", "childcare_count": 1}
    await scheduling.client.put(rsvp_path(meeting, student), json=second, headers=d.guardian(0, 1))

    events = await d.published(RSVP, count=2)
    assert len(events) == 2
    first = next(e for e in events if e["guardian_id"] == d.guardians[student][0])
    assert (first["student_id"], first["attending"], first["interpreter_language"]) == (
        student,
        True,
        "es",
    )
    assert (first["childcare_count"], first["classroom_id"]) == (2, d.classroom_id)

    family = await scheduling.client.get(rsvp_path(meeting, student), headers=d.guardian(0, 1))
    assert len(family.json()) == 2
    staff = await scheduling.client.get(
        f"/v1/team-meetings/{meeting['meeting_id']}/rsvps", headers=d.teacher
    )
    assert staff.status_code == 200
    assert staff.json()["families_rsvp_attending"] == 1
    assert staff.json()["interpreter_requests"] == {"es": 2}
    assert staff.json()["childcare_children"] == 2
    denied = await scheduling.client.get(
        f"/v1/team-meetings/{meeting['meeting_id']}/rsvps", headers=d.guardian()
    )
    assert denied.status_code == 403


async def test_only_a_guardian_of_the_student_may_answer(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=2)
    other = await scheduling.district(students=1, district_id=d.district_id)
    meeting = await d.schedule()
    body = {"attending": True}
    teacher = d.teacher
    cases = [
        (rsvp_path(meeting, d.students[1]), d.guardian(0), 404),  # a classmate's child
        (rsvp_path(meeting, d.students[0]), other.guardian(), 404),  # another class's family
        (rsvp_path(meeting, other.students[0]), other.guardian(), 404),  # not in this class
        (rsvp_path(meeting, d.students[0]), teacher, 403),
        (
            rsvp_path(meeting, d.students[0]),
            d.headers(d.guardians[d.students[0]][0], "guardian", district_id=random_id("d")),
            404,
        ),
    ]
    for path, headers, status in cases:
        answer = await scheduling.client.put(path, json=body, headers=headers)
        assert answer.status_code == status, (path, answer.text)
        read = await scheduling.client.get(path, headers=headers)
        assert read.status_code == (200 if headers is teacher else 404)
    bad = await scheduling.client.put(
        rsvp_path(meeting, d.students[0]),
        json={"attending": True, "childcare_count": 11, "interpreter_language": "Spanish!"},
        headers=d.guardian(),
    )
    assert bad.status_code == 422
    assert {e["location"] for e in bad.json()["errors"]} == {
        "body.childcare_count",
        "body.interpreter_language",
    }
    staff = await scheduling.client.get(
        f"/v1/team-meetings/{meeting['meeting_id']}/rsvps", headers=d.teacher
    )
    assert staff.json()["items"] == []


async def test_rsvps_close_when_the_meeting_starts_or_is_cancelled(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    starting = await d.schedule(starts_at=iso(datetime.now(UTC) + timedelta(seconds=2)))
    cancelled = await d.schedule(in_days=3)
    await scheduling.client.post(
        f"/v1/team-meetings/{cancelled['meeting_id']}/cancel", headers=d.teacher
    )
    answer = await scheduling.client.put(
        rsvp_path(cancelled, d.students[0]), json={"attending": True}, headers=d.guardian()
    )
    assert answer.status_code == 409
    assert answer.json()["type"].endswith("/meeting-cancelled")
    await asyncio.sleep(2.5)
    late = await scheduling.client.put(
        rsvp_path(starting, d.students[0]), json={"attending": True}, headers=d.guardian()
    )
    assert late.status_code == 409
    assert late.json()["type"].endswith("/rsvp-closed")


async def test_the_teacher_takes_attendance_and_sees_who_came(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=4)
    meeting = await soon_meeting(d)
    s = d.students
    g = d.guardians
    records = [
        {"student_id": s[0], "guardian_id": g[s[0]][0], "relationship": "mother"},
        {"student_id": s[0], "guardian_id": g[s[0]][1], "relationship": "father"},
        {"student_id": s[1], "guardian_id": g[s[1]][0], "relationship": "father"},
        {"student_id": s[2], "guardian_id": g[s[2]][1], "relationship": "grandparent"},
        {"student_id": s[3], "guardian_id": g[s[3]][0], "relationship": "other", "present": False},
    ]
    path = f"/v1/team-meetings/{meeting['meeting_id']}/attendance"
    answer = await scheduling.client.put(path, json={"records": records}, headers=d.teacher)
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert (summary["families_in_class"], summary["families_attended"]) == (4, 3)
    assert summary["rate"] == 0.75
    assert (summary["reference_rate"], summary["band"]) == (0.92, "below-reference")
    assert summary["by_relationship"] == {"mother": 1, "father": 2, "grandparent": 1, "other": 0}
    assert summary["guardians_present"] == 4

    events = await d.published(ATTENDED, count=5)
    assert len(events) == 5
    father = next(e for e in events if e["guardian_id"] == g[s[1]][0])
    assert (father["student_id"], father["relationship"], father["present"]) == (
        s[1],
        "father",
        True,
    )
    assert (father["classroom_id"], father["focus_skill_code"]) == (d.classroom_id, "orf")

    # The late family signs in: one more record, one more event, the rate goes up.
    records[4]["present"] = True
    again = await scheduling.client.put(path, json={"records": records}, headers=d.teacher)
    assert again.json()["families_attended"] == 4
    assert again.json()["band"] == "at-or-above-reference"
    await d.published(ATTENDED, count=6)
    assert len(await scheduling.events(d.district_id, ATTENDED)) == 6

    read = await scheduling.client.get(path, headers=d.school_admin)
    assert read.json()["rate"] == 1.0
    assert len(read.json()["records"]) == 5
    held = await scheduling.client.post(
        f"/v1/team-meetings/{meeting['meeting_id']}/cancel", headers=d.teacher
    )
    assert held.status_code == 409


async def test_bad_attendance_is_explained_and_nothing_is_recorded(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=2)
    other = await scheduling.district(students=1, district_id=d.district_id)
    meeting = await soon_meeting(d)
    s, g = d.students, d.guardians
    records = [
        {"student_id": s[0], "guardian_id": g[s[0]][0], "relationship": "mother"},
        {"student_id": s[1], "guardian_id": g[s[0]][0], "relationship": "mother"},
        {"student_id": other.students[0], "guardian_id": "x", "relationship": "father"},
    ]
    path = f"/v1/team-meetings/{meeting['meeting_id']}/attendance"
    answer = await scheduling.client.put(path, json={"records": records}, headers=d.teacher)
    assert answer.status_code == 422
    assert answer.json()["type"].endswith("/bad-attendance")
    assert [p["record"] for p in answer.json()["records"]] == [1, 2]
    unknown_relationship = [{**records[0], "relationship": "uncle"}]
    refused = await scheduling.client.put(
        path, json={"records": unknown_relationship}, headers=d.teacher
    )
    assert refused.status_code == 422
    summary = (await scheduling.client.get(path, headers=d.teacher)).json()
    assert (summary["records"], summary["families_attended"]) == ([], 0)

    later = await d.schedule(in_days=5)
    early = await scheduling.client.put(
        f"/v1/team-meetings/{later['meeting_id']}/attendance",
        json={"records": records[:1]},
        headers=d.teacher,
    )
    assert early.status_code == 409
    assert early.json()["type"].endswith("/attendance-not-open")


async def test_only_staff_of_the_classroom_take_or_read_attendance(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    meeting = await soon_meeting(d)
    path = f"/v1/team-meetings/{meeting['meeting_id']}/attendance"
    student = d.students[0]
    body = {
        "records": [
            {
                "student_id": student,
                "guardian_id": d.guardians[student][0],
                "relationship": "father",
            }
        ]
    }
    for headers, status in [
        (d.headers(random_id("tch"), "teacher", schools=[random_id("sch")]), 403),
        (d.headers(random_id("tch"), "teacher", schools=[d.school_id]), 403),
        (d.guardian(), 403),
        (d.headers(d.teacher_id, "teacher", district_id=random_id("d")), 404),
        (d.headers(random_id("a"), "district_admin", district_id=random_id("d")), 404),
    ]:
        assert (await scheduling.client.put(path, json=body, headers=headers)).status_code == status
        assert (await scheduling.client.get(path, headers=headers)).status_code == status
    assert (await scheduling.client.get(path, headers=d.teacher)).json()["records"] == []
    assert await scheduling.events(d.district_id, ATTENDED) == []


async def test_the_read_model_follows_the_roster_whatever_the_order(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=2)
    meeting = await d.schedule()
    leaving, staying = d.students
    new_student, new_guardian = random_id("stu"), random_id("gdn")
    # The classroom names a student the read model does not know yet; the student follows.
    await scheduling.roster(
        ClassroomUpserted(
            district_id=d.district_id,
            classroom_id=d.classroom_id,
            school_id=d.school_id,
            teacher_ids=[d.teacher_id],
            student_ids=[*d.students, new_student],
        ),
        StudentRemoved(district_id=d.district_id, student_id=leaving, school_id=d.school_id),
    )
    path = f"/v1/team-meetings/{meeting['meeting_id']}"
    newcomer = d.headers(new_guardian, "guardian")
    assert (await scheduling.client.get(path, headers=newcomer)).status_code == 404
    await scheduling.roster(
        StudentUpserted(
            district_id=d.district_id,
            student_id=new_student,
            school_id=d.school_id,
            guardian_ids=[new_guardian],
        )
    )

    async def roster_applied() -> bool:
        arrived = await scheduling.client.get(path, headers=newcomer)
        left = await scheduling.client.get(path, headers=d.guardian(0))
        return (arrived.status_code, left.status_code) == (200, 404)

    await eventually(roster_applied, what="the new family in and the leaving one out")
    assert (await scheduling.client.get(path, headers=d.guardian(1))).status_code == 200
    answer = await scheduling.client.put(
        rsvp_path(meeting, leaving), json={"attending": True}, headers=d.guardian(0)
    )
    assert answer.status_code == 404
    assert (
        staying
        in (await scheduling.client.get(path, headers=d.guardian(1))).json()["your_student_ids"]
    )


async def test_an_older_roster_event_arriving_late_does_not_undo_a_newer_one(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1)
    meeting = await d.schedule()
    new_teacher = random_id("tch")
    now = datetime.now(UTC)

    def classroom(teacher: str) -> ClassroomUpserted:
        return ClassroomUpserted(
            district_id=d.district_id,
            classroom_id=d.classroom_id,
            school_id=d.school_id,
            teacher_ids=[teacher],
            student_ids=d.students,
        )

    await scheduling.deliver(classroom(new_teacher), time=now + timedelta(minutes=5))
    # The record about the old teacher was retried and arrives after the newer one.
    await scheduling.deliver(classroom(d.teacher_id), time=now + timedelta(minutes=1))
    path = f"/v1/team-meetings/{meeting['meeting_id']}"
    successor = d.headers(new_teacher, "teacher", schools=[d.school_id])
    assert (await scheduling.client.get(path, headers=successor)).status_code == 200
    assert (await scheduling.client.get(path, headers=d.teacher)).status_code == 403

    student = d.students[0]
    await scheduling.deliver(
        StudentRemoved(district_id=d.district_id, student_id=student, school_id=d.school_id),
        time=now + timedelta(minutes=5),
    )
    await scheduling.deliver(
        StudentUpserted(
            district_id=d.district_id,
            student_id=student,
            school_id=d.school_id,
            guardian_ids=d.guardians[student],
        ),
        time=now + timedelta(minutes=2),
    )
    assert (await scheduling.client.get(path, headers=d.guardian())).status_code == 404
