"""Who may reach which child, goal and class: every route with an id, tried with someone
else's id. Another district's records are "not found"; in the district, a guardian is told
"not found" of other families' records (ids reveal nothing) and staff "forbidden"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from aptt_contracts.data import ClassroomUpserted, StudentRemoved, StudentUpserted
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, random_id
from aptt_platform.devissuer import DevIssuer

from .conftest import TODAY, District, GoalsApp, goal_body, goals_app


@dataclass
class Scene:
    """Two families of one district in two schools, with a goal each, and another district."""

    district: District
    mine: str  # student of gd-mine, school A, teacher t-a
    mine_goal: str
    mine_classroom: str
    theirs: str  # student of gd-theirs, school B, teacher t-b
    theirs_goal: str
    theirs_classroom: str
    school_b: str
    elsewhere: District


@pytest.fixture(scope="module")
async def goals(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[GoalsApp]:
    async with goals_app(local_stack, dev_issuer) as app:
        yield app


@pytest.fixture(scope="module")
async def scene(goals: GoalsApp) -> Scene:
    district = District(goals)
    school_b = random_id("sch")
    mine, mine_classroom = await district.enrol(guardians=["gd-mine"], teacher_id="t-a")
    theirs, theirs_classroom = await district.enrol(
        guardians=["gd-theirs"], teacher_id="t-b", school_id=school_b
    )
    ids = {}
    for student, guardian in ((mine, "gd-mine"), (theirs, "gd-theirs")):
        await district.result(student, 50, TODAY - timedelta(days=3))
        await district.attend(student, guardian)
        async with district.guardian(guardian) as client:
            answer = await client.post("/v1/goals", json=goal_body(student))
            assert answer.status_code == 201
            ids[student] = answer.json()["goal_id"]
    elsewhere = District(goals, district_id=random_id("d"), school_id=district.school_id)
    return Scene(
        district=district,
        mine=mine,
        mine_goal=ids[mine],
        mine_classroom=mine_classroom,
        theirs=theirs,
        theirs_goal=ids[theirs],
        theirs_classroom=theirs_classroom,
        school_b=school_b,
        elsewhere=elsewhere,
    )


async def reads(client: httpx.AsyncClient, scene: Scene, *, student: str, goal: str) -> set[int]:
    """Status codes of every read route with an id, for one student and goal."""
    answers = [
        await client.get(f"/v1/goals/{goal}"),
        await client.get(f"/v1/goals/{goal}/practice"),
        await client.get(f"/v1/students/{student}/goals"),
        await client.get(f"/v1/students/{student}/goal-setting"),
        await client.post("/v1/goals/check", json=goal_body(student)),
    ]
    return {a.status_code for a in answers}


async def test_a_guardian_reaches_only_their_own_child(scene: Scene) -> None:
    async with scene.district.guardian("gd-mine") as client:
        assert await reads(client, scene, student=scene.mine, goal=scene.mine_goal) == {200}
        assert await reads(client, scene, student=scene.theirs, goal=scene.theirs_goal) == {404}
        writes = [
            await client.post("/v1/goals", json=goal_body(scene.theirs, target=61)),
            await client.post(
                f"/v1/goals/{scene.theirs_goal}/practice",
                json={"practiced_on": TODAY.isoformat(), "minutes": 10},
            ),
            await client.post(f"/v1/goals/{scene.theirs_goal}/close"),
        ]
        assert {w.status_code for w in writes} == {404}
        # Guardians do not list classrooms.
        answer = await client.get(f"/v1/classrooms/{scene.mine_classroom}/goals")
        assert answer.status_code == 403
        # Another family's goal reads exactly like one that does not exist.
        theirs = await client.get(f"/v1/goals/{scene.theirs_goal}")
        nothing = await client.get("/v1/goals/g-nothing")
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.json()["detail"] == nothing.json()["detail"]
        theirs = await client.get(f"/v1/students/{scene.theirs}/goals")
        nothing = await client.get("/v1/students/s-nobody/goals")
        assert theirs.json()["detail"] == nothing.json()["detail"]
    async with scene.district.guardian("gd-theirs") as client:
        goal = (await client.get(f"/v1/goals/{scene.theirs_goal}")).json()
        assert goal["status"] == "active", "their goal is untouched"
        assert goal["practice"]["sessions"] == 0


async def test_a_student_s_token_claims_do_not_replace_the_roster_link(scene: Scene) -> None:
    # A guardian token that names the other child is still not that child's guardian.
    token = scene.district.goals.issuer.mint(
        subject="gd-mine",
        district_id=scene.district.district_id,
        roles=["guardian"],
        student_ids=[scene.theirs],
    )
    async with scene.district.goals.client(token) as client:
        assert (await client.get(f"/v1/goals/{scene.theirs_goal}")).status_code == 404


async def test_a_teacher_reaches_only_their_own_classes(scene: Scene) -> None:
    async with scene.district.teacher("t-a") as teacher:
        assert await reads(teacher, scene, student=scene.mine, goal=scene.mine_goal) == {200}
        assert (
            await teacher.get(f"/v1/classrooms/{scene.mine_classroom}/goals")
        ).status_code == 200
        assert await reads(teacher, scene, student=scene.theirs, goal=scene.theirs_goal) == {403}
        other_class = await teacher.get(f"/v1/classrooms/{scene.theirs_classroom}/goals")
        assert other_class.status_code == 403
        # An id that does not exist is still "not found".
        assert await reads(teacher, scene, student="s-nobody", goal="g-nothing") == {404}
        # Teachers never act for a family.
        closing = await teacher.post(f"/v1/goals/{scene.mine_goal}/close")
        assert closing.status_code == 403


async def test_a_school_admin_reaches_only_their_schools(scene: Scene) -> None:
    async with scene.district.school_admin(scene.school_b) as admin:
        assert await reads(admin, scene, student=scene.theirs, goal=scene.theirs_goal) == {200}
        assert (
            await admin.get(f"/v1/classrooms/{scene.theirs_classroom}/goals")
        ).status_code == 200
        assert await reads(admin, scene, student=scene.mine, goal=scene.mine_goal) == {403}
        assert (await admin.get(f"/v1/classrooms/{scene.mine_classroom}/goals")).status_code == 403
        assert (await admin.get("/v1/classrooms/c-nothing/goals")).status_code == 404


async def test_another_district_sees_nothing(scene: Scene) -> None:
    other = scene.elsewhere
    async with other.district_admin() as admin:
        for student, goal in ((scene.mine, scene.mine_goal), (scene.theirs, scene.theirs_goal)):
            assert await reads(admin, scene, student=student, goal=goal) == {404}
        assert (await admin.get(f"/v1/classrooms/{scene.mine_classroom}/goals")).status_code == 404
    # Even a guardian id that exists in the first district is a stranger here.
    async with other.guardian("gd-mine") as client:
        assert await reads(client, scene, student=scene.mine, goal=scene.mine_goal) == {404}
        answer = await client.post("/v1/goals", json=goal_body(scene.mine, target=61))
        assert answer.status_code == 404


async def test_without_a_valid_token_nothing_is_served(scene: Scene) -> None:
    async with scene.district.goals.client() as anonymous:
        assert (await anonymous.get(f"/v1/goals/{scene.mine_goal}")).status_code == 401
        assert (await anonymous.get("/v1/activities")).status_code == 401
    async with scene.district.goals.client("not-a-token") as forged:
        assert (await forged.get(f"/v1/students/{scene.mine}/goals")).status_code == 401


async def test_roster_changes_take_effect(goals: GoalsApp) -> None:
    district = District(goals)
    student, classroom = await district.enrol(guardians=["gd-x", "gd-y"], teacher_id="t-x")
    await district.result(student, 50, TODAY - timedelta(days=3))
    await district.attend(student, "gd-y")
    async with district.guardian("gd-y") as client:
        goal = (await client.post("/v1/goals", json=goal_body(student))).json()["goal_id"]

    # gd-x is no longer linked, t-x no longer teaches the class.
    await district.publish(
        StudentUpserted(
            district_id=district.district_id,
            student_id=student,
            school_id=district.school_id,
            grade=2,
            guardian_ids=["gd-y"],
        ),
        ClassroomUpserted(
            district_id=district.district_id,
            classroom_id=classroom,
            school_id=district.school_id,
            grade=2,
            teacher_ids=["t-new"],
            student_ids=[student],
        ),
    )

    async def unlinked() -> bool:
        async with district.guardian("gd-x") as client, district.teacher("t-x") as teacher:
            return (await client.get(f"/v1/goals/{goal}")).status_code == 404 and (
                await teacher.get(f"/v1/goals/{goal}")
            ).status_code == 403

    await eventually(unlinked, what="the old links to be gone")
    async with district.teacher("t-new") as teacher:
        assert (await teacher.get(f"/v1/goals/{goal}")).status_code == 200

    # A student who left keeps their goals for the family to read; no new ones are set.
    await district.publish(
        StudentRemoved(
            district_id=district.district_id, student_id=student, school_id=district.school_id
        )
    )
    await goals.wait_for(
        "students",
        {"district_id": district.district_id, "student_id": student, "removed": True},
        "the student to be removed",
    )
    async with district.guardian("gd-y") as client:
        assert (await client.get(f"/v1/goals/{goal}")).status_code == 200
        math = goal_body(
            student,
            skill_code="math-facts",
            baseline=20,
            target=24,
            activities=[{"activity_code": "math-facts-dice", "times": 3, "per": "week"}],
        )
        assert (await client.post("/v1/goals", json=math)).status_code == 404
