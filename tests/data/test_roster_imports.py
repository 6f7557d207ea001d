"""Roster imports end to end on the real broker and database: what a district admin sees
in the report and what the other services hear."""

from __future__ import annotations

import dataclasses
import json
import re

from aptt_local.oneroster import Student, build_package
from aptt_local.testing import random_id

from .conftest import DataService, district_roster, edit_csv

ROSTER = "aptt.data.roster.v1"
CONTACTS = "aptt.data.contacts.v1"
ROSTER_SIZE = 2 + 2 + 12 + 13 + 2  # schools, classrooms, students, guardians, teachers


def of_type(events: list[tuple[str, dict]], kind: str) -> list[dict]:
    return [payload for event_type, payload in events if f".{kind}." in event_type]


async def test_a_bulk_package_builds_the_roster_and_tells_the_other_services(
    data_service: DataService,
) -> None:
    district = random_id("d")
    response = await data_service.import_roster(district, build_package(district_roster(district)))

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["mode"] == "bulk"
    assert report["counts"] == {
        "created": ROSTER_SIZE,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
    }
    assert report["rejected"] == []
    assert report["by_kind"]["students"]["created"] == 12

    def complete(events: list[tuple[str, dict]]) -> bool:
        return len(events) == 2 + 12 + 2

    roster = await data_service.wait_for_events(district, ROSTER, complete)
    schools = of_type(roster, "school")
    assert {s["school_id"]: s["timezone"] for s in schools} == {
        "sch1": "America/Los_Angeles",
        "sch2": "America/Los_Angeles",
    }
    students = {s["student_id"]: s for s in of_type(roster, "student")}
    assert students["c1-s1"]["guardian_ids"] == ["c1-g1", "gboth"]
    assert students["c2-s3"] == {
        "district_id": district,
        "student_id": "c2-s3",
        "school_id": "sch2",
        "grade": 2,
        "guardian_ids": ["c2-g3"],
    }
    rooms = {c["classroom_id"]: c for c in of_type(roster, "classroom")}
    assert rooms["c1"]["teacher_ids"] == ["t1"]
    assert rooms["c1"]["student_ids"] == [f"c1-s{i}" for i in range(1, 7)]
    assert rooms["c1"]["grade"] == 3
    # Ids and codes only on the roster topic: no names, email addresses or phone numbers.
    text = json.dumps(roster)
    assert "example.org" not in text
    # The roster's phone numbers, as written or as E.164 (random ids may hold "555").
    assert not re.search(r"555[- ]?0\d{3}|\+1\d{3}555\d{4}", text)
    assert "Parent" not in text

    contacts = await data_service.wait_for_events(district, CONTACTS, lambda e: len(e) == 13)
    both = next(p for _, p in contacts if p["guardian_id"] == "gboth")
    assert both["phone"] == "+14155550199"
    assert both["email"] is None
    assert both["preferred_language"] == "es-MX"
    assert both["student_ids"] == ["c1-s1", "c2-s1"]
    assert both["school_ids"] == ["sch1", "sch2"]
    one = next(p for _, p in contacts if p["guardian_id"] == "c1-g2")
    assert (one["phone"], one["preferred_language"]) == ("+15105550002", "vi")

    async with data_service.client() as client:
        again = await client.get(
            f"/v1/roster/imports/{report['import_id']}", headers=data_service.admin(district)
        )
    assert again.status_code == 200
    assert again.json() == report


async def test_the_same_package_again_changes_nothing(data_service: DataService) -> None:
    district = random_id("d")
    package = build_package(district_roster(district))
    first = await data_service.import_roster(district, package)
    assert first.status_code == 200
    published = await data_service.outbox_count(district)

    second = await data_service.import_roster(district, package)

    assert second.status_code == 200
    assert second.json()["counts"] == {
        "created": 0,
        "updated": 0,
        "unchanged": ROSTER_SIZE,
        "deleted": 0,
    }
    assert await data_service.outbox_count(district) == published


async def test_a_bulk_package_without_a_family_removes_it(data_service: DataService) -> None:
    district = random_id("d")
    roster = district_roster(district)
    await data_service.import_roster(district, build_package(roster))
    smaller = dataclasses.replace(
        roster,
        students=[s for s in roster.students if s.sourced_id != "c1-s6"],
        guardians=[g for g in roster.guardians if g.sourced_id != "c1-g6"],
    )

    report = (await data_service.import_roster(district, build_package(smaller))).json()

    assert report["by_kind"]["students"]["deleted"] == 1
    assert report["by_kind"]["guardians"]["deleted"] == 1
    assert report["by_kind"]["classrooms"]["updated"] == 1
    events = await data_service.wait_for_events(
        district, ROSTER, lambda e: any(".student.removed." in t for t, _ in e)
    )
    [removed] = [p for t, p in events if ".student.removed." in t]
    assert removed == {"district_id": district, "student_id": "c1-s6", "school_id": "sch1"}
    room = [c for c in of_type(events, "classroom") if c["classroom_id"] == "c1"][-1]
    assert "c1-s6" not in room["student_ids"]
    contacts = await data_service.wait_for_events(
        district, CONTACTS, lambda e: sum(p["guardian_id"] == "c1-g6" for _, p in e) == 2
    )
    last = [p for _, p in contacts if p["guardian_id"] == "c1-g6"][-1]
    assert last["student_ids"] == []  # notify stops writing to a guardian who left


