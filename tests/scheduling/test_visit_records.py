"""What a home visit leaves behind: the address and the reflection (who may read them, and
that no topic and no log carries them), hours per pay period across a clock change, and the
per-route answers for another pair's, school's or district's ids."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from aptt_contracts.catalogue import TOPICS
from aptt_contracts.data import AssessmentResultRecorded
from aptt_local.kafkatools import read_topic
from aptt_local.testing import eventually, random_id

from .conftest import Scheduling
from .visiting import YEAR, Programme, at, programme, visit_events

REFLECTED = "org.aptt.scheduling.visit-reflection.recorded.v1"
COMPLETED = "org.aptt.scheduling.home-visit.completed.v1"


async def scheduled_visit(p: Programme, student: int, day: float, **body: Any) -> str:
    times = [at(day, 1), at(day + 0.5, 1)]
    visit_id = await p.proposed(student, times=times)
    chosen = await p.choose(student, visit_id, times[0], **body)
    assert chosen.status_code == 200, chosen.text
    return visit_id


async def complete(p: Programme, visit_id: str, start: str, end: str, travel: int = 0) -> Any:
    answer = await p.client.post(
        f"/v1/home-visits/{visit_id}/complete",
        json={"started_at": start, "ended_at": end, "travel_minutes": travel},
        headers=p.educator(0),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_address_and_reflection_reach_only_the_pair_and_coordinators_and_no_topic_or_log(
    scheduling: Scheduling, capfd: pytest.CaptureFixture[str]
) -> None:
    p = await programme(scheduling, students=2)
    await p.answer(0, yes=True)
    address = f"{random_id('Calle')} Fruitvale Avenue 12"
    secret = f"Wants to be a nurse like her aunt {random_id('hope')}"
    visit_id = await scheduled_visit(p, 0, 20, place_kind="home", address=address)
    done = await complete(p, visit_id, at(-1, -2), at(-1, -1), travel=15)
    assert (done["status"], done["visit_number"]) == ("done", 1)
    written = await p.client.put(
        f"/v1/home-visits/{visit_id}/reflection",
        json={
            "hopes_learned": secret,
            "class_actions": "Read aloud together on Fridays",
            "follow_up_promised": "Call in two weeks",
            "notes": secret,
        },
        headers=p.educator(1),
    )
    assert written.status_code == 200, written.text
    [event] = await visit_events(p, REFLECTED)
    assert event["visit_id"] == visit_id
    await visit_events(p, COMPLETED)

    other_school = random_id("sch")
    far = p.d.headers(
        random_id("principal"), "school_admin", schools=[p.d.school_id], district_id=random_id("d")
    )
    # who: (token, visit answer, reflection answer, sees the address and the reflection)
    readers = {
        "pair": (p.educator(1), 200, 200, True),
        "coordinator": (p.d.school_admin, 200, 200, True),
        "district admin": (p.d.district_admin, 200, 403, False),
        "the family": (p.d.guardian(0), 200, 404, False),
        "another educator": (p.educator(2), 403, 403, False),
        "another school's coordinator": (
            p.d.headers(random_id("principal"), "school_admin", schools=[other_school]),
            403,
            403,
            False,
        ),
        "another family": (p.d.guardian(1), 404, 404, False),
        "another district's coordinator": (far, 404, 404, False),
    }
    for who, (headers, visit_status, reflection_status, sees) in readers.items():
        visit = await p.client.get(f"/v1/home-visits/{visit_id}", headers=headers)
        assert visit.status_code == visit_status, (who, visit.text)
        assert (address in visit.text) is sees, who
        reflection = await p.client.get(f"/v1/home-visits/{visit_id}/reflection", headers=headers)
        assert reflection.status_code == reflection_status, (who, reflection.text)
        assert (secret in reflection.text) is sees, who

    for topic in TOPICS:
        for record in await read_topic(scheduling.stack.kafka_bootstrap, topic.name):
            raw = (record.value or b"") + b"".join(v for _, v in record.headers)
            assert address.encode() not in raw, topic.name
            assert secret.encode() not in raw, topic.name
    logs = capfd.readouterr()
    for text in (address, secret):
        assert text not in logs.out
        assert text not in logs.err


async def test_hours_outside_the_school_day_are_right_across_the_autumn_clock_change(
    scheduling: Scheduling,
) -> None:
    """Los Angeles leaves summer time on Sunday 1 November 2026 (UTC-7, then UTC-8)."""
    p = await programme(scheduling, students=2)
    await p.answer(0, yes=True)
    await p.answer(1, yes=True)
    visits = [await scheduled_visit(p, s, 30 + 2 * i) for i, s in enumerate((0, 0, 1, 1))]
    # Friday 30 Oct, 15:00-16:30 PDT: all 90 minutes after school.
    await complete(p, visits[0], "2026-10-30T15:00:00-07:00", "2026-10-30T16:30:00-07:00")
    # Monday 2 Nov, 14:00-16:00 PST: 60 minutes after school (read at UTC-7 it would be 120).
    await complete(p, visits[1], "2026-11-02T22:00:00Z", "2026-11-03T00:00:00Z")
    # Saturday 7 Nov, 22:00-23:00 PST, which is already 8 Nov in UTC: in the period, all paid.
    await complete(p, visits[2], "2026-11-08T06:00:00Z", "2026-11-08T07:00:00Z", travel=20)
    # Sunday 8 Nov local: after the period.
    await complete(p, visits[3], "2026-11-08T18:00:00Z", "2026-11-08T19:00:00Z")

    url = f"/v1/schools/{p.d.school_id}/visit-hours"
    period = {"first_day": "2026-10-25", "last_day": "2026-11-07"}
    early = await p.client.get(f"{url}.csv", params=period, headers=p.d.school_admin)
    assert early.status_code == 409
    shown = await p.client.get(url, params=period, headers=p.d.school_admin)
    assert shown.status_code == 200, shown.text
    rows = {r["educator_id"]: r for r in shown.json()["educators"]}
    assert set(rows) == {p.educators[0], p.educators[1]}
    mine = rows[p.educators[0]]
    assert (mine["visits"], mine["visit_minutes"]) == (3, 270)
    assert (mine["outside_school_day_minutes"], mine["travel_minutes"]) == (210, 20)
    assert mine["paid_hours"] == 3.83

    approved = await p.client.post(f"{url}/approvals", json=period, headers=p.d.school_admin)
    assert approved.status_code == 201, approved.text
    again = await p.client.post(f"{url}/approvals", json=period, headers=p.d.school_admin)
    assert again.status_code == 409
    exported = await p.client.get(f"{url}.csv", params=period, headers=p.d.school_admin)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    table = {r["educator_id"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert table[p.educators[0]]["outside_school_day_minutes"] == "210"
    assert table[p.educators[0]]["paid_hours"] == "3.83"
    assert table[p.educators[1]]["travel_minutes"] == "20"


async def test_every_visit_route_refuses_another_pair_school_family_and_district(
    scheduling: Scheduling,
) -> None:
    p = await programme(scheduling, students=2)
    await p.answer(0, yes=True)
    visit_id = await scheduled_visit(p, 0, 40)
    d = p.d
    other_school = d.headers(random_id("principal"), "school_admin", schools=[random_id("sch")])
    other_educator = d.headers(random_id("edu"), "educator", schools=[random_id("sch")])
    elsewhere = random_id("d")
    far_admin = d.headers(
        random_id("principal"), "school_admin", schools=[d.school_id], district_id=elsewhere
    )
    far_educator = d.headers(
        p.educators[0], "educator", schools=[d.school_id], district_id=elsewhere
    )
    far_guardian = d.headers(d.guardians[d.students[0]][0], "guardian", district_id=elsewhere)
    invitation = p.invitations[d.students[0]]
    period = {"first_day": "2026-10-01", "last_day": "2026-10-31"}
    school = f"/v1/schools/{d.school_id}"
    visit = f"/v1/home-visits/{visit_id}"
    reflection = {"hopes_learned": "x", "class_actions": "y", "follow_up_promised": "z"}
    # (method, url, body or params, [(headers, status)])
    cases: list[tuple[str, str, dict[str, Any] | None, list[tuple[dict[str, str], int]]]] = [
        (
            "POST",
            f"{school}/visit-educators",
            {"school_year": YEAR, "trained_on": "2026-08-01"},
            [(other_educator, 403), (far_educator, 404)],
        ),
        (
            "GET",
            f"{school}/visit-educators",
            {"school_year": YEAR},
            [(other_school, 403), (far_admin, 404)],
        ),
        (
            "POST",
            f"/v1/classrooms/{d.classroom_id}/visit-invitations",
            {"school_year": YEAR},
            [(other_school, 403), (far_admin, 404)],
        ),
        (
            "GET",
            f"/v1/classrooms/{d.classroom_id}/visit-invitations",
            {"school_year": YEAR},
            [(other_school, 403), (far_admin, 404)],
        ),
        (
            "PUT",
            f"/v1/visit-invitations/{invitation}/answer",
            {"answer": "no"},
            [(d.guardian(1), 404), (far_guardian, 404)],
        ),
        (
            "PUT",
            f"/v1/visit-invitations/{invitation}/answers/{d.guardians[d.students[0]][0]}",
            {"answer": "no", "channel": "phone"},
            [(other_school, 403), (far_admin, 404)],
        ),
        (
            "GET",
            f"{visit}.ics",
            None,
            [(p.educator(2), 403), (other_school, 403), (d.district_admin, 403), (far_admin, 404)],
        ),
        (
            "POST",
            "/v1/home-visits",
            {
                "invitation_id": invitation,
                "educator_ids": p.educators[:2],
                "times": [at(50), at(51)],
            },
            [(other_school, 403), (p.educator(2), 403), (far_educator, 404)],
        ),
        (
            "GET",
            visit,
            None,
            [(p.educator(2), 403), (other_school, 403), (d.guardian(1), 404), (far_admin, 404)],
        ),
        (
            "POST",
            f"{visit}/choose",
            {"starts_at": at(41, 1), "place_kind": "park"},
            [(d.guardian(1), 404), (far_guardian, 404)],
        ),
        (
            "POST",
            f"{visit}/confirm",
            None,
            [(p.educator(2), 403), (other_school, 403), (far_educator, 404)],
        ),
        (
            "POST",
            f"{visit}/cancel",
            {"reason": "other"},
            [(p.educator(2), 403), (other_school, 403), (d.guardian(1), 404), (far_admin, 404)],
        ),
        (
            "POST",
            f"{visit}/move",
            {"times": [at(42, 1), at(43, 1)]},
            [
                (p.educator(2), 403),
                (other_school, 403),
                (other_educator, 403),
                (d.guardian(1), 404),
                (far_educator, 404),
                (far_guardian, 404),
            ],
        ),
        (
            "POST",
            f"{visit}/complete",
            {"started_at": at(-1, -2), "ended_at": at(-1, -1)},
            [(p.educator(2), 403), (other_school, 403), (far_educator, 404)],
        ),
        (
            "POST",
            f"{visit}/missed",
            {"reason": "other"},
            [(p.educator(2), 403), (other_school, 403), (far_educator, 404)],
        ),
        (
            "POST",
            f"{visit}/follow-ups",
            {"kind": "call", "contacted_on": "2026-11-01"},
            [(p.educator(2), 403), (other_school, 403), (far_educator, 404)],
        ),
        (
            "PUT",
            f"{visit}/reflection",
            reflection,
            [(p.educator(2), 403), (other_school, 403), (far_educator, 404)],
        ),
        (
            "GET",
            f"{visit}/reflection",
            None,
            [(p.educator(2), 403), (other_school, 403), (d.guardian(1), 404), (far_admin, 404)],
        ),
        ("GET", f"{school}/visit-hours", period, [(other_school, 403), (far_admin, 404)]),
        (
            "POST",
            f"{school}/visit-hours/approvals",
            period,
            [(other_school, 403), (far_admin, 404)],
        ),
        ("GET", f"{school}/visit-hours.csv", period, [(other_school, 403), (far_admin, 404)]),
    ]
    for method, url, body, attempts in cases:
        for headers, status in attempts:
            if method == "GET":
                answer = await p.client.get(url, params=body, headers=headers)
            else:
                answer = await p.client.request(method, url, json=body, headers=headers)
            assert answer.status_code == status, (method, url, status, answer.text)
    # Nothing of the above changed the visit.
    unchanged = await p.client.get(visit, headers=p.educator(0))
    assert unchanged.json()["status"] == "scheduled"
    assert unchanged.json()["place_kind"] == "home"


async def visited_families(p: Programme, students: list[int]) -> None:
    for n, student in enumerate(students):
        await p.answer(student, yes=True)
        visit_id = await scheduled_visit(p, student, 60 + n)
        await complete(p, visit_id, at(-2, -2), at(-2, -1))


async def class_with_results(scheduling: Scheduling, struggling: int, others: int) -> Programme:
    p = await programme(scheduling, students=struggling + others, educators=2, opted_in=2)
    await scheduling.roster(
        *(
            AssessmentResultRecorded(
                district_id=p.d.district_id,
                result_id=random_id("r"),
                student_id=student_id,
                school_id=p.d.school_id,
                skill_code="orf",
                # Grade 3 in the fall: the benchmark is 83 words a minute.
                score=50 if n < struggling else 85,
                assessed_on=date(2026, 11, 16),
            )
            for n, student_id in enumerate(p.d.students)
        )
    )

    async def arrived() -> bool:
        query = {"district_id": p.d.district_id, "skill_code": "orf"}
        return await scheduling.db["latest_results"].count_documents(query) == len(p.d.students)

    await eventually(arrived, what="the results to reach scheduling")
    return p


async def coverage(p: Programme, scope: str = "classroom") -> dict[str, Any]:
    scope_id = p.d.classroom_id if scope == "classroom" else p.d.school_id
    answer = await p.client.get(
        f"/v1/{scope}s/{scope_id}/visit-coverage",
        params={"school_year": YEAR, "skill_code": "orf"},
        headers=p.d.school_admin,
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def test_coverage_flags_visits_skewed_to_struggling_students_and_not_a_random_choice(
    scheduling: Scheduling,
) -> None:
    # Students 0-9 are well below benchmark, 10-19 at it.
    skewed = await class_with_results(scheduling, struggling=10, others=10)
    await visited_families(skewed, [0, 1, 2, 3, 4, 5])
    report = await coverage(skewed)
    assert (report["families"], report["invited"], report["accepted"]) == (20, 20, 6)
    assert (report["visited_once"], report["visited_twice"]) == (6, 0)
    bands = report["bands"]
    assert bands["class_bands"] == {"well_below": 10, "below": 0, "at": 10, "above": 0}
    assert bands["visited_bands"] == {"well_below": 6, "below": 0, "at": 0, "above": 0}
    # 210 of the C(20, 6) = 38,760 ways to pick six students hold six of the ten below.
    assert bands["p_value"] == pytest.approx(210 / 38760, abs=1e-6)
    assert bands["flagged"] is True
    assert "look targeted" in bands["message"]
    assert (await coverage(skewed, "school"))["bands"]["flagged"] is True

    balanced = await class_with_results(scheduling, struggling=10, others=10)
    await visited_families(balanced, [0, 1, 2, 10, 11, 12])
    fair = (await coverage(balanced))["bands"]
    assert fair["visited_bands"] == {"well_below": 3, "below": 0, "at": 3, "above": 0}
    assert fair["p_value"] > 0.5
    assert fair["flagged"] is False

    small = await class_with_results(scheduling, struggling=2, others=2)
    await visited_families(small, [0, 1])
    hidden = (await coverage(small))["bands"]
    assert (hidden["suppressed"], hidden["visited_bands"], hidden["p_value"]) == (True, None, None)
    assert hidden["flagged"] is False

    for url in (
        f"/v1/classrooms/{small.d.classroom_id}/visit-coverage",
        f"/v1/schools/{small.d.school_id}/visit-coverage",
    ):
        params = {"school_year": YEAR, "skill_code": "orf"}
        other = small.d.headers(random_id("p"), "school_admin", schools=[random_id("sch")])
        far = small.d.headers(
            random_id("p"), "school_admin", schools=[small.d.school_id], district_id=random_id("d")
        )
        assert (await small.client.get(url, params=params, headers=other)).status_code == 403
        assert (await small.client.get(url, params=params, headers=far)).status_code == 404
        educator = small.educator(0)
        assert (await small.client.get(url, params=params, headers=educator)).status_code == 403
