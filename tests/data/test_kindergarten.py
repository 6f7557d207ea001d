"""Countdown to kindergarten in the data service: incoming families from a CSV or one at a
time, each change on the restricted kindergarten topic that notify alone reads."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from aptt_contracts.catalogue import TOPICS_BY_NAME
from aptt_contracts.data import CONTACTS, KINDERGARTEN
from aptt_local.oneroster import build_package
from aptt_local.testing import random_id

from .conftest import DataService, district_roster

ROOT = Path(__file__).resolve().parents[2]
TODAY = datetime.now(UTC).date()
BORN = date(TODAY.year - 5, 3, 14).isoformat()
HEADER = (
    "family_id,school_id,child_first_name,birth_date,"
    "guardian1_name,guardian1_phone,guardian1_email,guardian1_language,"
    "guardian2_name,guardian2_phone,guardian2_email,guardian2_language\n"
)


@pytest.fixture(scope="module")
async def district(data_service: DataService) -> str:
    district = random_id("d")
    package = build_package(district_roster(district, per_class=2))
    assert (await data_service.import_roster(district, package)).status_code == 200
    return district


def family(**changes: Any) -> dict[str, Any]:
    return {
        "family_id": "k-1",
        "school_id": "sch1",
        "child_first_name": "Hodan",
        "birth_date": BORN,
        "guardians": [{"name": "Amina", "phone": "(510) 555-0199", "language": "so"}],
    } | changes


async def test_an_upload_keeps_the_good_rows_and_reports_the_bad_ones(
    data_service: DataService, district: str
) -> None:
    csv = (
        HEADER
        + f"u-1,sch1,Minh,{BORN},Lan,(510) 555-0111,,vi,Tuan,,tuan@example.org,vi\n"
        + f"u-2,sch1,Sara,{TODAY.isoformat()},Maha,,not-an-email,ar,,,,\n"
        + f"u-3,sch9,Ana,{BORN},Rosa,+15105550113,,es,,,,\n"
        + f"u-1,sch2,Minh,{BORN},Lan,(510) 555-0111,,vi,,,,\n"
        + f"u-4,sch2,Kofi,{BORN},,,,,,,,\n"
    ).encode()
    async with data_service.client() as client:
        answer = await client.post(
            "/v1/kindergarten/families/uploads",
            headers=data_service.admin(district),
            files={"file": ("incoming.csv", csv, "text/csv")},
        )
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert report["counts"] == {"created": 1, "updated": 0, "unchanged": 0}
        refused = {(r["line"], r["column"]) for r in report["rejected"]}
        assert refused == {
            (3, "birth_date"),
            (3, "guardian1_email"),
            (4, "school_id"),
            (5, "family_id"),
            (6, "guardian1_name"),
        }
        assert report["rejected_count"] == 5
        assert all(r["file"] == "incoming.csv" for r in report["rejected"])
        assert not any("not-an-email" in r["reason"] for r in report["rejected"])
        admin = data_service.admin(district)
        kept = await client.get("/v1/kindergarten/families/u-1", headers=admin)
        assert kept.json()["guardians"] == [
            {"name": "Lan", "phone": "+15105550111", "email": None, "language": "vi"},
            {"name": "Tuan", "phone": None, "email": "tuan@example.org", "language": "vi"},
        ]
        again = await client.post(
            "/v1/kindergarten/families/uploads",
            headers=data_service.admin(district),
            files={"file": ("incoming.csv", HEADER.encode() + csv.splitlines(True)[1], "text/csv")},
        )
        assert again.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 1}
        listed = await client.get(
            "/v1/kindergarten/families", params={"school_id": "sch1", "limit": 1}, headers=admin
        )
        assert [f["family_id"] for f in listed.json()["items"]] == ["u-1"]
        sch2 = data_service.token(district, "school_admin", subject="p2", schools=["sch2"])
        refused = await client.get(
            "/v1/kindergarten/families", params={"school_id": "sch1"}, headers=sch2
        )
        assert refused.status_code == 403
        bad_header = await client.post(
            "/v1/kindergarten/families/uploads",
            headers=data_service.admin(district),
            files={"file": ("x.csv", b"family,school\nu-9,sch1\n", "text/csv")},
        )
        assert bad_header.status_code == 422
        assert bad_header.json()["type"].endswith("/bad-header")
    events = await data_service.wait_for_events(
        district, KINDERGARTEN, lambda seen: any(p.get("family_id") == "u-1" for _, p in seen)
    )
    uploaded = [p for _, p in events if p["family_id"].startswith("u-")]
    assert [p["family_id"] for p in uploaded] == ["u-1"]  # the unchanged row published nothing
    assert uploaded[0]["child_first_name"] == "Minh"
    assert uploaded[0]["birth_date"] == BORN
    assert [g["language"] for g in uploaded[0]["guardians"]] == ["vi", "vi"]


async def test_one_family_at_a_time_for_the_schools_admins_and_nobody_else(
    data_service: DataService, district: str
) -> None:
    admin = data_service.admin(district)
    sch1_admin = data_service.token(district, "school_admin", subject="p1", schools=["sch1"])
    sch2_admin = data_service.token(district, "school_admin", subject="p2", schools=["sch2"])
    path = "/v1/kindergarten/families/k-1"
    async with data_service.client() as client:
        created = await client.post("/v1/kindergarten/families", headers=sch1_admin, json=family())
        assert created.status_code == 201, created.text
        assert created.headers["location"] == path
        assert created.json()["guardians"][0]["phone"] == "+15105550199"
        twice = await client.post("/v1/kindergarten/families", headers=admin, json=family())
        assert twice.status_code == 409
        elsewhere = await client.post(
            "/v1/kindergarten/families", headers=sch2_admin, json=family(family_id="k-2")
        )
        assert elsewhere.status_code == 403
        unknown_school = await client.post(
            "/v1/kindergarten/families", headers=admin, json=family(family_id="k-3", school_id="x")
        )
        assert unknown_school.status_code == 404
        too_old = await client.post(
            "/v1/kindergarten/families",
            headers=admin,
            json=family(family_id="k-4", birth_date="2001-01-01"),
        )
        assert too_old.status_code == 422
        assert [e["loc"] for e in too_old.json()["errors"]] == [["body", "birth_date"]]

        body = {k: v for k, v in family().items() if k != "family_id"}
        body["guardians"][0]["language"] = "so-SO"
        changed = await client.put(path, headers=sch1_admin, json=body)
        assert changed.status_code == 200
        assert changed.json()["guardians"][0]["language"] == "so-SO"
        refused = {
            "school admin of another school": (sch2_admin, 403),
            "teacher": (data_service.token(district, "teacher", subject="t1"), 403),
            "guardian": (data_service.token(district, "guardian", subject="c1-g1"), 403),
            "another district": (data_service.admin(random_id("other")), 404),
        }
        for who, (headers, status) in refused.items():
            assert (await client.get(path, headers=headers)).status_code == status, who
            assert (await client.put(path, headers=headers, json=body)).status_code == status, who
            assert (await client.delete(path, headers=headers)).status_code == status, who
        assert (await client.get(path, headers=sch1_admin)).status_code == 200
        assert (await client.delete(path, headers=sch1_admin)).status_code == 204
        assert (await client.get(path, headers=admin)).status_code == 404
    events = await data_service.wait_for_events(
        district,
        KINDERGARTEN,
        lambda seen: any(t.endswith("incoming-family.removed.v1") for t, _ in seen),
    )
    mine = [(t.split(".")[-2], p) for t, p in events if p["family_id"] == "k-1"]
    assert [kind for kind, _ in mine] == ["upserted", "upserted", "removed"]
    assert mine[1][1]["guardians"][0]["language"] == "so-SO"


def test_the_kindergarten_topic_is_restricted_and_only_notify_may_read_it() -> None:
    topic = TOPICS_BY_NAME[KINDERGARTEN]
    assert (topic.restricted, topic.producer, topic.consumers) == (True, "data", ("notify",))
    users = yaml.safe_load_all((ROOT / "deploy/k8s/components/strimzi/users.yaml").read_text())
    readers, writers = set(), set()
    for user in (u for u in users if u):
        for acl in user["spec"]["authorization"]["acls"]:
            if acl["resource"].get("name") == KINDERGARTEN:
                if "Read" in acl["operations"]:
                    readers.add(user["metadata"]["name"])
                if "Write" in acl["operations"]:
                    writers.add(user["metadata"]["name"])
    assert (readers, writers) == ({"aptt-notify"}, {"aptt-data"})


async def test_a_guardians_contact_carries_their_childrens_birth_dates_for_matching(
    data_service: DataService,
) -> None:
    district = random_id("d")
    roster = district_roster(district, per_class=2)
    first = dataclasses.replace(roster.students[0], birth_date="2021-03-14")
    roster = dataclasses.replace(roster, students=[first, *roster.students[1:]])
    assert (await data_service.import_roster(district, build_package(roster))).status_code == 200
    guardian = next(g for g in roster.guardians if g.student_ids == [first.sourced_id])
    events = await data_service.wait_for_events(
        district,
        CONTACTS,
        lambda seen: any(p["guardian_id"] == guardian.sourced_id for _, p in seen),
    )
    contacts = {p["guardian_id"]: p for _, p in events}
    assert contacts[guardian.sourced_id]["student_birth_dates"] == {first.sourced_id: "2021-03-14"}
    others = [p for p in contacts.values() if first.sourced_id not in p["student_ids"]]
    assert others
    assert all(p["student_birth_dates"] == {} for p in others)
