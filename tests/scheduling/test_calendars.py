"""Engagement calendars through the API: templates, applying one, windows per classroom."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aptt_contracts.data import ClassroomUpserted
from aptt_local.testing import eventually, random_id

from .conftest import District, Scheduling

WINDOWS_CREATED = "org.aptt.scheduling.meeting-windows.created.v1"
NEXT_YEAR = datetime.now(UTC).year + 1
SCHOOL_YEAR = f"{NEXT_YEAR}-{NEXT_YEAR + 1}"

OUR_TEMPLATE = {
    "name": "Two team meetings",
    "start_month": 8,
    "windows": [
        {"kind": "team_meeting", "month": 9, "span_months": 2, "focus_area": "reading"},
        {"kind": "conference", "month_offset": 3, "duration_minutes": 20},
        {"kind": "team_meeting", "month": 2, "focus_area": "math"},
    ],
}


async def apply(d: District, template_id: str, headers: dict[str, str] | None = None) -> Any:
    return await d.api.client.post(
        f"/v1/schools/{d.school_id}/engagement-calendars",
        json={"template_id": template_id, "school_year": SCHOOL_YEAR},
        headers=headers or d.school_admin,
    )


async def windows(d: District, classroom_id: str | None = None) -> list[dict[str, Any]]:
    answer = await d.api.client.get(
        f"/v1/classrooms/{classroom_id or d.classroom_id}/meeting-windows",
        params={"school_year": SCHOOL_YEAR},
        headers=d.teacher,
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_built_in_templates_are_offered_to_staff(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    answer = await scheduling.client.get("/v1/calendar-templates", headers=d.teacher)
    assert answer.status_code == 200
    by_id = {t["template_id"]: t for t in answer.json()["items"]}
    assert {"builtin-aptt-classic", "builtin-oakland"} <= set(by_id)
    oakland = by_id["builtin-oakland"]["windows"]
    assert [(w["kind"], w["month"], w["focus_area"]) for w in oakland] == [
        ("conference", 8, None),
        ("team_meeting", 10, "reading"),
        ("conference", 12, None),
        ("team_meeting", 2, "math"),
        ("conference", 3, None),
    ]
    refused = await scheduling.client.get("/v1/calendar-templates", headers=d.guardian())
    assert refused.status_code == 403


async def test_a_district_defines_a_template_only_its_admins_and_staff_see(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1)
    created = await scheduling.client.post(
        "/v1/calendar-templates", json=OUR_TEMPLATE, headers=d.district_admin
    )
    assert created.status_code == 201, created.text
    template = created.json()
    assert template["built_in"] is False
    assert [w["duration_minutes"] for w in template["windows"]] == [None, 20, None]

    same_name = await scheduling.client.post(
        "/v1/calendar-templates", json=OUR_TEMPLATE, headers=d.district_admin
    )
    assert same_name.status_code == 409
    by_teacher = await scheduling.client.post(
        "/v1/calendar-templates", json={**OUR_TEMPLATE, "name": "x"}, headers=d.teacher
    )
    assert by_teacher.status_code == 403

    mine = await scheduling.client.get(
        f"/v1/calendar-templates/{template['template_id']}", headers=d.teacher
    )
    assert mine.json()["name"] == "Two team meetings"
    other = d.headers(random_id("admin"), "district_admin", district_id=random_id("d"))
    hidden = await scheduling.client.get(
        f"/v1/calendar-templates/{template['template_id']}", headers=other
    )
    assert hidden.status_code == 404
    listed = await scheduling.client.get("/v1/calendar-templates", headers=other)
    assert template["template_id"] not in {t["template_id"] for t in listed.json()["items"]}


async def test_a_bad_template_is_explained_and_nothing_is_stored(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    bad = {
        **OUR_TEMPLATE,
        "windows": [
            {"kind": "team_meeting", "month": 9, "month_offset": 1},
            {"kind": "picnic", "month": 5},
        ],
    }
    answer = await scheduling.client.post(
        "/v1/calendar-templates", json=bad, headers=d.district_admin
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    locations = {e["location"] for e in answer.json()["errors"]}
    assert any(loc.startswith("body.windows.0") for loc in locations)
    assert any(loc.startswith("body.windows.1") for loc in locations)
    listed = await scheduling.client.get("/v1/calendar-templates", headers=d.district_admin)
    assert [t["built_in"] for t in listed.json()["items"]] == [True, True]


async def test_applying_a_template_gives_every_classroom_its_windows_once(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=2)
    second = random_id("cls")
    await scheduling.roster(
        ClassroomUpserted(
            district_id=d.district_id,
            classroom_id=second,
            school_id=d.school_id,
            teacher_ids=[random_id("tch")],
            student_ids=[],
        )
    )
    await scheduling.wait_for(d.district_id, classrooms=[second])

    first = await apply(d, "builtin-oakland")
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["created"], body["classrooms"], body["windows_created"]) == (True, 2, 10)
    assert [w["starts_on"] for w in body["windows"]][:2] == [
        f"{NEXT_YEAR}-08-01",
        f"{NEXT_YEAR}-10-01",
    ]

    again = await apply(d, "builtin-oakland", headers=d.district_admin)
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["windows_created"]) == (False, 0)
    assert again.json()["calendar_id"] == body["calendar_id"]

    mine = await windows(d)
    assert len(mine) == 5
    assert [(w["kind"], w["duration_minutes"]) for w in mine][:2] == [
        ("conference", 30),
        ("team_meeting", 75),
    ]
    assert all(w["calendar_id"] == body["calendar_id"] for w in mine)
    admin_view = await scheduling.client.get(
        f"/v1/classrooms/{second}/meeting-windows", headers=d.district_admin
    )
    assert len(admin_view.json()["items"]) == 5

    events = await d.published(WINDOWS_CREATED, count=2)
    assert len(events) == 2, "applying twice publishes nothing more"
    assert {e["classroom_id"] for e in events} == {d.classroom_id, second}
    assert all(len(e["windows"]) == 5 and e["school_year"] == SCHOOL_YEAR for e in events)

    other_template = await apply(d, "builtin-aptt-classic")
    assert other_template.status_code == 409
    assert other_template.json()["calendar_id"] == body["calendar_id"]

    calendars = await scheduling.client.get(
        f"/v1/schools/{d.school_id}/engagement-calendars", headers=d.teacher
    )
    assert [c["template_id"] for c in calendars.json()["items"]] == ["builtin-oakland"]


async def test_a_classroom_rostered_later_gets_the_schools_windows(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1)
    template = await scheduling.client.post(
        "/v1/calendar-templates", json=OUR_TEMPLATE, headers=d.district_admin
    )
    applied = await apply(d, template.json()["template_id"])
    assert applied.json()["windows_created"] == 3

    late = random_id("cls")
    await scheduling.roster(
        ClassroomUpserted(
            district_id=d.district_id,
            classroom_id=late,
            school_id=d.school_id,
            teacher_ids=[d.teacher_id],
            student_ids=[],
        )
    )
    found: list[dict[str, Any]] = []

    async def has_windows() -> bool:
        found[:] = await windows(d, late) if await _known(d, late) else []
        return len(found) == 3

    await eventually(has_windows, what="windows of the classroom rostered later")
    assert [(w["kind"], w["focus_area"]) for w in found] == [
        ("team_meeting", "reading"),
        ("conference", None),
        ("team_meeting", "math"),
    ]
    assert found[1]["duration_minutes"] == 20
    assert found[0]["ends_on"] == f"{NEXT_YEAR}-10-31"


async def _known(d: District, classroom_id: str) -> bool:
    return (
        await d.api.db["classrooms"].count_documents(
            {"district_id": d.district_id, "classroom_id": classroom_id}
        )
        == 1
    )


async def test_applying_needs_an_admin_of_that_school_in_that_district(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1)
    other_school = d.headers(random_id("p"), "school_admin", schools=[random_id("sch")])
    assert (await apply(d, "builtin-oakland", headers=other_school)).status_code == 403
    assert (await apply(d, "builtin-oakland", headers=d.teacher)).status_code == 403
    stranger = d.headers(random_id("a"), "district_admin", district_id=random_id("d"))
    assert (await apply(d, "builtin-oakland", headers=stranger)).status_code == 404
    elsewhere = d.headers(
        random_id("p"), "school_admin", schools=[random_id("sch")], district_id=random_id("d")
    )
    assert (await apply(d, "builtin-oakland", headers=elsewhere)).status_code == 404
    assert (await apply(d, "no-such-template")).status_code == 404
    past = await scheduling.client.post(
        f"/v1/schools/{d.school_id}/engagement-calendars",
        json={"template_id": "builtin-oakland", "school_year": "2001-2002"},
        headers=d.school_admin,
    )
    assert past.status_code == 422
    assert past.json()["type"].endswith("/school-year-over")
    calendars_path = f"/v1/schools/{d.school_id}/engagement-calendars"
    calendars = await scheduling.client.get(calendars_path, headers=d.school_admin)
    assert calendars.json()["items"] == []
    other_teacher = d.headers(random_id("tch"), "teacher", schools=[random_id("sch")])
    for headers, status in [(other_teacher, 403), (stranger, 404), (elsewhere, 404)]:
        read = await scheduling.client.get(calendars_path, headers=headers)
        assert read.status_code == status, read.text


async def test_families_see_their_own_childs_windows_only(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    other = await scheduling.district(students=1, district_id=d.district_id)
    await apply(d, "builtin-oakland")
    path = f"/v1/classrooms/{d.classroom_id}/meeting-windows"
    own = await scheduling.client.get(path, headers=d.guardian())
    assert own.status_code == 200
    assert len(own.json()["items"]) >= 3
    assert (await scheduling.client.get(path, headers=other.guardian())).status_code == 404
    assert (await scheduling.client.get(path, headers=other.teacher)).status_code == 403
    stranger = d.headers(d.guardians[d.students[0]][0], "guardian", district_id=random_id("d"))
    assert (await scheduling.client.get(path, headers=stranger)).status_code == 404
