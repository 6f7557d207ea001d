"""Roster packages as SIS and rostering hub exports write them: OneRoster 1.1 with each one's
column order and habits, and 1.2 saved from a spreadsheet. Each imports the same district as
the binding-exact 1.2 package does, and the report says what was read leniently.

The styles follow the habits districts meet in these exports (stamped bulk rows, quoting
every field, LF line ends, a BOM, a folder in the zip, optional columns left out, extra files,
booleans in capitals, national phone numbers); the people and ids are invented.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aptt_local.oneroster import (
    HEADERS,
    USERS_1_1,
    ExportStyle,
    Roster,
    build_package,
    package_files,
    zip_files,
)
from aptt_local.servers import LocalStack
from aptt_local.testing import random_id
from aptt_platform.devissuer import DevIssuer

from .conftest import DataService, district_roster, started_data_service

REPORTED = 50  # warnings (and refused rows) a report lists
KINDS = ("schools", "classrooms", "students", "guardians", "teachers")
NO_COUNTRY = "no +country code: read as a number of US"


@pytest.fixture(scope="module")
async def data_service(
    local_stack: LocalStack, dev_issuer: DevIssuer
) -> AsyncIterator[DataService]:
    """The data service listing at most REPORTED warnings in a report."""
    async with started_data_service(
        local_stack, dev_issuer, max_rejections_reported=REPORTED
    ) as service:
        yield service


def national(number: str) -> str:
    """A US number as a spreadsheet keeps it: ten digits, no country code."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return digits.removeprefix("1") if number.startswith("+") else digits


def dashed(number: str) -> str:
    digits = national(number)
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


def without(columns: list[str], *dropped: str) -> list[str]:
    return [c for c in columns if c not in dropped]


DEMOGRAPHICS = b"sourcedId,status,dateLastModified,birthDate,sex\r\n"
STYLES = {
    # Status and dateLastModified on every bulk row, phones as 510-555-0001, and the
    # demographics file the export always writes (this import does not read it).
    "powerschool": ExportStyle(
        system_name="PowerSchool",
        stamp_bulk=True,
        phone=dashed,
        extra_files={"demographics.csv": DEMOGRAPHICS},
    ),
    # Every field quoted, LF line ends, the user's role before its orgs.
    "infinite-campus": ExportStyle(
        system_name="Infinite Campus",
        quote_all=True,
        line_end="\n",
        columns={
            "users.csv": [
                "sourcedId",
                "status",
                "dateLastModified",
                "role",
                "orgSourcedIds",
                *without(
                    USERS_1_1, "sourcedId", "status", "dateLastModified", "role", "orgSourcedIds"
                ),
            ]
        },
    ),
    # A BOM, the files under a folder of the zip, optional columns left out.
    "classlink": ExportStyle(
        system_name="ClassLink OneRoster Server",
        bom=True,
        folder="OneRosterv1p1BaseCSV",
        columns={
            "users.csv": without(USERS_1_1, "password", "userIds", "middleName", "identifier"),
            "enrollments.csv": without(HEADERS["enrollments.csv"], "beginDate", "endDate"),
            "classes.csv": without(HEADERS["classes.csv"], "location", "periods"),
        },
    ),
    # LF line ends, national numbers, the contact columns last.
    "clever": ExportStyle(
        system_name="Clever",
        line_end="\n",
        phone=national,
        columns={
            "users.csv": [
                *without(USERS_1_1, "email", "sms", "phone"),
                "email",
                "sms",
                "phone",
            ]
        },
    ),
}


async def roster_state(data_service: DataService, district: str) -> dict[str, list[Any]]:
    """What the service holds of a district's roster, comparable across districts."""
    state = {}
    for kind in KINDS:
        docs = await data_service.db[kind].find({"district_id": district}).to_list()
        for doc in docs:
            for varying in ("_id", "district_id", "updated_at"):
                doc.pop(varying, None)
        state[kind] = sorted(docs, key=repr)
    return state


def line_of(files: dict[str, bytes], file: str, sourced_id: str) -> int:
    lines = files[file].decode("utf-8-sig").splitlines()
    return next(
        i for i, text in enumerate(lines, 1) if text.lstrip('"').startswith(f"{sourced_id}")
    )


@pytest.fixture(scope="module")
async def expected(data_service: DataService) -> dict[str, list[Any]]:
    """The district as the binding-exact OneRoster 1.2 package describes it."""
    district = random_id("d")
    report = (await data_service.import_roster(district, build_package(roster(district)))).json()
    assert report["rejected"] == []
    return await roster_state(data_service, district)


