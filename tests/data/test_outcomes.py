"""Outcome analytics from a known set of events: attendance against the 92% reference and
by relationship, goals set and met, practice per week, growth of APTT classrooms against
comparisons with its Welch interval; cells under the minimum withheld so that none can be
recovered from the totals; each caller sees only their own reach, and every view is
recorded."""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, date, datetime
from typing import Any

from aptt_contracts.envelope import EventModel
from aptt_contracts.goals import GoalClosed, GoalMet, GoalSet, PracticeLogged
from aptt_contracts.scheduling import (
    AttendanceRecorded,
    FamilyEventTurnoutRecorded,
    VisitCompleted,
)
from aptt_local.kafkatools import publish
from aptt_local.oneroster import (
    Classroom,
    Guardian,
    Roster,
    School,
    Student,
    Teacher,
    build_package,
    results_csv,
)
from aptt_local.testing import eventually, random_id

from .conftest import DataService

YEAR = "2026-2027"
M1 = datetime(2026, 10, 15, 18, 0, tzinfo=UTC)
M2 = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def _roster(district: str) -> Roster:
    """sch1: c1 (APTT, 12 students) and c2 (12); sch2: c3 (6). All grade 3."""
    rooms = [("c1", "sch1", "t1", 12), ("c2", "sch1", "t2", 12), ("c3", "sch2", "t3", 6)]
    students, guardians = [], []
    for room, school, _, size in rooms:
        for i in range(1, size + 1):
            sid = f"{room}-s{i}"
            students.append(Student(sid, "Kid", f"{room}{i}", 3, school, [room]))
            guardians.append(
                Guardian(f"{sid}-g1", "Parent", f"{room}{i}", None, None, "en", "parent", [sid])
            )
    return Roster(
        district_id=district,
        district_name="Outcomes Unified",
        schools=[School("sch1", "Lincoln"), School("sch2", "Garfield")],
        teachers=[Teacher(t, "T", t, f"{t}@example.org", s) for _, s, t, _ in rooms],
        classrooms=[Classroom(r, s, f"Room {r}", 3, t) for r, s, t, _ in rooms],
        students=students,
        guardians=guardians,
        school_year_start=date(2026, 8, 1),
    )


def _attended(
    district: str,
    meeting: str,
    room: str,
    school: str,
    starts: datetime,
    present: dict[int, list[str]],
    absent: list[int],
) -> list[EventModel]:
    """Attendance events: student number -> relationships of the guardians present."""
    events: list[EventModel] = []
    for number, relationships in present.items():
        for g, relationship in enumerate(relationships, 1):
            events.append(
                AttendanceRecorded(
                    district_id=district,
                    meeting_id=meeting,
                    classroom_id=room,
                    school_id=school,
                    student_id=f"{room}-s{number}",
                    guardian_id=f"{room}-s{number}-g{g}",
                    relationship=relationship,
                    present=True,
                    meeting_starts_at=starts,
                )
            )
    for number in absent:
        events.append(
            AttendanceRecorded(
                district_id=district,
                meeting_id=meeting,
                classroom_id=room,
                school_id=school,
                student_id=f"{room}-s{number}",
                guardian_id=f"{room}-s{number}-g1",
                relationship="mother",
                present=False,
                meeting_starts_at=starts,
            )
        )
    return events


def _goal(district: str, n: int, starts: date) -> GoalSet:
    return GoalSet(
        district_id=district,
        goal_id=f"goal-{n}-{starts.isoformat()}",
        student_id=f"c1-s{n}",
        guardian_id=f"c1-s{n}-g1",
        skill_code="orf",
        baseline=50,
        target=70,
        starts_on=starts,
        ends_on=date(2027, 1, 10),
        activity_codes=["read-aloud"],
    )