async def test_a_delta_package_adds_changes_and_deletes(data_service: DataService) -> None:
    district = random_id("d")
    roster = district_roster(district)
    await data_service.import_roster(district, build_package(roster))
    newcomer = Student("c1-s7", "Kid", "New", 3, "sch1", ["c1"])
    delta = dataclasses.replace(roster, students=[*roster.students, newcomer])
    files = build_package(delta, mode="delta")

    def only(lines_with: tuple[str, ...]):  # keep the header and the rows that mention these
        def edit(text: str) -> str:
            lines = text.splitlines()
            kept = [x for x in lines[1:] if any(k in x for k in lines_with)]
            return "\r\n".join([lines[0], *kept]) + "\r\n"

        return edit

    package = files
    package = edit_csv(package, "users.csv", only(("c1-s7", "c1-g2")))
    package = edit_csv(package, "roles.csv", only(("c1-s7",)))
    package = edit_csv(package, "enrollments.csv", only(("c1-s7",)))
    for name in ("orgs.csv", "classes.csv", "courses.csv", "academicSessions.csv"):
        package = edit_csv(package, name, only(("nothing-here",)))
    # Guardian c1-g2 changes email; student c1-s2 leaves the class (its enrollment deleted).
    package = edit_csv(
        package, "users.csv", lambda t: t.replace("c1.g2@example.org", "new.g2@example.org")
    )
    package = edit_csv(
        package,
        "enrollments.csv",
        lambda t: (
            t + "c1-c1-s2,tobedeleted,2026-09-02T00:00:00.000Z,c1,sch1,c1-s2,student,false,,\r\n"
        ),
    )

    response = await data_service.import_roster(district, package, mode="delta")

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["rejected"] == []
    assert report["by_kind"]["students"]["created"] == 1
    assert report["by_kind"]["guardians"]["updated"] == 1
    assert report["by_kind"]["classrooms"]["updated"] == 1
    events = await data_service.wait_for_events(
        district, ROSTER, lambda e: len(of_type(e, "classroom")) == 3
    )
    # One classroom's events share a key, hence a partition: its last one is the newest.
    room = [r for r in of_type(events, "classroom") if r["classroom_id"] == "c1"][-1]
    assert "c1-s7" in room["student_ids"]
    assert "c1-s2" not in room["student_ids"]
    contacts = await data_service.wait_for_events(
        district, CONTACTS, lambda e: any(p.get("email") == "new.g2@example.org" for _, p in e)
    )
    assert len(contacts) == 14


async def test_only_district_admins_import_and_other_districts_see_nothing(
    data_service: DataService,
) -> None:
    district = random_id("d")
    package = build_package(district_roster(district))
    report = (await data_service.import_roster(district, package)).json()
    async with data_service.client() as client:
        for role in ("school_admin", "teacher", "guardian", "educator"):
            refused = await client.post(
                "/v1/roster/imports",
                headers=data_service.token(district, role, schools=["sch1"]),
                files={"file": ("r.zip", package, "application/zip")},
            )
            assert refused.status_code == 403, role
        elsewhere = await client.get(
            f"/v1/roster/imports/{report['import_id']}",
            headers=data_service.admin(random_id("other")),
        )
        assert elsewhere.status_code == 404
        assert elsewhere.headers["content-type"] == "application/problem+json"


async def test_school_settings_change_time_zone_and_language(data_service: DataService) -> None:
    district = random_id("d")
    await data_service.import_roster(district, build_package(district_roster(district)))
    async with data_service.client() as client:
        own = data_service.token(district, "school_admin", schools=["sch1"])
        changed = await client.put(
            "/v1/schools/sch1/settings",
            headers=own,
            json={"timezone": "America/Chicago", "language": "ES"},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json() == {
            "school_id": "sch1",
            "name": "Lincoln Elementary",
            "timezone": "America/Chicago",
            "language": "es",
        }
        other_school = await client.put(
            "/v1/schools/sch2/settings", headers=own, json={"timezone": "America/Chicago"}
        )
        assert other_school.status_code == 403
        assert (await client.get("/v1/schools/sch2/settings", headers=own)).status_code == 403
        assert (await client.get("/v1/schools/nowhere/settings", headers=own)).status_code == 404
        other_district = await client.get(
            "/v1/schools/sch1/settings", headers=data_service.admin(random_id("other"))
        )
        assert other_district.status_code == 404
        bad = await client.put(
            "/v1/schools/sch1/settings", headers=own, json={"timezone": "Mars/Olympus"}
        )
        assert bad.status_code == 422
        unknown_field = await client.put(
            "/v1/schools/sch1/settings", headers=own, json={"colour": "red"}
        )
        assert unknown_field.status_code == 422
    events = await data_service.wait_for_events(
        district, ROSTER, lambda e: len(of_type(e, "school")) == 3
    )
    # One school's events share a key, hence a partition: the last one is the newest.
    assert [s for s in of_type(events, "school") if s["school_id"] == "sch1"][-1] == {
        "district_id": district,
        "school_id": "sch1",
        "timezone": "America/Chicago",
        "language": "es",
    }
