"""OneRoster packages without I/O: the builder, row checks, referential integrity, and the
roster derived from the accepted records."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date

import pytest
from aptt_data.domain.roster import derive
from aptt_data.oneroster import fields
from aptt_data.oneroster.package import RosterUpload, read_roster_package
from aptt_data.oneroster.resolve import Roster, resolve
from aptt_data.oneroster.spec import Record, split_user
from aptt_local.oneroster import Guardian, Student, build_package, package_files, results_csv

from .conftest import district_roster, edit_csv, unzip_files, zip_bytes

TODAY = date(2026, 9, 15)


def read(package: bytes, mode: str = "bulk") -> RosterUpload:
    return read_roster_package(
        package,
        mode=mode,
        phone_region="US",
        max_unzipped_bytes=10_000_000,  # type: ignore[arg-type]
    )


def accepted(
    package: bytes, stored: Roster | None = None, mode: str = "bulk"
) -> tuple[Roster, list]:
    upload = read(package, mode)
    resolution = resolve(upload, stored or {})
    rejections = [*upload.rejections, *(r for f in upload.files.values() for r in f.rejections)]
    return resolution.roster, rejections + resolution.rejections


def test_the_builder_makes_packages_the_importer_accepts_whole() -> None:
    roster = district_roster("d-1")
    records, rejections = accepted(build_package(roster))
    assert rejections == []
    view = derive(records, today=TODAY, school_languages={}, default_language="en")
    assert set(view.schools) == {"sch1", "sch2"}
    assert len(view.students) == 12
    assert len(view.guardians) == 13
    assert view.classrooms["c2"].grade == 2
    assert view.guardians["gboth"].student_ids == ["c1-s1", "c2-s1"]
    assert view.guardians["c1-g1"].email == "c1.g1@example.org"


def test_delta_packages_carry_status_and_dates_on_every_row() -> None:
    files = package_files(district_roster("d-1"), mode="delta")
    manifest = dict(csv.reader(io.StringIO(files["manifest.csv"].decode())))
    assert manifest["file.users"] == "delta"
    assert manifest["file.results"] == "absent"
    rows = list(csv.DictReader(io.StringIO(files["users.csv"].decode())))
    assert {r["status"] for r in rows} == {"active"}
    assert all(r["dateLastModified"].endswith("Z") for r in rows)
    assert accepted(build_package(district_roster("d-1"), mode="delta"), mode="delta")[1] == []


def test_the_builder_refuses_a_description_that_points_nowhere() -> None:
    roster = district_roster("d-1")
    lost = Student("s-x", "A", "B", 3, "sch9", ["c9"])
    with pytest.raises(ValueError, match="no school sch9"):
        build_package(dataclasses.replace(roster, students=[*roster.students, lost]))
    orphan = Guardian("g-x", "A", "B", None, None, "en", "parent", ["nobody"])
    with pytest.raises(ValueError, match="no student nobody"):
        build_package(dataclasses.replace(roster, guardians=[*roster.guardians, orphan]))


def test_results_csv_is_the_plain_upload_format() -> None:
    assert results_csv([("s-1", "orf", 87.0, date(2026, 10, 1))]) == (
        b"student_sourced_id,skill_code,score,assessed_on\r\ns-1,orf,87,2026-10-01\r\n"
    )


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("es", "es"), ("ES-mx", "es-MX"), ("zh_hant_tw", "zh-Hant-TW"), ("mam", "mam")],
)
def test_languages_are_bcp47_tags_in_conventional_case(raw: str, normalised: str) -> None:
    assert fields.language(raw) == normalised


@pytest.mark.parametrize("raw", ["Spanish", "e", "es--MX", "12"])
def test_other_language_values_are_refused(raw: str) -> None:
    with pytest.raises(fields.BadValue):
        fields.language(raw)


def test_phone_numbers_become_e164_and_nonsense_is_refused() -> None:
    phone = fields.phone_parser("US")
    assert phone("(510) 555-0134") == "+15105550134"
    assert phone("+52 55 1234 5678") == "+525512345678"
    with pytest.raises(fields.BadValue):
        phone("12345")


def test_a_name_longer_than_an_event_label_is_refused() -> None:
    # Names travel in GuardianContactUpdated, whose names are at most 200 characters.
    assert fields.text("N" * 200) == "N" * 200
    with pytest.raises(fields.BadValue, match="at most 200"):
        fields.text("N" * 201)


def test_a_refused_row_in_bulk_keeps_its_accepted_version() -> None:
    package = build_package(district_roster("d-1"))
    stored, _ = accepted(package)
    spoiled = edit_csv(
        package,
        "users.csv",
        lambda t: "\r\n".join(
            line.replace(",03,", ",third,") if line.startswith("c1-s2,") else line
            for line in t.split("\r\n")
        ),
    )

    records, rejections = accepted(spoiled, stored)

    assert [(r.file, r.column) for r in rejections] == [("users.csv", "grades")]
    assert records["users.csv"]["c1-s2"] == stored["users.csv"]["c1-s2"]


def test_a_new_row_pointing_at_a_refused_one_is_refused_with_the_root_cause() -> None:
    package = build_package(district_roster("d-1"))
    spoiled = edit_csv(package, "orgs.csv", lambda t: t.replace(",school,,", ",campus,,", 1))

    records, rejections = accepted(spoiled)

    reasons = {(r.file, r.column): r.reason for r in rejections}
    assert "'campus' is not one of" in reasons[("orgs.csv", "type")]
    assert reasons[("classes.csv", "schoolSourcedId")] == "org sch1 was refused (orgs.csv line 3)"
    assert "c1" not in records["classes.csv"]
    assert "c2" in records["classes.csv"]


def test_deleting_a_user_in_delta_takes_their_roles_and_enrollments_along() -> None:
    package = build_package(district_roster("d-1"))
    stored, _ = accepted(package)
    delta = package_files(district_roster("d-1"), mode="delta")
    header = {
        name: content.decode().split("\r\n", 1)[0] + "\r\n" for name, content in delta.items()
    }
    files = {name: text.encode() for name, text in header.items()}
    files["manifest.csv"] = delta["manifest.csv"]
    row = next(r for r in delta["users.csv"].decode().split("\r\n") if r.startswith("c1-s6,"))
    files["users.csv"] += row.replace(",active,", ",tobedeleted,", 1).encode() + b"\r\n"
    guardian = next(r for r in delta["users.csv"].decode().split("\r\n") if r.startswith("c1-g6,"))
    files["users.csv"] += guardian.replace(",active,", ",tobedeleted,", 1).encode() + b"\r\n"

    records, rejections = accepted(zip_bytes(files), stored, mode="delta")

    assert rejections == []
    assert "c1-s6" not in records["users.csv"]
    assert not [e for e in records["enrollments.csv"].values() if e["userSourcedId"] == "c1-s6"]
    assert not [r for r in records["roles.csv"].values() if r["userSourcedId"] == "c1-s6"]


def test_conflicting_copies_of_a_row_are_all_refused() -> None:
    package = build_package(district_roster("d-1"))
    files = unzip_files(package)
    lines = files["classes.csv"].decode().split("\r\n")
    copy = lines[1].replace("Room 3A", "Room 3Z")
    spoiled = edit_csv(package, "classes.csv", lambda t: t + copy + "\r\n")

    records, rejections = accepted(spoiled)

    assert {(r.file, r.line) for r in rejections if r.file == "classes.csv"} == {
        ("classes.csv", 2),
        ("classes.csv", 4),
    }
    assert "c1" not in records["classes.csv"]


def test_links_run_both_ways_and_ended_enrollments_do_not_count() -> None:
    package = build_package(district_roster("d-1"))
    # c1-s2 no longer names its guardian, but the guardian still names the child.
    package = edit_csv(
        package,
        "users.csv",
        lambda t: "\r\n".join(
            x.replace(",c1-g2,", ",,") if x.startswith("c1-s2,") else x for x in t.split("\r\n")
        ),
    )
    package = edit_csv(
        package,
        "enrollments.csv",
        lambda t: "\r\n".join(
            x[: -len(",,")] + ",2026-08-15,2026-09-01" if x.startswith("c1-c1-s3,") else x
            for x in t.split("\r\n")
        ),
    )
    records, rejections = accepted(package)
    assert rejections == []

    view = derive(records, today=TODAY, school_languages={"sch1": "es"}, default_language="en")

    assert view.students["c1-s2"].guardian_ids == ["c1-g2"]
    assert "c1-s3" not in view.classrooms["c1"].student_ids
    assert "c1-s3" in view.students  # still a student of the school


def test_a_guardian_without_a_language_gets_the_school_language() -> None:
    package = build_package(district_roster("d-1"))
    package = edit_csv(
        package,
        "users.csv",
        lambda t: "\r\n".join(
            x.removesuffix(",en") + "," if x.startswith("c1-g3,") else x for x in t.split("\r\n")
        ),
    )
    records, rejections = accepted(package)
    assert rejections == []
    view = derive(records, today=TODAY, school_languages={"sch1": "es"}, default_language="en")
    assert view.guardians["c1-g3"].preferred_language == "es"


def test_booleans_in_any_case_are_read_and_the_reading_is_reported() -> None:
    assert fields.boolean("true") is True
    assert fields.boolean("TRUE") == fields.Lenient(
        True, "'TRUE' read as true (OneRoster writes it in lower case)"
    )
    assert fields.boolean("False") == fields.Lenient(
        False, "'False' read as false (OneRoster writes it in lower case)"
    )
    with pytest.raises(fields.BadValue, match="write true or false"):
        fields.boolean("yes")


def test_a_contact_without_country_is_read_in_the_region_and_a_bad_one_is_left_out() -> None:
    phone = fields.contact_phone("US")
    assert phone("+1 510 555 0134") == "+15105550134"
    assert phone("510-555-0134") == fields.Lenient(
        "+15105550134", "no +country code: read as a number of US"
    )
    assert fields.contact_phone("MX")("55 1234 5678") == fields.Lenient(
        "+525512345678", "no +country code: read as a number of MX"
    )
    for unreadable in ("6031234567", "call the office"):
        left_out = phone(unreadable)
        assert isinstance(left_out, fields.Lenient)
        assert left_out.value is fields.DROPPED
        assert left_out.warning.endswith("left out, the rest of the user imported")
    bad_email = fields.contact_email("c1.g4@")
    assert isinstance(bad_email, fields.Lenient)
    assert bad_email.value is fields.DROPPED


def test_a_1_1_package_describes_the_same_roster_as_its_1_2_twin() -> None:
    roster = district_roster("d-1")
    as_1_2, _ = accepted(build_package(roster))
    as_1_1, rejections = accepted(build_package(roster, version="1.1"))

    assert rejections == []
    assert derive(as_1_1, today=TODAY, school_languages={}, default_language="en") == derive(
        as_1_2, today=TODAY, school_languages={}, default_language="en"
    )
    assert as_1_1["roles.csv"]["gboth~sch1"] == {
        "userSourcedId": "gboth",
        "roleType": "primary",
        "role": "guardian",
        "orgSourcedId": "sch1",
    }


def test_a_1_1_user_gives_a_role_per_org_first_one_primary() -> None:
    user = Record(
        "users.csv",
        "a-1",
        5,
        False,
        {
            "givenName": "A",
            "familyName": "B",
            "role": "administrator",
            "orgSourcedIds": ["o2", "o1"],
        },
    )
    kept, roles = split_user(user)
    assert kept.fields == {"givenName": "A", "familyName": "B"}
    assert [(r.sourced_id, r.fields["roleType"], r.fields["role"]) for r in roles] == [
        ("a-1~o2", "primary", "siteAdministrator"),
        ("a-1~o1", "secondary", "siteAdministrator"),
    ]
    assert {(r.line, r.source_file) for r in roles} == {(5, "users.csv")}


def test_a_1_1_delta_takes_away_the_roles_a_user_row_no_longer_names() -> None:
    roster = district_roster("d-1")
    stored, _ = accepted(build_package(roster, version="1.1"))
    moved = dataclasses.replace(
        roster,
        guardians=[
            dataclasses.replace(g, student_ids=["c2-s1"]) if g.sourced_id == "gboth" else g
            for g in roster.guardians
        ],
    )

    records, rejections = accepted(
        build_package(moved, mode="delta", version="1.1"), stored, mode="delta"
    )

    assert rejections == []
    assert sorted(r for r in records["roles.csv"] if r.startswith("gboth")) == ["gboth~sch2"]


def test_rows_that_need_a_refused_file_name_the_file_and_why() -> None:
    package = build_package(district_roster("d-1"), version="1.1")
    spoiled = edit_csv(package, "users.csv", lambda t: t.replace(",role,", ",rol,", 1))

    records, rejections = accepted(spoiled)

    reasons = {(r.file, r.column) for r in rejections if r.file == "users.csv"}
    assert reasons == {("users.csv", "role")}
    enrollment = next(r for r in rejections if r.file == "enrollments.csv")
    assert enrollment.reason.startswith("users.csv was refused, so user ")
    assert enrollment.reason.endswith("was not read: the header lacks the column(s) role")
    assert records["users.csv"] == {}


def test_a_column_named_in_another_case_is_read_with_a_warning() -> None:
    package = build_package(district_roster("d-1"), version="1.1")
    renamed = edit_csv(
        package, "users.csv", lambda t: t.replace("orgSourcedIds", "orgSourcedIDs", 1)
    )

    upload = read(renamed)

    users = upload.files["users.csv"]
    assert users.rejections == []
    assert [(w.line, w.column, w.reason) for w in users.warnings][:1] == [
        (1, "orgSourcedIds", "column 'orgSourcedIDs' read as orgSourcedIds")
    ]
    assert len(upload.files["roles.csv"].records) == len(users.records)
