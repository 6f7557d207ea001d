"""Class reports for team meetings: prepared when scheduling says so, anonymous, with fresh
private numbers that reach only notify and the student's own guardians."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aptt_contracts.scheduling import (
    TeamMeetingCancelled,
    TeamMeetingRescheduled,
    TeamMeetingScheduled,
)
from aptt_contracts.skills import ORAL_READING_FLUENCY, season_of
from aptt_local.kafkatools import publish
from aptt_local.oneroster import build_package, results_csv
from aptt_local.testing import eventually, random_id

from .conftest import DataService, district_roster

NUMBERS = "aptt.data.private-numbers.v1"
REPORTS = "aptt.data.reports.v1"
# Grade 3 oral reading fluency: 70 (well below 80% of ~97), 90 (below), 100 (at), 130 (above).
C1_SCORES = [70.0, 90.0, 100.0, 100.0, 130.0, 60.0]


async def scheduled(
    data_service: DataService,
    district: str,
    classroom: str,
    starts_at: datetime,
    skill: str = "orf",
) -> str:
    meeting_id = f"m-{uuid.uuid4().hex[:8]}"
    await publish(
        data_service.bootstrap,
        TeamMeetingScheduled(
            district_id=district,
            meeting_id=meeting_id,
            classroom_id=classroom,
            school_id="sch1" if classroom == "c1" else "sch2",
            starts_at=starts_at,
            duration_minutes=75,
            focus_skill_code=skill,
        ),
    )
    return meeting_id


async def report_of(
    data_service: DataService, district: str, meeting_id: str, check: Any = None
) -> dict[str, Any]:
    headers = data_service.token(district, "teacher", subject="t1")
    found: dict[str, Any] = {}

    async def ready() -> bool:
        nonlocal found
        async with data_service.client() as client:
            response = await client.get(f"/v1/meetings/{meeting_id}/class-report", headers=headers)
        if response.status_code != 200:
            return False
        found = response.json()
        return check is None or check(found)

    await eventually(ready, timeout=45, what=f"the class report of {meeting_id}")
    return found


async def setup(data_service: DataService, *, day: date) -> str:
    district = random_id("d")
    assert (
        await data_service.import_roster(district, build_package(district_roster(district)))
    ).status_code == 200
    rows = [(f"c1-s{i}", "orf", score, day) for i, score in enumerate(C1_SCORES, 1)]
    rows += [(f"c2-s{i}", "orf", 50.0, day) for i in (1, 2, 3)]  # too few in c2 for a chart
    response = await data_service.import_results(district, results_csv(rows))
    assert response.json()["counts"] == {"accepted": 9, "unchanged": 0}, response.text
    return district


async def test_a_scheduled_meeting_gets_an_anonymous_report_and_fresh_numbers(
    data_service: DataService,
) -> None:
    today = datetime.now(UTC).date()
    district = await setup(data_service, day=today)
    starts = datetime.now(UTC) + timedelta(days=10)
    meeting = await scheduled(data_service, district, "c1", starts)

    report = await report_of(data_service, district, meeting)

    local = starts.astimezone(ZoneInfo("America/Los_Angeles"))  # the schools' default zone
    benchmark = ORAL_READING_FLUENCY.benchmark(3, season_of(local.month))
    assert report["meeting_id"] == meeting
    assert report["classroom_id"] == "c1"
    assert report["benchmark"] == benchmark
    assert report["suppressed"] is False
    assert sorted(b["number"] for b in report["bars"]) == [1, 2, 3, 4, 5, 6]
    assert sorted(b["score"] for b in report["bars"]) == sorted(C1_SCORES)
    assert sum(report["bands"].values()) == 6
    assert "c1-s" not in json.dumps(report)
    assert "Kid" not in json.dumps(report)

    numbers = await data_service.wait_for_events(district, NUMBERS, lambda e: len(e) == 6)
    assigned = {p["student_id"]: p for _, p in numbers}
    assert sorted(p["number"] for p in assigned.values()) == [1, 2, 3, 4, 5, 6]
    assert assigned["c1-s1"]["guardian_ids"] == ["c1-g1", "gboth"]
    by_number = {b["number"]: b["score"] for b in report["bars"]}
    assert by_number[assigned["c1-s5"]["number"]] == 130.0
    [(_, published)] = await data_service.wait_for_events(district, REPORTS, lambda e: len(e) == 1)
    assert published["bands"] == report["bands"]
    assert not {"student_id", "student_ids", "numbers"} & set(published)  # counts only

    guardian = data_service.token(district, "guardian", subject="c1-g1")
    async with data_service.client() as client:
        mine = await client.get(f"/v1/meetings/{meeting}/private-numbers/c1-s1", headers=guardian)
        assert mine.json() == {
            "meeting_id": meeting,
            "student_id": "c1-s1",
            "number": assigned["c1-s1"]["number"],
        }
        other_family = data_service.token(district, "guardian", subject="c1-g2")
        theirs = await client.get(
            f"/v1/meetings/{meeting}/private-numbers/c1-s1", headers=other_family
        )
        assert theirs.status_code == 404
        teacher = data_service.token(district, "teacher", subject="t1")
        staff = await client.get(f"/v1/meetings/{meeting}/private-numbers/c1-s1", headers=teacher)
        assert staff.status_code == 403
        elsewhere = data_service.token(random_id("other"), "guardian", subject="c1-g1")
        assert (
            await client.get(f"/v1/meetings/{meeting}/private-numbers/c1-s1", headers=elsewhere)
        ).status_code == 404
        record = await client.get("/v1/students/c1-s1/disclosures", headers=guardian)
        assert [(d["actor_id"], d["what"], d["meeting_id"]) for d in record.json()["items"]] == [
            ("c1-g1", "private-number", meeting)
        ]


async def test_class_reports_are_for_the_classroom_staff_and_families_only(
    data_service: DataService,
) -> None:
    district = await setup(data_service, day=datetime.now(UTC).date())
    meeting = await scheduled(data_service, district, "c1", datetime.now(UTC) + timedelta(days=3))
    await report_of(data_service, district, meeting)
    allowed = {
        "own school admin": data_service.token(district, "school_admin", schools=["sch1"]),
        "district admin": data_service.admin(district),
        "a family of the class": data_service.token(district, "guardian", subject="c1-g1"),
    }
    refused = {
        "teacher of another school": (data_service.token(district, "teacher", subject="t2"), 403),
        "admin of another school": (
            data_service.token(district, "school_admin", schools=["sch2"]),
            403,
        ),
        "a family of another class": (
            data_service.token(district, "guardian", subject="c2-g1"),
            404,
        ),
        "another district": (data_service.admin(random_id("other")), 404),
    }
    async with data_service.client() as client:
        for path in (
            f"/v1/meetings/{meeting}/class-report",
            f"/v1/meetings/{meeting}/class-report.svg",
        ):
            for who, headers in allowed.items():
                assert (await client.get(path, headers=headers)).status_code == 200, who
            for who, (headers, status) in refused.items():
                assert (await client.get(path, headers=headers)).status_code == status, who


async def test_the_chart_is_svg_in_the_schools_or_asked_language(data_service: DataService) -> None:
    district = await setup(data_service, day=datetime.now(UTC).date())
    meeting = await scheduled(data_service, district, "c1", datetime.now(UTC) + timedelta(days=3))
    await report_of(data_service, district, meeting)
    teacher = data_service.token(district, "teacher", subject="t1")
    async with data_service.client() as client:
        english = await client.get(f"/v1/meetings/{meeting}/class-report.svg", headers=teacher)
        spanish = await client.get(
            f"/v1/meetings/{meeting}/class-report.svg?lang=es", headers=teacher
        )
    assert english.headers["content-type"].startswith("image/svg+xml")
    assert "Oral reading fluency: our class" in english.text
    assert "Fluidez en la lectura oral: nuestra clase" in spanish.text
    assert "Meta de grado 3" in spanish.text
    assert spanish.headers["content-language"] == "es"
    assert english.text.count("<rect") >= 6 + 4  # a bar per number, a legend swatch per band
    assert "c1-s" not in english.text
    assert "Kid" not in english.text


async def test_too_few_scores_give_no_chart_and_say_why(data_service: DataService) -> None:
    district = await setup(data_service, day=datetime.now(UTC).date())
    meeting = await scheduled(data_service, district, "c2", datetime.now(UTC) + timedelta(days=3))
    headers = data_service.token(district, "teacher", subject="t2")

    found: dict[str, Any] = {}

    async def ready() -> bool:
        nonlocal found
        async with data_service.client() as client:
            response = await client.get(f"/v1/meetings/{meeting}/class-report", headers=headers)
        found = response.json()
        return response.status_code == 200

    await eventually(ready, timeout=45, what="the c2 report")
    assert found["suppressed"] is True
    assert found["suppressed_reason"] == "too-few-scores"
    assert found["scored_count"] == 3
    assert found["min_group_size"] == 5
    assert found["bars"] == []
    assert found["bands"] == {}
    async with data_service.client() as client:
        svg = await client.get(f"/v1/meetings/{meeting}/class-report.svg", headers=headers)
    assert "Fewer than 5 students have a score yet." in svg.text
    # Each family still gets its number: the meeting goes on without the chart.
    numbers = await data_service.wait_for_events(district, NUMBERS, lambda e: len(e) == 6)
    assert {p["classroom_id"] for _, p in numbers} == {"c2"}


async def test_new_results_and_newcomers_update_the_report_before_the_meeting(
    data_service: DataService,
) -> None:
    today = datetime.now(UTC).date()
    district = await setup(data_service, day=today - timedelta(days=2))
    meeting = await scheduled(data_service, district, "c1", datetime.now(UTC) + timedelta(days=5))
    before = await report_of(data_service, district, meeting)
    numbers = await data_service.wait_for_events(district, NUMBERS, lambda e: len(e) == 6)
    number_of = {p["student_id"]: p["number"] for _, p in numbers}

    await data_service.import_results(district, results_csv([("c1-s6", "orf", 110.0, today)]))
    after = await report_of(
        data_service, district, meeting, lambda r: 110.0 in [b["score"] for b in r["bars"]]
    )

    bar = next(b for b in after["bars"] if b["number"] == number_of["c1-s6"])
    assert bar["score"] == 110.0
    assert after["report_id"] == before["report_id"]
    assert sorted(b["number"] for b in after["bars"]) == [1, 2, 3, 4, 5, 6]  # numbers kept


async def test_growth_is_measured_against_the_previous_meeting_and_numbers_are_redrawn(
    data_service: DataService,
) -> None:
    now = datetime.now(UTC)
    district = await setup(data_service, day=(now - timedelta(days=30)).date())
    first = await scheduled(data_service, district, "c1", now - timedelta(days=1))
    earlier = await report_of(data_service, district, first)
    later = [(f"c1-s{i}", "orf", score + 10, now.date()) for i, score in enumerate(C1_SCORES, 1)]
    await data_service.import_results(district, results_csv(later))
    second = await scheduled(data_service, district, "c1", now + timedelta(days=7))

    report = await report_of(data_service, district, second)

    assert all(b["growth"] == 10.0 for b in report["bars"])
    assert report["growth"]["compared_count"] == 6
    assert report["growth"]["median"] == 10.0
    assert report["growth"]["previous_report_id"] == earlier["report_id"]
    published = await data_service.wait_for_events(
        district, REPORTS, lambda e: any(p["meeting_id"] == second for _, p in e)
    )
    latest = [p for _, p in published if p["meeting_id"] == second][-1]
    assert (latest["median_growth"], latest["compared_count"]) == (10.0, 6)
    assert latest["previous_report_id"] == earlier["report_id"]
    numbers = await data_service.wait_for_events(district, NUMBERS, lambda e: len(e) == 12)
    draws: dict[str, dict[str, int]] = {}
    for _, p in numbers:
        draws.setdefault(p["meeting_id"], {})[p["student_id"]] = p["number"]
    assert draws[first] != draws[second]


async def test_a_cancelled_meeting_withdraws_its_report(data_service: DataService) -> None:
    district = await setup(data_service, day=datetime.now(UTC).date())
    starts = datetime.now(UTC) + timedelta(days=3)
    meeting = await scheduled(data_service, district, "c1", starts)
    await report_of(data_service, district, meeting)
    moved = starts + timedelta(days=1)
    await publish(
        data_service.bootstrap,
        TeamMeetingRescheduled(
            district_id=district,
            meeting_id=meeting,
            classroom_id="c1",
            school_id="sch1",
            starts_at=moved,
            previous_starts_at=starts,
            duration_minutes=75,
        ),
        TeamMeetingCancelled(
            district_id=district, meeting_id=meeting, classroom_id="c1", school_id="sch1"
        ),
    )
    teacher = data_service.token(district, "teacher", subject="t1")

    async def withdrawn() -> bool:
        async with data_service.client() as client:
            response = await client.get(f"/v1/meetings/{meeting}/class-report", headers=teacher)
        return response.status_code == 410

    await eventually(withdrawn, timeout=45, what="the report to be withdrawn")
    async with data_service.client() as client:
        response: httpx.Response = await client.get(
            f"/v1/meetings/{meeting}/private-numbers/c1-s1",
            headers=data_service.token(district, "guardian", subject="c1-g1"),
        )
    assert response.status_code == 410
    assert response.json()["type"].endswith("/meeting-cancelled")


async def test_a_district_sets_its_own_minimum_group(data_service: DataService) -> None:
    district = await setup(data_service, day=datetime.now(UTC).date())
    meeting = await scheduled(data_service, district, "c2", datetime.now(UTC) + timedelta(days=3))
    headers = data_service.token(district, "teacher", subject="t2")

    async def report() -> dict[str, Any]:
        async with data_service.client() as client:
            response = await client.get(f"/v1/meetings/{meeting}/class-report", headers=headers)
        return response.json() if response.status_code == 200 else {}

    async def suppressed() -> bool:
        return (await report()).get("suppressed") is True

    await eventually(suppressed, timeout=45, what="the suppressed c2 report")
    async with data_service.client() as client:
        school_admin = data_service.token(district, "school_admin", schools=["sch2"])
        refused = await client.put(
            "/v1/district/settings", headers=school_admin, json={"min_report_group_size": 3}
        )
        assert refused.status_code == 403
        too_small = await client.put(
            "/v1/district/settings",
            headers=data_service.admin(district),
            json={"min_report_group_size": 1},
        )
        assert too_small.status_code == 422
        changed = await client.put(
            "/v1/district/settings",
            headers=data_service.admin(district),
            json={"min_report_group_size": 3},
        )
        assert changed.json()["min_report_group_size"] == 3

    shown = await report()
    assert shown["suppressed"] is False
    assert shown["min_group_size"] == 3
    assert sum(shown["bands"].values()) == 3
