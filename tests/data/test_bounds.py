"""Every free-text field and list of the data API's bodies and queries is bounded: an
over-long value is a 422 problem, a body over the service's body limit a 413 problem read no
further (docs/decisions/0015), and nothing is stored or published."""

from __future__ import annotations

from typing import Any

import httpx
from aptt_local.oneroster import build_package
from aptt_local.testing import random_id

from .conftest import DataService, district_roster
from .test_assessments import SPELLING

PROBLEM = "application/problem+json"


# Bodies of these cases are over the 1 MiB body limit: refused before they are parsed.
TOO_LARGE = {"huge name", "huge timezone"}


def refused(response: httpx.Response, *, too_large: bool = False) -> None:
    assert response.headers["content-type"] == PROBLEM
    if too_large:
        assert response.status_code == 413, response.text
        assert response.json()["type"].endswith("/payload-too-large")
        return
    assert response.status_code == 422, response.text
    assert response.json()["errors"]


def over_long_skills() -> dict[str, dict[str, Any]]:
    benchmark = SPELLING["benchmarks"][0]
    return {
        # What once made the outbox's head fail for ever: a 1.2-million-character name.
        "huge name": {**SPELLING, "name": {"en": "S" * 1_200_000}},
        "name of 121 characters": {**SPELLING, "name": {"en": "S" * 121}},
        "unit of 121 characters": {**SPELLING, "unit": {"en": "w" * 121}},
        "empty name": {**SPELLING, "name": {"en": ""}},
        "21 languages": {**SPELLING, "name": {f"x{i:02d}": "Spelling" for i in range(21)}},
        "language tag of 36 characters": {**SPELLING, "unit": {"e" * 36: "words"}},
        "code of 42 characters": {**SPELLING, "code": "s" * 42},
        "14 benchmarks": {
            **SPELLING,
            "benchmarks": [{**benchmark, "grade": i % 13} for i in range(14)],
        },
        "a huge score": {**SPELLING, "scale_max": 1e300},
    }


async def test_an_over_long_skill_is_refused_and_nothing_is_stored(
    data_service: DataService,
) -> None:
    district = random_id("d")
    admin = data_service.admin(district)
    async with data_service.client() as client:
        for case, body in over_long_skills().items():
            refused_post = await client.post("/v1/skills", headers=admin, json=body)
            refused(refused_post, too_large=case in TOO_LARGE)
            assert "S" * 121 not in refused_post.text, case  # the value is never echoed
        listed = (await client.get("/v1/skills", headers=admin)).json()
        assert {s["code"] for s in listed} == {"orf", "math-facts"}
        assert await data_service.outbox_count(district) == 0

        assert (await client.post("/v1/skills", headers=admin, json=SPELLING)).status_code == 201
        published = await data_service.outbox_count(district)
        for case, body in over_long_skills().items():
            path = f"/v1/skills/{body['code']}"
            refused(await client.put(path, headers=admin, json=body), too_large=case in TOO_LARGE)
        [kept] = [
            s for s in (await client.get("/v1/skills", headers=admin)).json() if not s["built_in"]
        ]
        assert (kept["name"], kept["unit"]) == (SPELLING["name"], SPELLING["unit"])
        assert await data_service.outbox_count(district) == published


async def test_over_long_settings_and_queries_are_refused(data_service: DataService) -> None:
    district = random_id("d")
    assert (
        await data_service.import_roster(district, build_package(district_roster(district)))
    ).status_code == 200
    admin = data_service.admin(district)
    async with data_service.client() as client:
        before = (await client.get("/v1/schools/sch1/settings", headers=admin)).json()
        published = await data_service.outbox_count(district)
        for case, body in {
            "long timezone": {"timezone": "America/" + "X" * 60},
            "long language": {"language": "es-" + "a" * 40},
            "huge timezone": {"timezone": "T" * 1_200_000},
        }.items():
            answer = await client.put("/v1/schools/sch1/settings", headers=admin, json=body)
            refused(answer, too_large=case in TOO_LARGE)
        assert (await client.get("/v1/schools/sch1/settings", headers=admin)).json() == before
        assert await data_service.outbox_count(district) == published
        for path in (
            "/v1/students/c1-s1/results?skill_code=" + "o" * 42,
            "/v1/students/c1-s1/results?cursor=" + "2026-10-01|" * 30,
            "/v1/students/" + "s" * 256 + "/results",
            "/v1/meetings/m1/class-report.svg?lang=" + "e" * 36,
            "/v1/meetings/" + "m" * 256 + "/class-report",
            "/v1/schools/" + "s" * 256 + "/settings",
            # Year 0 is no date: once a 500 in the outcomes (found by schemathesis).
            "/v1/district/outcomes/growth?grade=0&school_year=0000-0000&skill_code=orf",
            # The pattern's shape, but no school year: once a 500 (found by schemathesis).
            "/v1/district/outcomes/growth?grade=3&school_year=1900-1900&skill_code=orf",
            "/v1/schools/sch1/outcomes/goals?school_year=2026-2028",
        ):
            refused(await client.get(path, headers=admin))
        # A refused read of a student's results is not a disclosure: nothing was shown.
        record = await client.get("/v1/students/c1-s1/disclosures", headers=admin)
        assert record.json()["items"] == []
