"""Setting, checking and following goals over HTTP, fed by roster, attendance and result
events through Kafka, publishing goal events through the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aptt_contracts.goals import GoalClosed, GoalMet, GoalProgressed, GoalSet, PracticeLogged
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually
from aptt_platform.devissuer import DevIssuer

from .conftest import TODAY, District, GoalsApp, goal_body, goals_app


@pytest.fixture(scope="module")
async def goals(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[GoalsApp]:
    async with goals_app(local_stack, dev_issuer) as app:
        yield app


async def family(goals: GoalsApp, *, baseline: float | None = 50) -> tuple[District, str, str]:
    """A district with one grade 2 student whose guardian came to the team meeting."""
    district = District(goals)
    guardian = "gd-" + district.district_id
    student, _ = await district.enrol(guardians=[guardian, "gd-other-parent"])
    if baseline is not None:
        await district.result(student, baseline, TODAY - timedelta(days=14))
    await district.attend(student, guardian)
    return district, student, guardian


async def test_a_guardian_who_attended_sets_a_smart_goal(goals: GoalsApp) -> None:
    district, student, guardian = await family(goals)
    async with district.guardian(guardian) as client:
        answer = await client.post("/v1/goals", json=goal_body(student))
        assert answer.status_code == 201, answer.text
        goal = answer.json()
        assert goal["status"] == "active"
        assert [c["name"] for c in goal["checks"]] == [
            "specific",
            "measurable",
            "action_oriented",
            "realistic",
            "time_bound",
        ]
        assert all(c["passed"] for c in goal["checks"])
        # The starting score defaults to the latest result.
        assert (goal["baseline"], goal["baseline_source"]) == (50, "latest_result")
        assert answer.headers["content-language"] == "en"

        read = (await client.get(f"/v1/goals/{goal['goal_id']}")).json()
        assert read["target"] == 60
        assert read["progress"]["percent"] == 0
        listed = (await client.get(f"/v1/students/{student}/goals")).json()
        assert [g["goal_id"] for g in listed["items"]] == [goal["goal_id"]]

    async def announced() -> bool:
        return len(await district.events(GoalSet.event_type)) == 1

    await eventually(announced, what="GoalSet on the goals topic")
    [event] = await district.events(GoalSet.event_type)
    assert event["goal_id"] == goal["goal_id"]
    assert event["guardian_id"] == guardian
    assert event["activity_codes"] == ["orf-read-aloud"]
    assert (event["baseline"], event["target"]) == (50, 60)


async def test_goal_setting_opens_with_attendance(goals: GoalsApp) -> None:
    district = District(goals)
    student, _ = await district.enrol(guardians=["gd-a"])
    await district.result(student, 50, TODAY - timedelta(days=7))
    async with district.guardian("gd-a", "es") as client:
        status = (await client.get(f"/v1/students/{student}/goal-setting")).json()
        assert status["open"] is False
        assert status["baselines"][0]["score"] == 50
        refused = await client.post("/v1/goals", json=goal_body(student))
        assert refused.status_code == 403
        assert refused.json()["type"].endswith("goal-setting-not-open")
        assert "reunión" in refused.json()["detail"]

        # Absent does not open it; present does.
        await district.attend(student, "gd-a", present=False)
        assert (await client.post("/v1/goals", json=goal_body(student))).status_code == 403
        await district.attend(student, "gd-a")
        status = (await client.get(f"/v1/students/{student}/goal-setting")).json()
        assert status["open"]
        assert status["suggested_skill_code"] == "orf"
        assert (await client.post("/v1/goals", json=goal_body(student))).status_code == 201


async def test_a_goal_that_is_not_smart_says_why_in_spanish_and_is_not_saved(
    goals: GoalsApp,
) -> None:
    district, student, guardian = await family(goals)
    body = goal_body(
        student,
        target=45,
        activities=[{"description": "leer con la abuela"}],
        ends_on=(TODAY + timedelta(days=90)).isoformat(),
    )
    async with district.guardian(guardian, "es-MX,es;q=0.9") as client:
        answer = await client.post("/v1/goals", json=body)
        assert answer.status_code == 422
        problem = answer.json()
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert problem["type"].endswith("/not-smart")
        assert problem["detail"] == "Esta meta necesita algunos cambios antes de poder guardarla."
        checks = {c["name"]: c for c in problem["checks"]}
        assert {n for n, c in checks.items() if not c["passed"]} == {
            "action_oriented",
            "realistic",
            "time_bound",
        }
        assert checks["action_oriented"]["reason"] == "La actividad 1 no dice con qué frecuencia."
        assert checks["realistic"]["reason"] == (
            "El objetivo 45 no es mayor que el puntaje inicial 50."
        )
        assert "por ejemplo 62" in checks["realistic"]["suggestion"]
        assert checks["time_bound"]["reason"] == (
            "La meta termina 90 días después de empezar, más de 60 días."
        )
        assert checks["time_bound"]["suggestion"] == (
            "Elija una fecha de fin que sea el 14 de diciembre de 2026 o antes."
        )
        assert checks["specific"]["suggestion"] is None

        listed = (await client.get(f"/v1/students/{student}/goals")).json()
        assert listed["items"] == []
    assert await district.events(GoalSet.event_type) == []


async def test_the_check_route_shows_the_realistic_limit(goals: GoalsApp) -> None:
    district, student, guardian = await family(goals)
    async with district.guardian(guardian) as client:
        # Grade 2 grows about 1.5 words a week: 8 weeks x 1.5 x 1.5 allows 68.
        too_far = (await client.post("/v1/goals/check", json=goal_body(student, target=69))).json()
        assert too_far["smart"] is False
        [realistic] = [c for c in too_far["checks"] if not c["passed"]]
        assert realistic["name"] == "realistic"
        assert realistic["suggestion"] == (
            "Choose a target of 68 or less, or give the goal more time."
        )
        fine = (await client.post("/v1/goals/check", json=goal_body(student, target=68))).json()
        assert fine["smart"] is True
        assert fine["baseline"] == 50
        # A starting score the family gives wins over the latest result.
        given = await client.post("/v1/goals/check", json=goal_body(student, baseline=40))
        assert given.json()["baseline_source"] == "given"
        assert given.json()["smart"] is False  # 40 -> 60 is 20 words: beyond 18
        # Checking saves nothing.
        assert (await client.get(f"/v1/students/{student}/goals")).json()["items"] == []


async def test_without_any_result_the_family_enters_the_starting_score(goals: GoalsApp) -> None:
    district, student, guardian = await family(goals, baseline=None)
    async with district.guardian(guardian) as client:
        answer = await client.post("/v1/goals", json=goal_body(student))
        assert answer.status_code == 422
        [measurable] = [c for c in answer.json()["checks"] if c["name"] == "measurable"]
        assert measurable["reason"] == "We have no starting score for Oral reading fluency yet."
        answer = await client.post("/v1/goals", json=goal_body(student, baseline=52))
        assert answer.status_code == 201
        assert answer.json()["baseline_source"] == "given"


async def test_bad_input_is_a_clear_problem_and_loses_nothing(goals: GoalsApp) -> None:
    district, student, guardian = await family(goals)
    async with district.guardian(guardian) as client:
        kept = (await client.post("/v1/goals", json=goal_body(student))).json()
        for body in (
            {**goal_body(student), "colour": "blue"},
            {**goal_body(student), "target": "lots"},
            {**goal_body(student), "ends_on": "next month"},
            {"skill_code": "orf"},
        ):
            answer = await client.post("/v1/goals/check", json=body)
            assert answer.status_code == 422
            assert answer.json()["type"].endswith("/validation")
            assert answer.json()["errors"]
        listed = (await client.get(f"/v1/students/{student}/goals")).json()
        assert [g["goal_id"] for g in listed["items"]] == [kept["goal_id"]]


async def test_one_running_goal_per_student_and_skill(goals: GoalsApp) -> None:
    district, student, guardian = await family(goals)
    async with district.guardian(guardian) as client:
        first = (await client.post("/v1/goals", json=goal_body(student))).json()
        second = await client.post("/v1/goals", json=goal_body(student, target=62))
        assert second.status_code == 409
        assert second.json()["goal_id"] == first["goal_id"]
        assert "Close it before setting a new one" in second.json()["detail"]

        # The other guardian of the same child sees it and may close it.
        async with district.guardian("gd-other-parent") as other:
            closed = await other.post(f"/v1/goals/{first['goal_id']}/close")
            assert closed.status_code == 200
            assert (closed.json()["status"], closed.json()["outcome"]) == ("closed", "not_met")
            assert (await other.post(f"/v1/goals/{first['goal_id']}/close")).status_code == 409

        again = await client.post("/v1/goals", json=goal_body(student, target=62))
        assert again.status_code == 201
        # A math goal may run alongside the reading one.
        math = goal_body(
            student,
            skill_code="math-facts",
            baseline=20,
            target=25,
            activities=[{"activity_code": "math-facts-flash-cards", "times": 5, "per": "week"}],
        )
        assert (await client.post("/v1/goals", json=math)).status_code == 201
        active = (await client.get(f"/v1/students/{student}/goals?status=active")).json()
        assert len(active["items"]) == 2

    async def closed_event() -> bool:
        return len(await district.events(GoalClosed.event_type)) == 1

    await eventually(closed_event, what="GoalClosed")
    [event] = await district.events(GoalClosed.event_type)
    assert (event["goal_id"], event["reason"]) == (first["goal_id"], "closed_early")


async def test_new_results_move_progress_and_goal_met_is_published_once(goals: GoalsApp) -> None:
    district, student, guardian = await family(goals)
    async with district.guardian(guardian) as client:
        goal = (await client.post("/v1/goals", json=goal_body(student))).json()
        goal_url = f"/v1/goals/{goal['goal_id']}"

        await district.result(student, 55, TODAY + timedelta(days=14))
        progress = (await client.get(goal_url)).json()["progress"]
        assert (progress["percent"], progress["latest_score"]) == (50, 55)

        # Dated before the goal started: not progress, even though it arrives later.
        await district.result(student, 59, TODAY - timedelta(days=2))
        assert (await client.get(goal_url)).json()["progress"]["percent"] == 50

        await district.result(student, 61, TODAY + timedelta(days=28))
        await district.result(student, 63, TODAY + timedelta(days=42))
        read = (await client.get(goal_url)).json()
        assert read["progress"]["percent"] == 100
        assert read["progress"]["target_reached_on"] == (TODAY + timedelta(days=28)).isoformat()
        assert read["status"] == "active"  # it runs to its end date

    async def three_progressed() -> bool:
        return len(await district.events(GoalProgressed.event_type)) == 3

    await eventually(three_progressed, what="three GoalProgressed")
    progressed = await district.events(GoalProgressed.event_type)
    assert [e["progress_percent"] for e in progressed] == [50, 100, 100]
    met = await district.events(GoalMet.event_type)
    assert [(e["goal_id"], e["score"]) for e in met] == [(goal["goal_id"], 61)]


async def test_families_log_practice(goals: GoalsApp) -> None:
    district, student, guardian = await family(goals)
    async with district.guardian(guardian, "es") as client:
        goal = (await client.post("/v1/goals", json=goal_body(student))).json()
        url = f"/v1/goals/{goal['goal_id']}/practice"
        logged = await client.post(
            url,
            json={
                "practiced_on": TODAY.isoformat(),
                "minutes": 20,
                "activity_code": "orf-read-aloud",
            },
        )
        assert logged.status_code == 201, logged.text
        assert logged.json()["practice"] == {
            "sessions": 1,
            "minutes": 20,
            "last_practiced_on": TODAY.isoformat(),
        }

        tomorrow = await client.post(
            url, json={"practiced_on": (TODAY + timedelta(days=1)).isoformat(), "minutes": 20}
        )
        assert tomorrow.status_code == 422
        assert tomorrow.json()["type"].endswith("/practice-not-logged")
        assert tomorrow.json()["detail"].startswith("La fecha de práctica debe estar entre")
        other_activity = await client.post(
            url,
            json={
                "practiced_on": TODAY.isoformat(),
                "minutes": 5,
                "activity_code": "math-facts-dice",
            },
        )
        assert other_activity.status_code == 422
        zero = await client.post(url, json={"practiced_on": TODAY.isoformat(), "minutes": 0})
        assert zero.status_code == 422
        assert zero.json()["type"].endswith("/validation")

        logs = (await client.get(url)).json()
        assert [log["minutes"] for log in logs["items"]] == [20]
        assert (await client.get(f"/v1/goals/{goal['goal_id']}")).json()["practice"][
            "sessions"
        ] == 1

    async def practice_event() -> bool:
        return len(await district.events(PracticeLogged.event_type)) == 1

    await eventually(practice_event, what="PracticeLogged")
    [event] = await district.events(PracticeLogged.event_type)
    assert (event["goal_id"], event["minutes"]) == (goal["goal_id"], 20)


async def test_staff_of_the_class_read_goals_and_their_reads_are_recorded(goals: GoalsApp) -> None:
    district, student, guardian = await family(goals)
    async with district.guardian(guardian) as client:
        goal = (await client.post("/v1/goals", json=goal_body(student))).json()
    [classroom] = [
        doc["classroom_id"]
        async for doc in goals.runtime.mongo.db["classrooms"].find(
            {"district_id": district.district_id}
        )
    ]
    async with district.teacher("t-1") as teacher:
        assert (await teacher.get(f"/v1/goals/{goal['goal_id']}")).status_code == 200
        page = (await teacher.get(f"/v1/classrooms/{classroom}/goals")).json()
        assert [g["goal_id"] for g in page["items"]] == [goal["goal_id"]]
        # Staff may check a draft with a family, but only a guardian sets the goal.
        assert (await teacher.post("/v1/goals/check", json=goal_body(student))).status_code == 200
        assert (await teacher.post("/v1/goals", json=goal_body(student))).status_code == 403
    async with district.school_admin() as admin:
        assert (await admin.get(f"/v1/students/{student}/goals")).status_code == 200
    async with district.district_admin() as admin:
        assert (await admin.get(f"/v1/goals/{goal['goal_id']}")).status_code == 200
    viewers = await goals.runtime.mongo.db["disclosures"].count_documents(
        {"district_id": district.district_id, "student_id": student}
    )
    assert viewers == 4


async def test_paging_through_a_student_s_goals(goals: GoalsApp) -> None:
    district, student, guardian = await family(goals)
    made = []
    async with district.guardian(guardian) as client:
        for target in (58, 60, 62):
            goal = (await client.post("/v1/goals", json=goal_body(student, target=target))).json()
            made.append(goal["goal_id"])
            if target != 62:
                await client.post(f"/v1/goals/{goal['goal_id']}/close")
    seen: list[str] = []
    cursor = None
    async with district.district_admin() as admin:
        while True:
            params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            page = (await admin.get(f"/v1/students/{student}/goals", params=params)).json()
            seen.extend(g["goal_id"] for g in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        closed = (await admin.get(f"/v1/students/{student}/goals?status=closed")).json()
    assert seen == list(reversed(made)), "newest first, each once"
    assert {g["goal_id"] for g in closed["items"]} == set(made[:2])


async def test_over_long_fields_are_refused_as_problems(goals: GoalsApp) -> None:
    district, student, guardian = await family(goals)
    plan = {"activity_code": "orf-read-aloud", "times": 5, "per": "week"}
    too_long_bodies = {
        "student_id": goal_body("s" * 101),
        "skill_code": goal_body(student, skill_code="x" * 61),
        "description": goal_body(student, activities=[{**plan, "description": "d" * 201}]),
        "activities": goal_body(student, activities=[plan] * 11),
        "activity_code": goal_body(student, activities=[{**plan, "activity_code": "a" * 61}]),
    }
    async with district.guardian(guardian) as client:
        for field, body in too_long_bodies.items():
            for route in ("/v1/goals", "/v1/goals/check"):
                answer = await client.post(route, json=body)
                assert answer.status_code == 422, (field, route)
                assert answer.headers["content-type"].startswith("application/problem+json")
                assert answer.json()["type"].endswith("/validation"), (field, route)
        goal = (await client.post("/v1/goals", json=goal_body(student))).json()["goal_id"]
        practice = {"practiced_on": TODAY.isoformat(), "minutes": 10, "activity_code": "a" * 61}
        too_long_requests = [
            await client.post(f"/v1/goals/{goal}/practice", json=practice),
            await client.get(f"/v1/goals/{'g' * 101}"),
            await client.get(f"/v1/goals/{goal}/practice", params={"cursor": "c" * 201}),
            await client.get(f"/v1/students/{student}/goals", params={"cursor": "c" * 201}),
            await client.get(f"/v1/students/{'s' * 101}/goal-setting"),
            await client.get(f"/v1/students/{student}/goals", params={"limit": 201}),
        ]
        for answer in too_long_requests:
            assert answer.status_code == 422, answer.request.url
            assert answer.json()["type"].endswith("/validation")
        # Nothing was logged or set by the refused requests.
        read = (await client.get(f"/v1/goals/{goal}")).json()
        assert read["practice"]["sessions"] == 0
        listed = (await client.get(f"/v1/students/{student}/goals")).json()
        assert [g["goal_id"] for g in listed["items"]] == [goal]
    async with district.district_admin() as admin:
        answer = await admin.get(f"/v1/classrooms/{'c' * 101}/goals")
        assert answer.status_code == 422


async def test_the_openapi_document_lists_the_problems(goals: GoalsApp) -> None:
    async with goals.client() as client:
        document = (await client.get("/openapi.json")).json()
    set_goal = document["paths"]["/v1/goals"]["post"]["responses"]
    assert {"403", "404", "409", "422"} <= set(set_goal)
    assert "application/problem+json" in set_goal["422"]["content"]
    for path in ("/v1/goals/{goal_id}", "/v1/classrooms/{classroom_id}/goals"):
        assert {"403", "404", "422"} <= set(document["paths"][path]["get"]["responses"])