def roster(district: str) -> Roster:
    # The district's own org is named alike in every district, so their rosters compare.
    return dataclasses.replace(district_roster(district), district_id="district")


@pytest.mark.parametrize("style", list(STYLES))
async def test_a_oneroster_1_1_export_imports_the_same_district_as_1_2(
    data_service: DataService, expected: dict[str, list[Any]], style: str
) -> None:
    district = random_id("d")
    package = build_package(roster(district), version="1.1", style=STYLES[style])

    report = (await data_service.import_roster(district, package)).json()

    assert report["status"] == "done", report
    assert report["rejected"] == []
    assert report["counts"]["created"] == 2 + 2 + 12 + 13 + 2
    assert await roster_state(data_service, district) == expected
    # The only leniency these exports need: phone numbers written without +1.
    assert {w["reason"] for w in report["warnings"]} == {NO_COUNTRY}


async def test_a_spreadsheet_saved_1_2_package_imports_whole_with_warnings(
    data_service: DataService, expected: dict[str, list[Any]]
) -> None:
    district = random_id("d")

    described = roster(district)
    # c1-g2's number cannot be a US one: no local number starts with 1 (its 123).
    described = dataclasses.replace(
        described,
        guardians=[
            dataclasses.replace(g, phone="6031234567") if g.sourced_id == "c1-g2" else g
            for g in described.guardians
        ],
    )
    style = ExportStyle(booleans=("TRUE", "FALSE"), phone=national)
    files = package_files(described, style=style)
    # A column retyped in another case is still the column.
    files["users.csv"] = files["users.csv"].replace(b",agentSourcedIds,", b",agentSourcedIDs,", 1)

    report = (await data_service.import_roster(district, zip_files(files))).json()

    assert report["rejected"] == []
    state = await roster_state(data_service, district)
    # Every user came in with their roles and enrollments; only c1-g2's number is missing.
    for kind in ("schools", "classrooms", "students", "teachers"):
        assert state[kind] == expected[kind], kind
    guardians = {g["guardian_id"]: g for g in state["guardians"]}
    assert guardians["c1-g2"]["phone"] is None
    assert guardians["c1-g2"]["email"] == "c1.g2@example.org"
    assert guardians["c1-g2"]["student_ids"] == ["c1-s2"]
    assert guardians["c1-g1"]["phone"] == "+15105550001"
    assert guardians == {g["guardian_id"]: g for g in expected["guardians"]} | {
        "c1-g2": guardians["c1-g2"]
    }
    # A header, 27 users' enabledUser, 14 enrollments' primary, 26 phone cells of 13 guardians.
    assert report["warnings_count"] == 1 + 27 + 14 + 26
    assert report["warnings_truncated"] is True
    assert len(report["warnings"]) == REPORTED
    shown = {(w["file"], w["line"], w["column"]): w["reason"] for w in report["warnings"]}
    assert shown[("enrollments.csv", 2, "primary")] == (
        "'TRUE' read as true (OneRoster writes it in lower case)"
    )
    assert shown[("users.csv", 1, "agentSourcedIds")] == (
        "column 'agentSourcedIDs' read as agentSourcedIds"
    )
    line = line_of(files, "users.csv", "c1-g2")
    assert shown[("users.csv", line, "enabledUser")] == (
        "'TRUE' read as true (OneRoster writes it in lower case)"
    )
    for column in ("sms", "phone"):
        assert shown[("users.csv", line, column)] == (
            "not a valid phone number (numbers without +country are read in US): "
            "left out, the rest of the user imported"
        )
        assert shown[("users.csv", line - 1, column)] == NO_COUNTRY
    # Reasons name the column, never the number.
    assert not any("603" in reason for reason in shown.values())


