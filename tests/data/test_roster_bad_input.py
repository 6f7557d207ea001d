"""Bad roster uploads: each gets a clear report or problem, and nothing accepted is lost."""

from __future__ import annotations

import io
import zipfile

from aptt_local.oneroster import build_package
from aptt_local.testing import random_id

from .conftest import (
    UPLOAD_LIMIT,
    DataService,
    district_roster,
    edit_csv,
    finished_job,
    unzip_files,
    zip_bytes,
)


def line_of(package: bytes, file: str, sourced_id: str) -> int:
    lines = unzip_files(package)[file].decode("utf-8-sig").splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.startswith(f"{sourced_id},"))


def replace_in_row(file_text: str, sourced_id: str, old: str, new: str) -> str:
    return "\r\n".join(
        line.replace(old, new) if line.startswith(f"{sourced_id},") else line
        for line in file_text.split("\r\n")
    )


async def roster_of(data_service: DataService, district: str) -> dict[str, list[str]]:
    """Classroom -> students, as the service now holds it."""
    docs = await data_service.db["classrooms"].find({"district_id": district}).to_list()
    return {d["classroom_id"]: d["student_ids"] for d in docs}


async def test_bad_rows_are_refused_whole_with_file_line_column_and_reason(
    data_service: DataService,
) -> None:
    district = random_id("d")
    package = build_package(district_roster(district))
    package = edit_csv(package, "users.csv", lambda t: replace_in_row(t, "c1-s3", ",03,", ",3rd,"))
    package = edit_csv(
        package, "users.csv", lambda t: replace_in_row(t, "c1-g4", "c1.g4@example.org", "c1.g4@")
    )
    package = edit_csv(
        package,
        "roles.csv",
        lambda t: replace_in_row(t, "c2-s2-student-sch2", ",student,", ",pupil,"),
    )
    package = edit_csv(
        package, "enrollments.csv", lambda t: t + "e-x,,,c9,sch1,c1-s1,student,,,\r\n"
    )

    response = await data_service.import_roster(district, package)

    assert response.status_code == 200, response.text
    rejected = response.json()["rejected"]

    def found(file: str, sourced_id: str, column: str) -> str:
        line = line_of(package, file, sourced_id)
        reasons = [
            r["reason"]
            for r in rejected
            if (r["file"], r["line"], r["column"]) == (file, line, column)
        ]
        assert reasons, f"{file} line {line} column {column} not reported: {rejected}"
        return reasons[0]

    assert "not a CEDS grade level" in found("users.csv", "c1-s3", "grades")
    # A contact that cannot be read is left out with a warning; the guardian is imported.
    [warning] = [w for w in response.json()["warnings"] if w["column"] == "email"]
    assert (warning["file"], warning["line"]) == (
        "users.csv",
        line_of(package, "users.csv", "c1-g4"),
    )
    assert warning["reason"] == "not an email address: left out, the rest of the user imported"
    assert "'pupil' is not one of" in found("roles.csv", "c2-s2-student-sch2", "role")
    assert found("enrollments.csv", "e-x", "classSourcedId") == "classes.csv has no class c9"
    # A refused row takes what depends on it along, and the report says why.
    line = line_of(package, "users.csv", "c1-s3")
    assert (
        found("enrollments.csv", "c1-c1-s3", "userSourcedId")
        == f"user c1-s3 was refused (users.csv line {line})"
    )
    assert "no row of roles.csv" in found("users.csv", "c2-s2", "sourcedId")
    rooms = await roster_of(data_service, district)
    guardian = await data_service.db["guardians"].find_one(
        {"district_id": district, "guardian_id": "c1-g4"}
    )
    assert guardian is not None
    assert guardian["email"] is None
    assert "c1-s3" not in rooms["c1"]
    assert "c2-s2" not in rooms["c2"]
    assert {"c1-s1", "c1-s2", "c1-s5"} <= set(rooms["c1"])
    student = await data_service.db["students"].find_one(
        {"district_id": district, "student_id": "c1-s3"}
    )
    assert student is None


