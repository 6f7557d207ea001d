"""Personal notes: a teacher of the class writes one sentence, each guardian gets it once in
their own language; previews, the class list, reach from notes and attendance, rate limits,
and nobody else's student, classroom or district."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aptt_contracts.scheduling import AttendanceRecorded, VisitCompleted
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, random_id
from aptt_platform.devissuer import DevIssuer

from .conftest import District, NotifyApp, running_notify

TEACHER = "t-1"  # the teacher the test districts' classroom names
BUILT = {
    "kind": "builder",
    "phrases": {"went_well": "well.progress", "home_action": "home.read-20"},
    "skill_code": "orf",
}


@pytest.fixture(scope="module")
async def notify(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[NotifyApp]:
    async with running_notify(
        local_stack, dev_issuer, notes_per_teacher_per_hour=3, notes_per_district_per_hour=4
    ) as app:
        yield app


async def roster_known(district: District) -> None:
    """Contacts, students and the classroom (with its teachers) have arrived."""
    await district.publish_roster()
    students = [f.student_id for f in district.families]

    async def known() -> bool:
        found = await district.notify.db["students"].count_documents(
            {
                "district_id": district.district_id,
                "student_id": {"$in": students},
                "school_id": {"$exists": True},
            }
        )
        classroom = await district.notify.db["classrooms"].count_documents(
            {"district_id": district.district_id, "student_ids": {"$all": students}}
        )
        return bool(found == len(students) and classroom)

    await eventually(known, timeout=30, what="the roster to arrive")


def staff(district: District, subject: str = TEACHER, **claims: Any) -> dict[str, str]:
    token = district.notify.issuer.mint(
        subject=subject,
        district_id=claims.pop("district_id", district.district_id),
        roles=claims.pop("roles", ["teacher"]),
        school_ids=claims.pop("school_ids", [district.school_id]),
        **claims,
    )
    return {"Authorization": f"Bearer {token}"}


async def note(
    notify: NotifyApp, district: District, student_id: str, **body: Any
) -> dict[str, Any]:
    headers = body.pop("headers", None) or staff(district)
    response = await notify.client.post(
        "/v1/notes", headers=headers, json={"student_id": student_id, **BUILT, **body}
    )
    return {"status": response.status_code, "headers": response.headers, **response.json()}


async def test_a_note_reaches_both_guardians_in_their_languages_once(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"language": "en"}, {"language": "es"})
    await roster_known(district)
    english, spanish = family.guardians
    note_id = uuid.uuid4().hex
    for _ in range(2):  # the client retries: the same id sends once
        sent = await note(notify, district, family.student_id, note_id=note_id)
        assert sent["status"] == 201, sent
        assert sent["recipients"] == 2
    [en] = await notify.wait_sms(english.phone)
    [es] = await notify.wait_sms(spanish.phone)
    assert en["body"].startswith("A note from your child's teacher about ")
    assert en["body"].endswith(
        ": Your child has made real progress. At home, read together for 20 minutes a night."
    )
    assert "Su hijo/a ha avanzado de verdad. En casa, lean juntos 20 minutos" in es["body"]
    [item] = await notify.wait_inbox(district.token(spanish), template="personal-note")
    assert item["language"] == "es"
    await asyncio.sleep(1)
    assert len(notify.sms_to(english.phone)) == 1
    assert len(notify.sms_to(spanish.phone)) == 1


async def test_free_text_is_sent_as_written_with_the_language_line(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"language": "es"}, {"language": "en"})
    await roster_known(district)
    spanish, english = family.guardians
    written = "Maya read her whole book to the class today, with great expression!"
    sent = await note(
        notify,
        district,
        family.student_id,
        kind="free_text",
        phrases=None,
        skill_code=None,
        text=written,
        language="en",
    )
    assert sent["status"] == 201, sent
    [es] = await notify.wait_sms(spanish.phone)
    assert written in es["body"]
    assert "(La maestra o el maestro lo escribió en inglés.)" in es["body"]
    [en] = await notify.wait_sms(english.phone)
    assert en["body"] == f"A note from your child's teacher: {written}"  # no line: same language


async def test_a_note_is_phrases_or_bounded_text_never_both(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({})
    await roster_known(district)
    bad = [
        {"phrases": {"went_well": "made-up"}},
        {"text": "free words in a built note"},
        {"kind": "free_text", "phrases": None, "text": "x" * 201, "language": "en"},
        {"kind": "free_text", "phrases": None, "text": "no language"},
    ]
    for body in bad:
        refused = await note(notify, district, family.student_id, **body)
        assert refused["status"] == 422, (body, refused)
    await asyncio.sleep(0.5)
    assert notify.sms_to(family.guardians[0].phone) == []


async def test_preview_shows_each_family_language_and_sends_nothing(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"language": "es"})
    await roster_known(district)
    response = await notify.client.post(
        "/v1/notes/preview",
        headers=staff(district),
        json={"student_id": family.student_id, **BUILT},
    )
    assert response.status_code == 200, response.text
    [preview] = response.json()["items"]
    assert preview["language"] == "es"
    assert "Su hijo/a ha avanzado de verdad." in preview["text"]
    phrases = await notify.client.get(
        "/v1/notes/phrases", params={"language": "es"}, headers=staff(district)
    )
    assert "well.progress" in {p["phrase_id"] for p in phrases.json()["parts"]["went_well"]}
    await asyncio.sleep(0.5)
    assert notify.sms_to(family.guardians[0].phone) == []


async def test_only_the_class_teacher_writes_and_sees_the_class(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({})
    await roster_known(district)
    other_teacher = staff(district, "t-other")
    refused = await note(notify, district, family.student_id, headers=other_teacher)
    assert refused["status"] == 403
    elsewhere = staff(district, district_id=random_id("d"))
    assert (await note(notify, district, family.student_id, headers=elsewhere))["status"] == 404
    guardian = {"Authorization": f"Bearer {district.token(family.guardians[0])}"}
    assert (await note(notify, district, family.student_id, headers=guardian))["status"] == 403
    path = f"/v1/classrooms/{district.classroom_id}/families"
    assert (await notify.client.get(path, headers=other_teacher)).status_code == 403
    assert (await notify.client.get(path, headers=elsewhere)).status_code == 404
    preview = await notify.client.post(
        "/v1/notes/preview", headers=other_teacher, json={"student_id": family.student_id, **BUILT}
    )
    assert preview.status_code == 403
    preview = await notify.client.post(
        "/v1/notes/preview", headers=elsewhere, json={"student_id": family.student_id, **BUILT}
    )
    assert preview.status_code == 404
    for headers, status in ((other_teacher, 403), (elsewhere, 404)):
        reach = await notify.client.get(
            "/v1/reach", params={"classroom_id": district.classroom_id}, headers=headers
        )
        assert reach.status_code == status
    await asyncio.sleep(0.5)
    assert notify.sms_to(family.guardians[0].phone) == []


async def test_class_list_and_reach_count_notes_attendance_and_home_visits(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    written, came, unheard = district.family({}), district.family({}), district.family({})
    visited = district.family({})
    await roster_known(district)
    assert (await note(notify, district, written.student_id))["status"] == 201
    meeting_id = random_id("m")
    await notify.publish(
        AttendanceRecorded(
            district_id=district.district_id,
            meeting_id=meeting_id,
            classroom_id=district.classroom_id,
            school_id=district.school_id,
            student_id=came.student_id,
            guardian_id=came.guardians[0].guardian_id,
            relationship="mother",
            present=True,
        ),
        AttendanceRecorded(
            district_id=district.district_id,
            meeting_id=meeting_id,
            classroom_id=district.classroom_id,
            school_id=district.school_id,
            student_id=unheard.student_id,
            guardian_id=unheard.guardians[0].guardian_id,
            relationship="father",
            present=False,
        ),
        VisitCompleted(
            district_id=district.district_id,
            visit_id=random_id("v"),
            student_id=visited.student_id,
            school_id=district.school_id,
            educator_ids=["educator-1", "educator-2"],
            visit_number=1,
            duration_minutes=50,
        ),
    )

    async def reach() -> dict[str, Any]:
        response = await notify.client.get(
            "/v1/reach", params={"classroom_id": district.classroom_id}, headers=staff(district)
        )
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def counted() -> bool:
        return bool((await reach())["reached"] == 3)

    await eventually(counted, timeout=30, what="attendance to count as a contact")
    found = await reach()
    assert found == {
        "days": 30,
        "families": 4,
        "reached": 3,
        "rate": 0.75,
        "not_reached": [unheard.student_id],
        "withheld": False,
    }
    school = await notify.client.get(
        "/v1/reach",
        params={"school_id": district.school_id},
        headers=staff(district, "admin-1", roles=["school_admin"]),
    )
    assert school.json()["reached"] == 3
    assert (
        await notify.client.get(
            "/v1/reach", params={"school_id": district.school_id}, headers=staff(district)
        )
    ).status_code == 403
    mine = await notify.client.get(
        "/v1/reach", params={"teacher_id": TEACHER}, headers=staff(district)
    )
    assert mine.json()["families"] == 4
    assert mine.json()["reached"] == 3
    # A principal compares teachers in numbers; four families are fewer than the minimum
    # group (5), so only their number is given, not who was reached.
    principal = staff(district, "admin-1", roles=["school_admin"])
    theirs = await notify.client.get(
        "/v1/reach",
        params={"teacher_id": TEACHER, "school_id": district.school_id},
        headers=principal,
    )
    assert theirs.status_code == 200, theirs.text
    assert theirs.json() == {
        "days": 30,
        "families": 4,
        "reached": None,
        "rate": None,
        "not_reached": [],
        "withheld": True,
    }
    elsewhere = staff(district, "admin-2", roles=["school_admin"], school_ids=["sch-other"])
    refused = await notify.client.get(
        "/v1/reach",
        params={"teacher_id": TEACHER, "school_id": district.school_id},
        headers=elsewhere,
    )
    assert refused.status_code == 403
    three = {"teacher_id": TEACHER, "school_id": district.school_id}
    three["classroom_id"] = district.classroom_id
    unclear = await notify.client.get("/v1/reach", params=three, headers=principal)
    assert unclear.status_code == 422
    colleague = await notify.client.get(
        "/v1/reach", params={"teacher_id": TEACHER}, headers=staff(district, "t-2")
    )
    assert colleague.status_code == 403
    listed = await notify.client.get(
        f"/v1/classrooms/{district.classroom_id}/families", headers=staff(district)
    )
    rows = {r["student_id"]: r for r in listed.json()["items"]}
    assert rows[written.student_id]["last_contact_kind"] == "note"
    assert rows[came.student_id]["last_contact_kind"] == "team-meeting"
    assert rows[visited.student_id]["last_contact_kind"] == "home-visit"
    assert rows[unheard.student_id]["last_contact_at"] is None


async def test_notes_are_limited_per_teacher_and_per_district(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": False})
    await roster_known(district)
    await notify.publish(
        district.classroom_event().model_copy(update={"teacher_ids": [TEACHER, "t-2"]})
    )

    async def co_teacher() -> bool:
        found = await note(notify, district, family.student_id, headers=staff(district, "t-2"))
        return bool(found["status"] == 201)

    await eventually(co_teacher, timeout=30, what="the second teacher to join the class")
    for _ in range(3):
        assert (await note(notify, district, family.student_id))["status"] == 201
    limited = await note(notify, district, family.student_id)
    assert limited["status"] == 429
    assert limited["type"].endswith("/rate-limited")
    assert 1 <= int(limited["headers"]["retry-after"]) <= 3601
    # The co-teacher has one note left of the district's four: the district's cap says no.
    assert (await note(notify, district, family.student_id, headers=staff(district, "t-2")))[
        "status"
    ] == 429
