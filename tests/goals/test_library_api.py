"""The activity library over HTTP, and a district's own skills (SkillDefined) in goals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aptt_contracts.data import SkillDefined
from aptt_contracts.skills import GradeBenchmark
from aptt_local.servers import LocalStack
from aptt_platform.devissuer import DevIssuer

from .conftest import TODAY, District, GoalsApp, goal_body, goals_app


@pytest.fixture(scope="module")
async def goals(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[GoalsApp]:
    async with goals_app(local_stack, dev_issuer, goals_require_attendance=False) as app:
        yield app


def activity(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "skill_code": "orf",
        "grades": [2, 3],
        "title": {"en": "Read the menu", "es": "Leer el menú"},
        "instructions": {
            "en": "At a restaurant or at home, your child reads the menu aloud to you.",
            "es": "En un restaurante o en casa, su hijo le lee el menú en voz alta.",
        },
        "times": 2,
        "per": "week",
        "minutes": 10,
    }
    body.update(changes)
    return body


async def test_families_see_built_in_activities_by_skill_grade_and_language(
    goals: GoalsApp,
) -> None:
    district = District(goals)
    async with district.guardian("gd-1") as client:
        page = (
            await client.get(
                "/v1/activities", params={"skill_code": "orf", "grade": 1, "lang": "es"}
            )
        ).json()
        assert len(page["items"]) >= 3
        assert all(a["skill_code"] == "orf" and 1 in a["grades"] for a in page["items"])
        assert all(set(a["title"]) == {"es"} for a in page["items"])
        read_aloud = next(a for a in page["items"] if a["activity_code"] == "orf-read-aloud")
        assert read_aloud["title"] == {"es": "Leer en voz alta juntos"}
        assert read_aloud["suggested"] == {"times": 5, "per": "week", "minutes": 20}
        math = (await client.get("/v1/activities", params={"skill_code": "math-facts"})).json()
        assert {a["skill_code"] for a in math["items"]} == {"math-facts"}
        assert all(set(a["languages"]) >= {"en", "es"} for a in math["items"])


async def test_a_teacher_adds_an_activity_for_the_district(goals: GoalsApp) -> None:
    district, other = District(goals), District(goals)
    async with district.teacher("t-1") as teacher:
        added = await teacher.post("/v1/activities", json=activity())
        assert added.status_code == 201, added.text
        code = added.json()["activity_code"]
        assert added.json()["source"] == "district"
        vietnamese = activity(
            title={"vi": "Đọc thực đơn"}, instructions={"vi": "Con đọc thực đơn cho bạn nghe."}
        )
        assert (await teacher.post("/v1/activities", json=vietnamese)).status_code == 201
    async with district.guardian("gd-1") as client:
        grade_2 = (await client.get("/v1/activities", params={"grade": 2, "lang": "es"})).json()
        assert code in {a["activity_code"] for a in grade_2["items"]}
        grade_5 = (await client.get("/v1/activities", params={"grade": 5})).json()
        assert code not in {a["activity_code"] for a in grade_5["items"]}
        in_vi = (await client.get("/v1/activities", params={"lang": "vi"})).json()
        assert [a["title"] for a in in_vi["items"]] == [{"vi": "Đọc thực đơn"}]
    async with other.guardian("gd-1") as client:
        theirs = (await client.get("/v1/activities", params={"grade": 2, "limit": 200})).json()
        assert code not in {a["activity_code"] for a in theirs["items"]}
        assert all(a["source"] == "built-in" for a in theirs["items"])


async def test_adding_activities_is_for_staff_and_refuses_bad_input(goals: GoalsApp) -> None:
    district = District(goals)
    async with district.guardian("gd-1") as client:
        assert (await client.post("/v1/activities", json=activity())).status_code == 403
    async with district.teacher("t-1") as teacher:
        for body, problem in (
            (activity(colour="red"), "validation"),
            (activity(grades=[]), "validation"),
            (activity(title={"en": "x" * 81}), "validation"),
            (activity(instructions={"en": "x" * 601, "es": "y"}), "validation"),
            (activity(grades=[*range(13), 1]), "validation"),
            (
                activity(
                    title={f"l{chr(97 + i)}": "t" for i in range(21)},
                    instructions={f"l{chr(97 + i)}": "i" for i in range(21)},
                ),
                "validation",
            ),
            (activity(skill_code="o" * 61), "validation"),
            (activity(skill_code="astrophysics"), "unknown-skill"),
            (activity(instructions={"en": "Only English here."}), "languages-mismatch"),
        ):
            answer = await teacher.post("/v1/activities", json=body)
            assert answer.status_code == 422
            assert answer.json()["type"].endswith("/" + problem)
        for params in ({"skill_code": "o" * 61}, {"cursor": "c" * 201}, {"lang": "spanish"}):
            answer = await teacher.get("/v1/activities", params=params)
            assert answer.status_code == 422, params
            assert answer.json()["type"].endswith("/validation")
        listed = (await teacher.get("/v1/activities", params={"limit": 200})).json()
        assert all(a["source"] == "built-in" for a in listed["items"]), "nothing was added"


async def test_paging_through_the_library(goals: GoalsApp) -> None:
    district = District(goals)
    async with district.teacher("t-1") as teacher:
        for _ in range(2):
            assert (await teacher.post("/v1/activities", json=activity())).status_code == 201
        everything = (await teacher.get("/v1/activities", params={"limit": 200})).json()
        codes, cursor = [], None
        while True:
            params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = (await teacher.get("/v1/activities", params=params)).json()
            codes.extend(a["activity_code"] for a in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert codes == [a["activity_code"] for a in everything["items"]]
    assert len(codes) == len(set(codes)) == 12  # ten built in, two of the district


async def test_a_goal_may_use_a_district_activity(goals: GoalsApp) -> None:
    district = District(goals)
    student, _ = await district.enrol(guardians=["gd-1"])
    await district.result(student, 50, TODAY - timedelta(days=3))
    async with district.teacher("t-1") as teacher:
        code = (await teacher.post("/v1/activities", json=activity())).json()["activity_code"]
    async with district.guardian("gd-1") as client:
        plan = [{"activity_code": code, "times": 2, "per": "week"}]
        answer = await client.post("/v1/goals", json=goal_body(student, activities=plan))
        assert answer.status_code == 201, answer.text
        assert answer.json()["activities"][0]["activity_code"] == code


async def test_a_district_skill_is_checked_on_its_own_scale_and_growth(goals: GoalsApp) -> None:
    district = District(goals)
    student, _ = await district.enrol(guardians=["gd-1"], grade=1)
    await district.publish(
        SkillDefined(
            district_id=district.district_id,
            skill_code="letter-sounds",
            name={"en": "Letter sounds", "es": "Sonidos de las letras"},
            unit={"en": "sounds per minute", "es": "sonidos por minuto"},
            scale_min=0,
            scale_max=100,
            benchmarks=[GradeBenchmark(grade=1, fall=20, winter=35, spring=50, weekly_growth=1.0)],
        )
    )
    await goals.wait_for(
        "skills", {"district_id": district.district_id, "skill_code": "letter-sounds"}, "skill"
    )
    await district.result(student, 20, TODAY - timedelta(days=3), skill_code="letter-sounds")
    plan = [{"description": "Sound out the letters on the cereal box", "times": 5, "per": "week"}]
    async with district.guardian("gd-1", "es") as client:
        # 1 a week x 8 weeks x 1.5 = 12 at most: 32 is the limit.
        body = goal_body(student, skill_code="letter-sounds", target=33, activities=plan)
        checked = (await client.post("/v1/goals/check", json=body)).json()
        [realistic] = [c for c in checked["checks"] if not c["passed"]]
        assert realistic["suggestion"] == (
            "Elija un objetivo de 32 o menos, o dele más tiempo a la meta."
        )
        assert "sonidos por minuto" in realistic["reason"]
        body["target"] = 32
        assert (await client.post("/v1/goals", json=body)).status_code == 201
        # The district's skill is the only one it knows besides the built-in ones.
        unknown = (
            await client.post("/v1/goals/check", json=goal_body(student, skill_code="spelling"))
        ).json()
        [specific] = [c for c in unknown["checks"] if c["name"] == "specific"]
        assert specific["suggestion"] == (
            "Elija una habilidad de la lista: Fluidez en la lectura oral, Fluidez en operaciones "
            "matemáticas o Sonidos de las letras."
        )


async def test_a_skill_with_a_huge_scale_is_checked_and_a_huge_target_refused(
    goals: GoalsApp,
) -> None:
    district = District(goals)
    student, _ = await district.enrol(guardians=["gd-1"], grade=1)
    # An event of an older data service, before its skill bodies had score bounds.
    await district.publish(
        SkillDefined(
            district_id=district.district_id,
            skill_code="huge-scale",
            name={"en": "Huge scale"},
            unit={"en": "points"},
            scale_min=-1e26,
            scale_max=1e26,
            benchmarks=[GradeBenchmark(grade=1, fall=20, winter=35, spring=50, weekly_growth=1.0)],
        )
    )
    await goals.wait_for(
        "skills", {"district_id": district.district_id, "skill_code": "huge-scale"}, "skill"
    )
    async with district.guardian("gd-1") as client:
        body = goal_body(student, skill_code="huge-scale", baseline=1, target=-999_999)
        checked = await client.post("/v1/goals/check", json=body)
        assert checked.status_code == 200, checked.text
        [realistic] = [c for c in checked.json()["checks"] if c["name"] == "realistic"]
        assert not realistic["passed"]

        for huge in (1e26, -1e26, 1e300):
            body = goal_body(student, skill_code="huge-scale", target=huge)
            refused = await client.post("/v1/goals/check", json=body)
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert [e["location"] for e in refused.json()["errors"]] == ["body.target"]
