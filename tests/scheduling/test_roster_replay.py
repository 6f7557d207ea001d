"""Roster events replayed out of order through the consumer's handlers.

Retries travel through the retry topic, so a record can arrive after a newer record of the
same classroom, student or school. The read model keeps what the newest event said, and a
removal stays a removal when an older upsert turns up late.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aptt_contracts.data import (
    ClassroomRemoved,
    ClassroomUpserted,
    SchoolUpserted,
    StudentRemoved,
    StudentUpserted,
)
from aptt_local.testing import random_id

from .conftest import District, Scheduling, iso

NEXT_YEAR = datetime.now(UTC).year + 1
WINDOWS_CREATED = "org.aptt.scheduling.meeting-windows.created.v1"


def classroom(d: District, classroom_id: str, teacher_id: str) -> ClassroomUpserted:
    return ClassroomUpserted(
        district_id=d.district_id,
        classroom_id=classroom_id,
        school_id=d.school_id,
        teacher_ids=[teacher_id],
        student_ids=d.students,
    )


def removed(d: District, classroom_id: str) -> ClassroomRemoved:
    return ClassroomRemoved(
        district_id=d.district_id, classroom_id=classroom_id, school_id=d.school_id
    )


async def window_count(d: District, classroom_id: str) -> int:
    query = {"district_id": d.district_id, "classroom_id": classroom_id}
    return await d.api.db["meeting_windows"].count_documents(query)


async def schedule(
    d: District, classroom_id: str, teacher_id: str | None = None, *, days: int = 12
) -> Any:
    """Schedule as the teacher named, else as an admin of the school."""
    headers = (
        d.headers(teacher_id, "teacher", schools=[d.school_id]) if teacher_id else d.school_admin
    )
    return await d.api.client.post(
        "/v1/team-meetings",
        json={
            "classroom_id": classroom_id,
            "starts_at": iso(datetime.now(UTC) + timedelta(days=days)),
            "location": "Room 4",
            "focus_skill_code": "orf",
        },
        headers=headers,
    )


async def test_a_removed_classroom_stays_removed_when_an_older_upsert_arrives_late(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1)
    applied = await scheduling.client.post(
        f"/v1/schools/{d.school_id}/engagement-calendars",
        json={"template_id": "builtin-oakland", "school_year": f"{NEXT_YEAR}-{NEXT_YEAR + 1}"},
        headers=d.school_admin,
    )
    assert applied.status_code == 201, applied.text
    now = datetime.now(UTC)
    teacher, late = random_id("tch"), random_id("cls")

    # The removal comes first; the upsert it followed was retried and arrives after it.
    await scheduling.deliver(removed(d, late), time=now + timedelta(minutes=10))
    await scheduling.deliver(classroom(d, late, teacher), time=now + timedelta(minutes=5))
    refused = await schedule(d, late)
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("/classroom-removed")
    assert await window_count(d, late) == 0, "an upsert not applied gives no windows"

    # A newer upsert (the classroom back on the roster) is applied, windows and all.
    await scheduling.deliver(classroom(d, late, teacher), time=now + timedelta(minutes=15))
    assert await window_count(d, late) == 5
    assert (await schedule(d, late, teacher)).status_code == 201
    events = await d.published(WINDOWS_CREATED, count=2)
    assert [e["classroom_id"] for e in events].count(late) == 1

    # An older removal after that changes nothing.
    await scheduling.deliver(removed(d, late), time=now + timedelta(minutes=12))
    assert (await schedule(d, late, teacher, days=20)).status_code == 201


async def test_an_older_classroom_upsert_after_a_newer_one_is_ignored(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1)
    now = datetime.now(UTC)
    old_teacher, new_teacher = random_id("tch"), random_id("tch")
    await scheduling.deliver(
        classroom(d, d.classroom_id, new_teacher), time=now + timedelta(minutes=5)
    )
    await scheduling.deliver(
        classroom(d, d.classroom_id, old_teacher), time=now + timedelta(minutes=1)
    )
    refused = await schedule(d, d.classroom_id, old_teacher)
    assert refused.status_code == 403, refused.text
    assert (await schedule(d, d.classroom_id, new_teacher)).status_code == 201


async def test_students_keep_the_newest_guardians_and_their_removal(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=2)
    meeting = await d.schedule()
    path = f"/v1/team-meetings/{meeting['meeting_id']}"
    now = datetime.now(UTC)
    moving, leaving = d.students
    first, second = d.guardians[moving]

    def student(student_id: str, guardians: list[str]) -> StudentUpserted:
        return StudentUpserted(
            district_id=d.district_id,
            student_id=student_id,
            school_id=d.school_id,
            guardian_ids=guardians,
        )

    await scheduling.deliver(student(moving, [second]), time=now + timedelta(minutes=5))
    await scheduling.deliver(student(moving, [first, second]), time=now + timedelta(minutes=2))
    assert (await scheduling.client.get(path, headers=d.guardian(0, 0))).status_code == 404
    assert (await scheduling.client.get(path, headers=d.guardian(0, 1))).status_code == 200

    removal = StudentRemoved(district_id=d.district_id, student_id=leaving, school_id=d.school_id)
    await scheduling.deliver(removal, time=now + timedelta(minutes=5))
    await scheduling.deliver(
        student(leaving, d.guardians[leaving]), time=now + timedelta(minutes=3)
    )
    assert (await scheduling.client.get(path, headers=d.guardian(1))).status_code == 404
    rsvp = await scheduling.client.put(
        f"{path}/rsvps/{leaving}", json={"attending": True}, headers=d.guardian(1)
    )
    assert rsvp.status_code == 404


async def test_a_school_keeps_its_newest_time_zone(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    meeting = await d.schedule()
    path = f"/v1/team-meetings/{meeting['meeting_id']}"
    now = datetime.now(UTC)

    def school(zone: str) -> SchoolUpserted:
        return SchoolUpserted(district_id=d.district_id, school_id=d.school_id, timezone=zone)

    await scheduling.deliver(school("America/Chicago"), time=now + timedelta(minutes=5))
    await scheduling.deliver(school("America/Denver"), time=now + timedelta(minutes=1))
    seen = await scheduling.client.get(path, headers=d.teacher)
    assert seen.json()["timezone"] == "America/Chicago"