def _events(d: str) -> list[EventModel]:
    # m1 (c1, 12 families): 11 came; mothers 6, fathers 5, grandparent 1, other 1.
    m1 = {n: ["mother"] for n in range(1, 7)} | {n: ["father"] for n in range(7, 11)}
    m1[11] = ["grandparent"]
    m1[1] = ["mother", "father"]
    m1[2] = ["mother", "other"]
    # m2 (c1): 9 came; mothers 5, fathers 3, grandparent 1, other 4.
    m2 = {n: ["mother"] for n in range(1, 6)} | {n: ["father"] for n in range(6, 9)}
    m2[9] = ["grandparent"]
    for n in (3, 4, 5):
        m2[n] = ["mother", "other"]
    m2[6] = ["father", "other"]
    # m3 (c2, 12 families): 4 came. m4 (c3, 6 families): 6 came.
    m3 = {n: ["mother"] for n in range(1, 5)}
    m4 = {n: ["mother"] for n in range(1, 7)}
    events = [
        *_attended(d, "m1", "c1", "sch1", M1, m1, [12]),
        *_attended(d, "m2", "c1", "sch1", M2, m2, [10, 11, 12]),
        *_attended(d, "m3", "c2", "sch1", M1, m3, list(range(5, 13))),
        *_attended(d, "m4", "c3", "sch2", M1, m4, []),
    ]
    after_m1, after_m2 = date(2026, 10, 16), date(2026, 12, 2)
    goals = [_goal(d, n, after_m1) for n in [*range(1, 11), 12]]
    goals += [_goal(d, n, after_m2) for n in (1, 2, 3)]
    events += goals
    for goal in goals[:6]:
        events.append(
            GoalMet(
                district_id=d,
                goal_id=goal.goal_id,
                student_id=goal.student_id,
                skill_code="orf",
                score=72,
                target=70,
            )
        )
    for goal in goals[6:11]:
        events.append(
            GoalClosed(
                district_id=d,
                goal_id=goal.goal_id,
                student_id=goal.student_id,
                skill_code="orf",
                outcome="not_met",
                reason="ended",
            )
        )
    for n in range(1, 6):
        events.append(
            PracticeLogged(
                district_id=d,
                goal_id=goals[n - 1].goal_id,
                student_id=f"c1-s{n}",
                practiced_on=date(2026, 10, 20),
                minutes=20,
            )
        )
    # Home visits in c1: seven families visited, two of them twice.
    for n in range(1, 8):
        for number in (1, 2) if n <= 2 else (1,):
            events.append(
                VisitCompleted(
                    district_id=d,
                    visit_id=f"v{n}-{number}",
                    student_id=f"c1-s{n}",
                    school_id="sch1",
                    educator_ids=["e1", "e2"],
                    visit_number=number,
                    duration_minutes=45,
                )
            )
    turnouts = [
        ("bake-sale", False, {"mother": 30, "father": 12}),
        ("concert", False, {"mother": 10, "father": 2, "grandparent": 1}),
        ("science-night", True, {"mother": 5, "father": 9}),
        ("movie-night", False, None),
    ]
    for n, (kind, linked, counts) in enumerate(turnouts):
        events.append(
            FamilyEventTurnoutRecorded(
                district_id=d,
                family_event_id=f"fev-{n}",
                school_id="sch1",
                kind=kind,
                learning_linked=linked,
                on=date(2026, 11, 5),
                families_attending=30,
                by_relationship=counts,
            )
        )
    for n in (1, 2):
        events.append(
            PracticeLogged(
                district_id=d,
                goal_id=goals[n - 1].goal_id,
                student_id=f"c1-s{n}",
                practiced_on=date(2026, 10, 27),
                minutes=15,
            )
        )
    return events


APTT_GROWTH = [10, 12, 14, 16, 18, 20] * 2
COMPARISON_GROWTH = [8, 10, 12, 14, 16, 18] * 2


