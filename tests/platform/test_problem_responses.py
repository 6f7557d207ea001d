"""Every operation of the four services lists the problem answers it can give, with the
problem-details schema: a client generator or contract tester sees every refusal."""

from __future__ import annotations

import importlib

import pytest

SERVICES = ("data", "scheduling", "goals", "notify")
WRITES = {"post", "put", "patch", "delete"}
PROBLEM_JSON = "application/problem+json"


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_lists_its_problems(service: str) -> None:
    api = importlib.import_module(f"aptt_{service}.main").build_app().openapi()
    assert "Problem" in api["components"]["schemas"]
    checked = 0
    for path, operations in api["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"422", "500"}
            if "401" in responses:  # an authenticated route
                expected |= {"403"} | ({"429"} if method in WRITES else set())
            if any(p["in"] == "path" for p in operation.get("parameters", [])):
                expected.add("404")
            if "requestBody" in operation:
                expected |= {"413", "422"}
            assert expected <= set(responses), (method, path, sorted(responses))
            for status, answer in responses.items():
                if status.startswith("4") and status not in ("410",):
                    assert PROBLEM_JSON in answer.get("content", {}), (method, path, status)
            checked += 1
    assert checked > 10


def test_authenticated_routes_list_401_403_and_429_for_writes() -> None:
    api = importlib.import_module("aptt_goals.main").build_app().openapi()
    set_goal = api["paths"]["/v1/goals"]["post"]["responses"]
    assert {"401", "403", "409", "413", "422", "429"} <= set(set_goal)
    read_goal = api["paths"]["/v1/goals/{goal_id}"]["get"]["responses"]
    assert {"401", "403", "404"} <= set(read_goal)
    assert "429" not in read_goal
    assert "413" not in read_goal
    problem = read_goal["404"]["content"][PROBLEM_JSON]["schema"]
    if "$ref" in problem:
        problem = api["components"]["schemas"][problem["$ref"].split("/")[-1]]
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["required"])
    health = api["paths"]["/healthz"]["get"]["responses"]
    assert "401" not in health