async def test_a_refused_row_keeps_what_was_accepted_for_it(data_service: DataService) -> None:
    district = random_id("d")
    package = build_package(district_roster(district))
    await data_service.import_roster(district, package)
    spoiled = edit_csv(
        package, "users.csv", lambda t: replace_in_row(t, "c1-s2", ",03,", ",third,")
    )

    report = (await data_service.import_roster(district, spoiled)).json()

    assert report["counts"]["deleted"] == 0
    assert any(r["column"] == "grades" for r in report["rejected"])
    assert "c1-s2" in (await roster_of(data_service, district))["c1"]


async def test_a_file_that_is_not_utf8_is_refused_by_name_and_loses_nothing(
    data_service: DataService,
) -> None:
    district = random_id("d")
    package = build_package(district_roster(district))
    await data_service.import_roster(district, package)
    files = unzip_files(package)
    text = files["users.csv"].decode().replace("Parent,C1", "José,C1", 1)
    files["users.csv"] = text.encode("latin-1")

    report = (await data_service.import_roster(district, zip_bytes(files))).json()

    [problem] = report["rejected"]
    assert problem["file"] == "users.csv"
    assert "users.csv is not UTF-8" in problem["reason"]
    assert problem["line"] == next(i for i, t in enumerate(text.splitlines(), 1) if "José" in t)
    assert report["counts"]["deleted"] == 0
    assert len((await roster_of(data_service, district))["c1"]) == 6


async def test_utf8_with_a_byte_order_mark_is_read(data_service: DataService) -> None:
    district = random_id("d")
    files = unzip_files(build_package(district_roster(district)))
    files = {name: b"\xef\xbb\xbf" + content for name, content in files.items()}

    report = (await data_service.import_roster(district, zip_bytes(files))).json()

    assert report["rejected"] == []
    assert report["counts"]["created"] > 0


async def test_malformed_and_badly_headed_files_are_refused_whole(
    data_service: DataService,
) -> None:
    district = random_id("d")
    package = build_package(district_roster(district))
    package = edit_csv(package, "classes.csv", lambda t: t.replace(",Room 3A,", ',"Room 3A,', 1))
    package = edit_csv(package, "courses.csv", lambda t: t.replace(",title,", ",name,", 1))
    package = edit_csv(package, "orgs.csv", lambda t: t + t.splitlines()[1] + "\r\n")

    report = (await data_service.import_roster(district, package)).json()

    by_file = {
        r["file"]: r for r in report["rejected"] if r["file"] in ("classes.csv", "courses.csv")
    }
    assert "not a well-formed CSV" in by_file["classes.csv"]["reason"]
    assert by_file["courses.csv"]["column"] == "title"
    assert "lacks the column(s) title" in by_file["courses.csv"]["reason"]
    [duplicate] = [r for r in report["rejected"] if r["file"] == "orgs.csv"]
    assert duplicate["reason"] == "duplicate of line 2"
    assert await data_service.db["classrooms"].count_documents({"district_id": district}) == 0


async def test_a_delta_cannot_delete_a_school_its_classes_still_use(
    data_service: DataService,
) -> None:
    district = random_id("d")
    await data_service.import_roster(district, build_package(district_roster(district)))
    files = unzip_files(build_package(district_roster(district), mode="delta"))
    for name in list(files):
        if name.endswith(".csv") and name != "manifest.csv":
            files[name] = files[name].decode().split("\r\n", 1)[0].encode() + b"\r\n"
    files["orgs.csv"] += (
        b"sch1,tobedeleted,2026-09-01T00:00:00.000Z,Lincoln Elementary,school,,\r\n"
    )

    report = (await data_service.import_roster(district, zip_bytes(files), mode="delta")).json()

    [refused] = report["rejected"]
    assert (refused["file"], refused["line"], refused["column"]) == ("orgs.csv", 2, "status")
    assert "still depends on it; change that first" in refused["reason"]
    assert report["counts"]["deleted"] == 0