async def _district(data_service: DataService) -> str:
    d = random_id("d")
    answer = await data_service.import_roster(d, build_package(_roster(d)))
    assert answer.status_code == 200, answer.text
    rows = []
    for room, growths in (("c1", APTT_GROWTH), ("c2", COMPARISON_GROWTH)):
        for i, g in enumerate(growths, 1):
            rows.append((f"{room}-s{i}", "orf", 50.0, date(2026, 8, 20)))
            rows.append((f"{room}-s{i}", "orf", 50.0 + g, date(2026, 11, 20)))
    answer = await data_service.import_results(d, results_csv(rows))
    assert answer.json()["counts"]["accepted"] == 48, answer.text
    await publish(data_service.bootstrap, *_events(d))
    return d


async def _get(data_service: DataService, path: str, headers: dict[str, str], **params: Any) -> Any:
    async with data_service.client() as client:
        return await client.get(path, params={"school_year": YEAR, **params}, headers=headers)


async def test_figures_from_known_events_equal_the_hand_computed_ones(
    data_service: DataService,
) -> None:
    d = await _district(data_service)
    teacher = data_service.token(d, "teacher", subject="t1")
    path = "/v1/classrooms/c1/outcomes/attendance"
    report: dict[str, Any] = {}

    async def summarised() -> bool:
        nonlocal report
        answer = await _get(data_service, path, teacher)
        report = answer.json()
        counts = (report.get("meetings"), report.get("attended"), report.get("guardians_present"))
        return answer.status_code == 200 and counts == (2, 20, 26)

    await eventually(summarised, timeout=60, what="the attendance events to be summarised")
    # 11 of 12 families, then 9 of 12: 20 of 24.
    assert (report["families"], report["rate"], report["reference_rate"]) == (24, 0.8333, 0.92)
    rows = report["rows"]["items"]
    assert [(r["key"], r["attended"], r["rate"], r["change"]) for r in rows] == [
        ("m1", 11, 0.9167, None),
        ("m2", 9, 0.75, -0.1667),
    ]
    # Guardians: mothers 11, fathers 8, grandparents 2 (under 5: withheld), others 5
    # (withheld too, or the grandparents would be 26 - 11 - 8 - 5).
    assert report["guardians_present"] == 26
    assert report["by_relationship"] == {
        "mother": 11,
        "father": 8,
        "grandparent": None,
        "other": None,
    }

    goals: dict[str, Any] = {}

    async def goals_kept() -> bool:
        # Goals come on their own topic: they may arrive after the attendance.
        nonlocal goals
        goals = (await _get(data_service, "/v1/classrooms/c1/outcomes/goals", teacher)).json()
        weeks = [w["logs"] for w in goals["practice"]]
        return (goals["goals_set"], goals["goals_closed"], weeks) == (14, 11, [5, None])

    await eventually(goals_kept, timeout=60, what="the goals events to be kept")
    assert [
        (m["meeting_id"], m["families_attended"], m["families_with_goal"])
        for m in goals["meetings"]
    ] == [("m1", 11, 10), ("m2", 9, None)]
    assert (goals["goals_set"], goals["goals_closed"], goals["goals_met"]) == (14, 11, 6)
    assert goals["met_rate"] == round(6 / 11, 4)
    assert goals["practice"] == [
        {"week": "2026-W43", "families": 5, "logs": 5, "minutes": 100},
        {"week": "2026-W44", "families": None, "logs": None, "minutes": None},
    ]

    reach: dict[str, Any] = {}

    async def visits_kept() -> bool:
        nonlocal reach
        reach = (await _get(data_service, "/v1/classrooms/c1/outcomes/reach", teacher)).json()
        return reach["visited"] == 7

    await eventually(visits_kept, timeout=60, what="the visits to be kept")
    # 7 of 12 visited; twice: 2 (under 5) and once only: 5, withheld together.
    assert (reach["families"], reach["visited_share"], reach["visited_twice"]) == (
        12,
        round(7 / 12, 4),
        None,
    )

    admin = data_service.admin(d)
    async with data_service.client() as client:
        marked = await client.put("/v1/classrooms/c1/aptt", json={"runs_aptt": True}, headers=admin)
    assert marked.status_code == 204
    growth = (
        await _get(data_service, "/v1/district/outcomes/growth", admin, skill_code="orf", grade=3)
    ).json()
    # Equal sizes and variances: Welch's df is 2(n - 1) = 22, t(0.975, 22) = 2.0739.
    variance = sum((g - 15) ** 2 for g in APTT_GROWTH) / 11
    half = 2.0739 * math.sqrt(2 * variance / 12)
    assert (growth["aptt"]["n"], growth["comparison"]["n"]) == (12, 12)
    assert (growth["aptt"]["mean"], growth["comparison"]["mean"]) == (15.0, 13.0)
    assert growth["difference"] == 2.0
    assert growth["df"] == 22.0
    assert math.isclose(growth["ci_low"], 2 - half, abs_tol=1e-3)
    assert math.isclose(growth["ci_high"], 2 + half, abs_tol=1e-3)
    assert (growth["aptt_classrooms"], growth["comparison_classrooms"]) == (1, 2)


