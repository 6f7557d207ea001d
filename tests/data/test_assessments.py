"""Skills, assessment result imports (good and bad) and who may read a student's results."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from aptt_local.oneroster import build_package, results_csv
from aptt_local.testing import random_id

from .conftest import UPLOAD_LIMIT, DataService, district_roster, zip_bytes

ASSESSMENTS = "aptt.data.assessments.v1"
SKILLS = "aptt.data.skills.v1"
DAY = date(2026, 10, 6)
SPELLING: dict[str, Any] = {
    "code": "spelling-wpm",
    "name": {"en": "Spelling", "es": "Ortografía"},
    "unit": {"en": "words spelled correctly", "es": "palabras bien escritas"},
    "scale_min": 0,
    "scale_max": 40,
    "benchmarks": [
        {"grade": 3, "fall": 12, "winter": 16, "spring": 20, "weekly_growth": 0.4},
    ],
}


async def district_with_roster(data_service: DataService) -> str:
    district = random_id("d")
    response = await data_service.import_roster(district, build_package(district_roster(district)))
    assert response.status_code == 200
    return district


async def results_of(
    data_service: DataService, district: str, student: str
) -> list[dict[str, Any]]:
    async with data_service.client() as client:
        response = await client.get(
            f"/v1/students/{student}/results", headers=data_service.admin(district)
        )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_results_are_recorded_published_once_and_corrected(data_service: DataService) -> None:
    district = await district_with_roster(data_service)
    rows = [("c1-s1", "orf", 87, DAY), ("c1-s2", "math-facts", 22.5, DAY)]

    first = await data_service.import_results(district, results_csv(rows))

    assert first.status_code == 200, first.text
    assert first.json()["counts"] == {"accepted": 2, "unchanged": 0}
    assert first.json()["rejected"] == []
    events = await data_service.wait_for_events(district, ASSESSMENTS, lambda e: len(e) == 2)
    recorded = {p["student_id"]: p for _, p in events}
    assert recorded["c1-s1"]["school_id"] == "sch1"
    assert (recorded["c1-s1"]["skill_code"], recorded["c1-s1"]["score"]) == ("orf", 87.0)
    assert recorded["c1-s2"]["assessed_on"] == "2026-10-06"
    published = await data_service.outbox_count(district)

    again = await data_service.import_results(district, results_csv(rows))

    assert again.json()["counts"] == {"accepted": 0, "unchanged": 2}
    assert await data_service.outbox_count(district) == published

    corrected = await data_service.import_results(
        district, results_csv([("c1-s1", "orf", 95, DAY)])
    )

    assert corrected.json()["counts"] == {"accepted": 1, "unchanged": 0}
    events = await data_service.wait_for_events(district, ASSESSMENTS, lambda e: len(e) == 3)
    fixed = [p for _, p in events if p["student_id"] == "c1-s1"]
    assert fixed[0]["result_id"] == fixed[1]["result_id"]
    assert fixed[1]["score"] == 95.0
    [result] = await results_of(data_service, district, "c1-s1")
    assert result["score"] == 95.0
    assert result["benchmark"] == 83.0  # grade 3, fall
    assert result["band"] == "above"


async def test_oneroster_gradebook_files_are_read(data_service: DataService) -> None:
    district = await district_with_roster(data_service)
    line_items = (
        "sourcedId,status,dateLastModified,title,description,assignDate,dueDate,classSourcedId,"
        "metadata.skillCode\r\n"
        "li-1,,,Fall ORF,,2026-10-01,2026-10-10,c1,orf\r\n"
        "li-2,,,math-facts,,2026-10-01,2026-10-10,c1,\r\n"
    )
    results = (
        "sourcedId,status,dateLastModified,lineItemSourcedId,studentSourcedId,scoreStatus,score,"
        "scoreDate,comment\r\n"
        "r-1,,,li-1,c1-s1,fully graded,88,2026-10-06,\r\n"
        "r-2,,,li-2,c1-s2,fully graded,19,2026-10-06T09:00:00Z,\r\n"
        "r-3,,,li-1,c1-s3,exempt,,2026-10-06,\r\n"
        "r-4,,,li-9,c1-s4,fully graded,50,2026-10-06,\r\n"
    )
    package = zip_bytes({"lineItems.csv": line_items.encode(), "results.csv": results.encode()})

    report = (await data_service.import_results(district, package, name="gradebook.zip")).json()

    assert report["counts"] == {"accepted": 2, "unchanged": 0}
    rejected = {(r["line"], r["column"]): r["reason"] for r in report["rejected"]}
    assert "only fully graded results are recorded" in rejected[(4, "scoreStatus")]
    assert rejected[(5, "lineItemSourcedId")] == "lineItems.csv has no line item li-9"
    assert [r["skill_code"] for r in await results_of(data_service, district, "c1-s2")] == [
        "math-facts"
    ]


async def test_bad_rows_are_reported_and_accepted_results_stay(data_service: DataService) -> None:
    district = await district_with_roster(data_service)
    await data_service.import_results(district, results_csv([("c1-s1", "orf", 80, DAY)]))
    future = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    upload = (
        "student_sourced_id,skill_code,score,assessed_on\r\n"
        "c1-s2,orf,70,2026-10-06\r\n"  # 2: fine
        "c1-s2,orf,70,2026-10-06\r\n"  # 3: an exact copy of line 2
        "c1-s3,orf,70,2026-10-06\r\n"  # 4: conflicts with line 5
        "c1-s3,orf,75,2026-10-06\r\n"  # 5
        "nobody,orf,70,2026-10-06\r\n"  # 6: unknown student
        "c1-s4,reading-vibes,7,2026-10-06\r\n"  # 7: no such skill
        "c1-s4,orf,900,2026-10-06\r\n"  # 8: off the scale
        f"c1-s4,orf,70,{future}\r\n"  # 9: in the future
        "c1-s4,orf,seventy,06/10/2026\r\n"  # 10: neither a number nor a date
        "c1-s1,orf,\r\n"  # 11: too few fields
    )

    report = (await data_service.import_results(district, upload.encode())).json()

    assert report["counts"] == {"accepted": 1, "unchanged": 0}
    rejected = {(r["line"], r["column"]): r["reason"] for r in report["rejected"]}
    assert rejected[(3, None)] == "duplicate of line 2"
    assert "different scores" in rejected[(4, "score")]
    assert (5, "score") in rejected
    assert rejected[(6, "student_sourced_id")] == "no student nobody in this district's roster"
    assert "no skill 'reading-vibes'" in rejected[(7, "skill_code")]
    assert "outside the orf scale 0-250" in rejected[(8, "score")]
    assert "in the future" in rejected[(9, "assessed_on")]
    assert "not a number" in rejected[(10, "score")]
    assert "not a date" in rejected[(10, "assessed_on")]
    assert "3 fields but the header has 4" in rejected[(11, None)]
    assert all(r["file"] == "results.csv" for r in report["rejected"])
    assert [r["score"] for r in await results_of(data_service, district, "c1-s1")] == [80.0]


async def test_unreadable_uploads_get_a_report_naming_the_file(data_service: DataService) -> None:
    district = await district_with_roster(data_service)
    await data_service.import_results(district, results_csv([("c1-s1", "orf", 80, DAY)]))
    latin1 = (
        "student_sourced_id,skill_code,score,assessed_on\r\nc1-s1,orf,81,2026-10-07\r\n# José\r\n"
    )
    cases = {
        "latin-1": (latin1.encode("latin-1"), "scores.csv is not UTF-8"),
        "header": (
            b"student,skill,score,date\r\nc1-s1,orf,81,2026-10-07\r\n",
            "lacks the column(s)",
        ),
        "quote": (
            b'student_sourced_id,skill_code,score,assessed_on\r\n"c1-s1,orf,81\r\n',
            "well-formed",
        ),
    }
    for case, (content, reason) in cases.items():
        response = await data_service.import_results(district, content, name="scores.csv")
        assert response.status_code == 200, case
        report = response.json()
        assert report["counts"] == {"accepted": 0, "unchanged": 0}, case
        [problem] = report["rejected"]
        assert problem["file"] == "scores.csv", case
        assert reason in problem["reason"], (case, problem)
    too_big = await data_service.import_results(district, b"x" * (UPLOAD_LIMIT + 10))
    assert too_big.status_code == 413
    assert [r["score"] for r in await results_of(data_service, district, "c1-s1")] == [80.0]


async def test_a_school_admin_imports_for_their_own_schools_only(data_service: DataService) -> None:
    district = await district_with_roster(data_service)
    headers = data_service.token(district, "school_admin", subject="sa-1", schools=["sch1"])
    rows = [("c1-s1", "orf", 80, DAY), ("c2-s1", "orf", 80, DAY)]

    report = (
        await data_service.import_results(district, results_csv(rows), headers=headers)
    ).json()

    assert report["counts"]["accepted"] == 1
    [refused] = report["rejected"]
    assert refused["reason"] == "no student c2-s1 in your schools"
    teacher = data_service.token(district, "teacher", subject="t1")
    response = await data_service.import_results(district, results_csv(rows), headers=teacher)
    assert response.status_code == 403


async def test_a_students_results_are_for_their_family_and_their_staff(
    data_service: DataService,
) -> None:
    district = await district_with_roster(data_service)
    await data_service.import_results(district, results_csv([("c1-s1", "orf", 80, DAY)]))
    who = {
        "own guardian": (data_service.token(district, "guardian", subject="gboth"), 200),
        "own teacher": (data_service.token(district, "teacher", subject="t1"), 200),
        "own school admin": (
            data_service.token(district, "school_admin", subject="sa1", schools=["sch1"]),
            200,
        ),
        "another family": (data_service.token(district, "guardian", subject="c1-g2"), 404),
        "another teacher": (data_service.token(district, "teacher", subject="t2"), 403),
        "another school's admin": (
            data_service.token(district, "school_admin", schools=["sch2"]),
            403,
        ),
        "an educator": (data_service.token(district, "educator", subject="e1"), 403),
        "another district": (data_service.admin(random_id("other")), 404),
    }
    async with data_service.client() as client:
        for case, (headers, status) in who.items():
            response = await client.get("/v1/students/c1-s1/results", headers=headers)
            assert response.status_code == status, case
            if status != 200:
                assert "80" not in response.text
        record = await client.get(
            "/v1/students/c1-s1/disclosures", headers=data_service.admin(district)
        )
    assert sorted(d["actor_id"] for d in record.json()["items"]) == ["gboth", "sa1", "t1"]
    assert {d["what"] for d in record.json()["items"]} == {"assessment-results"}


async def test_districts_define_their_own_skills(data_service: DataService) -> None:
    district = await district_with_roster(data_service)
    admin = data_service.admin(district)
    async with data_service.client() as client:
        listed = (await client.get("/v1/skills", headers=admin)).json()
        assert {s["code"]: s["built_in"] for s in listed} == {"orf": True, "math-facts": True}

        created = await client.post("/v1/skills", headers=admin, json=SPELLING)
        assert created.status_code == 201, created.text
        assert created.json()["built_in"] is False
        assert (await client.post("/v1/skills", headers=admin, json=SPELLING)).status_code == 409
        built_in = await client.post("/v1/skills", headers=admin, json={**SPELLING, "code": "orf"})
        assert built_in.status_code == 422
        assert "built-in" in built_in.json()["detail"]
        off_scale = {**SPELLING, "code": "spelling-2"}
        off_scale["benchmarks"] = [{**SPELLING["benchmarks"][0], "spring": 99}]
        assert (await client.post("/v1/skills", headers=admin, json=off_scale)).status_code == 422
        teacher = data_service.token(district, "teacher", subject="t1")
        assert (await client.post("/v1/skills", headers=teacher, json=SPELLING)).status_code == 403
        changed = {**SPELLING, "scale_max": 50}
        assert (
            await client.put("/v1/skills/spelling-wpm", headers=admin, json=changed)
        ).status_code == 200
        stranger = data_service.admin(random_id("other"))
        other = (await client.get("/v1/skills", headers=stranger)).json()
        assert "spelling-wpm" not in {s["code"] for s in other}
        # Another district cannot change this district's skill, nor learn that it exists.
        hijack = {**SPELLING, "scale_max": 60}
        answer = await client.put("/v1/skills/spelling-wpm", headers=stranger, json=hijack)
        assert answer.status_code == 404
        ours = (await client.get("/v1/skills", headers=admin)).json()
        assert {s["code"]: s["scale_max"] for s in ours}["spelling-wpm"] == 50

    report = (
        await data_service.import_results(
            district, results_csv([("c1-s1", "spelling-wpm", 45, DAY)])
        )
    ).json()
    assert report["counts"]["accepted"] == 1
    events = await data_service.wait_for_events(district, SKILLS, lambda e: len(e) == 2)
    assert [p["scale_max"] for _, p in events] == [40.0, 50.0]
    assert events[0][1]["benchmarks"][0]["fall"] == 12.0


async def test_the_record_of_disclosures_is_for_the_family_and_admins(
    data_service: DataService,
) -> None:
    district = await district_with_roster(data_service)
    await data_service.import_results(district, results_csv([("c1-s1", "orf", 80, DAY)]))
    family = data_service.token(district, "guardian", subject="c1-g1")
    async with data_service.client() as client:
        assert (await client.get("/v1/students/c1-s1/results", headers=family)).status_code == 200
        who = {
            "own guardian": (family, 200),
            "own school admin": (
                data_service.token(district, "school_admin", schools=["sch1"]),
                200,
            ),
            "district admin": (data_service.admin(district), 200),
            "another family": (data_service.token(district, "guardian", subject="c1-g2"), 404),
            "another school's admin": (
                data_service.token(district, "school_admin", schools=["sch2"]),
                403,
            ),
            "own teacher": (data_service.token(district, "teacher", subject="t1"), 403),
            "another district": (data_service.admin(random_id("other")), 404),
        }
        for case, (headers, status) in who.items():
            response = await client.get("/v1/students/c1-s1/disclosures", headers=headers)
            assert response.status_code == status, case
            if status == 200:
                assert [d["actor_id"] for d in response.json()["items"]] == ["c1-g1"], case
            else:
                assert response.headers["content-type"] == "application/problem+json", case
                assert "c1-g1" not in response.text, case