async def test_a_1_1_delta_user_row_carries_all_of_its_roles(data_service: DataService) -> None:
    district = random_id("d")
    await data_service.import_roster(district, build_package(roster(district), version="1.1"))
    moved = roster(district)
    moved = dataclasses.replace(
        moved,
        students=[
            dataclasses.replace(s, school_id="sch2", classroom_ids=["c2"])
            if s.sourced_id == "c1-s2"
            else s
            for s in moved.students
        ],
    )
    files = package_files(moved, mode="delta", version="1.1")
    files["enrollments.csv"] += (
        b"c1-c1-s2,tobedeleted,2026-09-01T00:00:00.000Z,c1,sch1,c1-s2,student,false,,\r\n"
    )

    report = (await data_service.import_roster(district, zip_files(files), mode="delta")).json()

    assert report["rejected"] == []
    student = await data_service.db["students"].find_one(
        {"district_id": district, "student_id": "c1-s2"}
    )
    assert student is not None
    assert student["school_id"] == "sch2"
    roles = (
        await data_service.db["roster_records"]
        .find({"district_id": district, "file": "roles.csv"})
        .to_list()
    )
    assert [
        r["fields"]["orgSourcedId"] for r in roles if r["fields"]["userSourcedId"] == "c1-s2"
    ] == ["sch2"]
    rooms = {
        d["classroom_id"]: d["student_ids"]
        for d in await data_service.db["classrooms"].find({"district_id": district}).to_list()
    }
    assert "c1-s2" in rooms["c2"]
    assert "c1-s2" not in rooms["c1"]


async def test_rows_that_need_a_refused_file_say_it_was_refused(
    data_service: DataService,
) -> None:
    district = random_id("d")
    style = ExportStyle(columns={"users.csv": without(USERS_1_1, "role")})
    files = package_files(roster(district), version="1.1", style=style)

    report = (await data_service.import_roster(district, zip_files(files))).json()

    refused = [r for r in report["rejected"] if r["file"] == "users.csv"]
    assert [(r["line"], r["column"]) for r in refused] == [(1, "role")]
    assert "lacks the column(s) role" in refused[0]["reason"]
    line = line_of(files, "enrollments.csv", "c1-c1-s1")
    [enrollment] = [
        r for r in report["rejected"] if (r["file"], r["line"]) == ("enrollments.csv", line)
    ]
    assert enrollment["column"] == "userSourcedId"
    assert enrollment["reason"] == (
        "users.csv was refused, so user c1-s1 was not read: the header lacks the column(s) role"
    )
    assert not any("has no user" in r["reason"] for r in report["rejected"])
    assert await data_service.db["students"].count_documents({"district_id": district}) == 0


async def test_a_1_1_user_whose_orgs_are_unknown_is_refused_at_its_own_row(
    data_service: DataService,
) -> None:
    district = random_id("d")
    files = package_files(roster(district), version="1.1")
    text = files["users.csv"].decode()
    files["users.csv"] = "\r\n".join(
        line.replace(",sch1,student,", ",sch9,student,") if line.startswith("c1-s3,") else line
        for line in text.split("\r\n")
    ).encode()

    report = (await data_service.import_roster(district, zip_files(files))).json()

    line = line_of(files, "users.csv", "c1-s3")
    found = {(r["file"], r["line"], r["column"]): r["reason"] for r in report["rejected"]}
    assert found[("users.csv", line, "orgSourcedIds")] == "orgs.csv has no org sch9"
    assert found[("users.csv", line, "sourcedId")] == (
        "none of this student's orgSourcedIds is a school"
    )
    assert found[
        ("enrollments.csv", line_of(files, "enrollments.csv", "c1-c1-s3"), "userSourcedId")
    ] == (f"user c1-s3 was refused (users.csv line {line})")
    assert not any(r["file"] == "roles.csv" for r in report["rejected"])
    assert await data_service.db["students"].count_documents({"district_id": district}) == 11


async def test_the_district_says_where_numbers_without_a_country_are(
    data_service: DataService,
) -> None:
    district = random_id("d")
    admin = data_service.admin(district)
    async with data_service.client() as client:
        bad = await client.put(
            "/v1/district/settings",
            headers=admin,
            json={"min_report_group_size": 5, "phone_region": "ZZ"},
        )
        put = await client.put(
            "/v1/district/settings",
            headers=admin,
            json={"min_report_group_size": 5, "phone_region": "gb"},
        )
        kept = await client.put(
            "/v1/district/settings", headers=admin, json={"min_report_group_size": 6}
        )
    assert bad.status_code == 422
    assert put.json() == {"min_report_group_size": 5, "phone_region": "GB"}
    assert kept.json() == {"min_report_group_size": 6, "phone_region": "GB"}

    def london(number: str) -> str:
        return f"020 7946 0{national(number)[-3:]}"

    style = ExportStyle(phone=london)
    report = (
        await data_service.import_roster(district, build_package(roster(district), style=style))
    ).json()

    assert report["rejected"] == []
    assert {w["reason"] for w in report["warnings"]} == {"no +country code: read as a number of GB"}
    guardian = await data_service.db["guardians"].find_one(
        {"district_id": district, "guardian_id": "c1-g1"}
    )
    assert guardian is not None
    assert guardian["phone"] == "+442079460001"