async def test_a_withheld_cell_cannot_be_recovered_from_the_totals(
    data_service: DataService,
) -> None:
    d = await _district(data_service)
    principal = data_service.token(d, "school_admin", subject="p1", schools=["sch1"])
    path = "/v1/schools/sch1/outcomes/attendance"
    report: dict[str, Any] = {}

    async def summarised() -> bool:
        nonlocal report
        answer = await _get(data_service, path, principal)
        report = answer.json()
        fathers = report.get("fathers") or {}
        return (
            answer.status_code == 200
            and (report["meetings"], report["attended"]) == (3, 24)
            and fathers.get("unlinked_events") == 2
        )

    await eventually(summarised, timeout=60, what="the school's meetings to be summarised")
    # c2's 4 families are under 10; c1's 20 are withheld with them, or 24 - 20 would show 4.
    assert report["rate"] == round(24 / 36, 4)
    rows = {r["key"]: r for r in report["rows"]["items"]}
    assert (rows["c1"]["attended"], rows["c2"]["attended"]) == (None, None)
    assert (rows["c1"]["families"], rows["c2"]["families"]) == (24, 12)
    answer = await _get(data_service, path + ".csv", principal)
    assert answer.status_code == 200
    lines = answer.text.strip().splitlines()
    assert lines[1:] == ["c1,2,24,,,0.92", "c2,1,12,,,0.92", "total,3,36,24,0.6667,0.92"]
    # Fathers: 8 of the 30 guardians at meetings (under 10: withheld, and the 22 others with
    # them); at the two unlinked events counted by relationship, 14 of 55.
    assert report["fathers"] == {
        "meeting_fathers": None,
        "meeting_guardians": 30,
        "meeting_share": None,
        "unlinked_events": 2,
        "event_fathers": 14,
        "event_guardians": 55,
        "event_share": round(14 / 55, 4),
    }
    chart = await _get(data_service, path + ".svg", principal, lang="es")
    assert chart.status_code == 200
    assert "Oculto: menos de 10" in chart.text

    # The district: sch2's 6 families are withheld, and sch1's 24 with them; 30 of 42 shown.
    admin = data_service.admin(d)
    district: dict[str, Any] = {}

    async def all_schools() -> bool:
        nonlocal district
        district = (await _get(data_service, "/v1/district/outcomes/attendance", admin)).json()
        return district["meetings"] == 4 and district["attended"] == 30

    await eventually(all_schools, timeout=60, what="every school's meetings")
    assert (district["attended"], district["families"], district["rate"]) == (30, 42, 0.7143)
    assert {r["key"]: r["attended"] for r in district["rows"]["items"]} == {
        "sch1": None,
        "sch2": None,
    }
    chart = await _get(data_service, "/v1/district/outcomes/attendance.svg", admin)
    assert chart.status_code == 200
    assert "Withheld: fewer than 10" in chart.text


