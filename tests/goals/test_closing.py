"""Goals close at their end date, as met or not met, once: the background loop with a
clock the test moves. This module's app also runs a six-week district without attendance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aptt_contracts.goals import GoalClosed, GoalMet
from aptt_goals import service
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually
from aptt_platform.devissuer import DevIssuer

from .conftest import TODAY, District, GoalsApp, MovableClock, goal_body, goals_app


@pytest.fixture(scope="module")
async def goals(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[GoalsApp]:
    async with goals_app(
        local_stack,
        dev_issuer,
        clock=MovableClock(),
        goals_max_days=42,
        goals_require_attendance=False,
        goals_close_interval_seconds=0.2,
    ) as app:
        yield app


async def test_a_six_week_district_refuses_a_longer_goal(goals: GoalsApp) -> None:
    district = District(goals)
    student, _ = await district.enrol(guardians=["gd-1"])
    await district.result(student, 50, TODAY - timedelta(days=3))
    async with district.guardian("gd-1") as client:
        # No attendance needed in this district.
        status = (await client.get(f"/v1/students/{student}/goal-setting")).json()
        assert (status["open"], status["max_days"]) == (True, 42)
        too_long = await client.post("/v1/goals", json=goal_body(student))
        assert too_long.status_code == 422
        [time_bound] = [c for c in too_long.json()["checks"] if not c["passed"]]
        assert time_bound["reason"] == ("The goal ends 56 days after it starts, more than 42 days.")
        assert time_bound["suggestion"] == "Choose an end date on or before November 26, 2026."
        six_weeks = goal_body(student, target=58, ends_on=time_bound_end())
        assert (await client.post("/v1/goals", json=six_weeks)).status_code == 201


def time_bound_end() -> str:
    return (TODAY + timedelta(days=42)).isoformat()


async def test_goals_close_after_their_end_date_as_met_or_not_met_once(goals: GoalsApp) -> None:
    district = District(goals)
    reader, _ = await district.enrol(guardians=["gd-r"])
    slower, _ = await district.enrol(guardians=["gd-s"])
    ids = {}
    for student, guardian in ((reader, "gd-r"), (slower, "gd-s")):
        await district.result(student, 50, TODAY - timedelta(days=3))
        async with district.guardian(guardian) as client:
            body = goal_body(student, target=58, ends_on=time_bound_end())
            ids[student] = (await client.post("/v1/goals", json=body)).json()["goal_id"]
    await district.result(reader, 59, TODAY + timedelta(days=20))
    await district.result(slower, 54, TODAY + timedelta(days=20))

    async def met() -> bool:
        return len(await district.events(GoalMet.event_type)) == 1

    await eventually(met, what="the reader's goal met")
    mongo = goals.runtime.mongo

    # Late on the last day in the school's time zone, nothing is due yet.
    last_evening = datetime(2026, 11, 27, 7, 59, tzinfo=UTC)  # 23:59 on 26 Nov in LA
    assert await service.close_due_goals(mongo, now=last_evening) == 0

    goals.clock.now = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)  # 00:30 on 27 Nov in LA

    async def both_closed() -> bool:
        return len(await district.events(GoalClosed.event_type)) == 2

    await eventually(both_closed, what="the loop to close both goals")
    # Running it again, as another replica or after a restart would, closes nothing more.
    assert await service.close_due_goals(mongo, now=goals.clock.now) == 0
    closed = {e["goal_id"]: e for e in await district.events(GoalClosed.event_type)}
    assert len(closed) == 2
    assert closed[ids[reader]]["outcome"] == "met"
    assert closed[ids[slower]]["outcome"] == "not_met"
    assert closed[ids[slower]]["progress_percent"] == 50
    assert {e["reason"] for e in closed.values()} == {"ended"}

    async with district.guardian("gd-s") as client:
        goal = (await client.get(f"/v1/goals/{ids[slower]}")).json()
        assert (goal["status"], goal["outcome"], goal["closed_on"]) == (
            "closed",
            "not_met",
            "2026-11-26",
        )
        late = await client.post(
            f"/v1/goals/{ids[slower]}/practice",
            json={"practiced_on": "2026-11-26", "minutes": 15},
        )
        assert late.status_code == 422
        # The next goal starts from where this one ended.
        status = (await client.get(f"/v1/students/{slower}/goal-setting")).json()
        assert status["active_goal_ids"] == {}
        next_goal = goal_body(
            slower,
            target=60,
            starts_on="2026-11-27",
            ends_on=(datetime(2026, 11, 27).date() + timedelta(days=42)).isoformat(),
        )
        answer = await client.post("/v1/goals", json=next_goal)
        assert answer.status_code == 201, answer.text
        assert answer.json()["baseline"] == 54