async def test_a_manifest_that_disagrees_with_the_mode_is_reported(
    data_service: DataService,
) -> None:
    district = random_id("d")

    report = (
        await data_service.import_roster(
            district, build_package(district_roster(district)), mode="delta"
        )
    ).json()

    assert {r["file"] for r in report["rejected"]} >= {"users.csv", "orgs.csv"}
    assert all(
        "marks" in r["reason"] and "this import is delta" in r["reason"] for r in report["rejected"]
    )
    assert report["counts"]["created"] == 0


def zip_with(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


async def test_uploads_that_are_not_a_usable_package_get_a_problem(
    data_service: DataService,
) -> None:
    district = random_id("d")
    files = unzip_files(build_package(district_roster(district)))
    manifest = files["manifest.csv"]
    cases = {
        "not a zip": (b"sourcedId,name\r\nx,y\r\n", "is not a zip file"),
        "traversal": (zip_with({**files, "../../etc/cron.d/x": b"boom"}), "unsafe path"),
        "bomb": (zip_with({**files, "big.csv": b"0" * (5 * UPLOAD_LIMIT)}), "unpacks to more than"),
        "no manifest": (
            zip_with({k: v for k, v in files.items() if k != "manifest.csv"}),
            "no manifest.csv",
        ),
        "version 1.0": (
            zip_with(
                {
                    **files,
                    "manifest.csv": manifest.replace(
                        b"oneroster.version,1.2", b"oneroster.version,1.0"
                    ),
                }
            ),
            "this import reads OneRoster 1.1 and 1.2",
        ),
    }
    for case, (upload, reason) in cases.items():
        response = await data_service.import_roster(district, upload)
        assert response.status_code == 422, case
        problem = response.json()
        assert problem["type"].endswith("/not-a-package"), case
        assert reason in problem["detail"], (case, problem["detail"])
        assert problem["rejected"][0]["reason"] == problem["detail"]
    assert await data_service.db["students"].count_documents({"district_id": district}) == 0


async def test_an_upload_over_the_limit_is_refused_with_413(data_service: DataService) -> None:
    district = random_id("d")
    for size in (UPLOAD_LIMIT + 1, 3 * UPLOAD_LIMIT):
        response = await data_service.import_roster(district, b"\0" * size)
        assert response.status_code == 413, size
        assert response.headers["content-type"] == "application/problem+json"
        assert "limited to" in response.json()["detail"]


async def test_a_chunked_upload_is_measured_as_it_arrives(data_service: DataService) -> None:
    district = random_id("d")
    boundary = "aptt-test-boundary"

    def body(package: bytes) -> bytes:
        return (
            (
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="file"; filename="r.zip"\r\n'
                "Content-Type: application/zip\r\n\r\n"
            ).encode()
            + package
            + f"\r\n--{boundary}--\r\n".encode()
        )

    async def chunks(data: bytes):  # no Content-Length: sent with chunked transfer encoding
        for start in range(0, len(data), 16 * 1024):
            yield data[start : start + 16 * 1024]

    headers = {
        **data_service.admin(district),
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    async with data_service.client() as client:
        posted = await client.post(
            "/v1/roster/imports",
            headers=headers,
            content=chunks(body(build_package(district_roster(district)))),
        )
        assert posted.status_code == 202, posted.text
        small = await finished_job(client, posted, data_service.admin(district))
        large = await client.post(
            "/v1/roster/imports", headers=headers, content=chunks(body(b"\0" * 2 * UPLOAD_LIMIT))
        )
    assert small.status_code == 200, small.text
    assert small.json()["counts"]["created"] > 0
    assert large.status_code == 413