async def test_each_caller_reaches_only_their_own_and_every_view_is_recorded(
    data_service: DataService,
) -> None:
    d = await _district(data_service)
    teacher = data_service.token(d, "teacher", subject="t1")
    principal = data_service.token(d, "school_admin", subject="p1", schools=["sch1"])
    stranger = data_service.token(random_id("d"), "district_admin", subject="a2")
    cases = [
        ("/v1/classrooms/c1/outcomes/attendance", teacher, 200),
        ("/v1/classrooms/c2/outcomes/attendance", teacher, 403),
        ("/v1/schools/sch1/outcomes/attendance", teacher, 403),
        ("/v1/district/outcomes/attendance", teacher, 403),
        ("/v1/classrooms/c1/outcomes/goals", principal, 200),
        ("/v1/schools/sch1/outcomes/attendance", principal, 200),
        ("/v1/schools/sch2/outcomes/attendance", principal, 403),
        ("/v1/classrooms/c3/outcomes/attendance", principal, 403),
        ("/v1/district/outcomes/attendance", principal, 403),
        ("/v1/district/outcomes/growth", principal, 403),
        ("/v1/classrooms/c1/outcomes/attendance", stranger, 404),
        ("/v1/schools/sch1/outcomes/goals", stranger, 404),
        ("/v1/schools/sch1/outcomes/goals.csv", stranger, 404),
        ("/v1/schools/sch1/outcomes/reach.csv", stranger, 404),
        ("/v1/schools/sch1/outcomes/reach.csv", teacher, 403),
        ("/v1/schools/sch2/outcomes/goals.csv", principal, 403),
    ]
    for path, headers, expected in cases:
        answer = await _get(data_service, path, headers, skill_code="orf", grade=3)
        assert answer.status_code == expected, (path, answer.text)
    async with data_service.client() as client:
        answer = await client.put(
            "/v1/classrooms/c1/aptt", json={"runs_aptt": True}, headers=teacher
        )
        assert answer.status_code == 403
        answer = await client.get("/v1/district/outcomes/views", headers=data_service.admin(d))
    assert answer.status_code == 200
    seen = {(v["viewer"], v["report"], v["scope"], v["scope_id"]) for v in answer.json()["items"]}
    assert seen == {
        ("t1", "attendance", "classroom", "c1"),
        ("p1", "goals", "classroom", "c1"),
        ("p1", "attendance", "school", "sch1"),
    }


def _as_cell(value: object) -> str:
    return "" if value is None else str(value)


async def test_a_schools_goals_and_reach_download_as_csv_with_the_figures_of_the_json(
    data_service: DataService,
) -> None:
    d = await _district(data_service)
    principal = data_service.token(d, "school_admin", subject="p1", schools=["sch1"])

    async def visits_kept() -> bool:
        found = await _get(data_service, "/v1/classrooms/c1/outcomes/reach", principal)
        return bool(found.json().get("visited") == 7)

    await eventually(visits_kept, timeout=60, what="the visits to be kept")
    reach = (await _get(data_service, "/v1/schools/sch1/outcomes/reach", principal)).json()
    answer = await _get(data_service, "/v1/schools/sch1/outcomes/reach.csv", principal)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert f'filename="reach-school-sch1-{YEAR}.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 1
    # A withheld cell stays empty, never 0.
    for name in ("families", "visited", "visited_share", "visited_twice"):
        assert rows[0][name] == _as_cell(reach[name]), name

    goals = (await _get(data_service, "/v1/schools/sch1/outcomes/goals", principal)).json()
    answer = await _get(data_service, "/v1/schools/sch1/outcomes/goals.csv", principal)
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["row"] for r in rows] == [
        *(f"meeting:{m['meeting_id']}" for m in goals["meetings"]),
        "total",
    ]
    for name in ("goals_set", "goals_met", "met_rate"):
        assert rows[-1][name] == _as_cell(goals[name]), name
