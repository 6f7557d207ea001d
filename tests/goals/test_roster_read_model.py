"""The roster and skills as goals keeps them, when retries reorder their events: each event
is replayed through the service's own handlers with the envelope time the producer gave it.
A removal stays removed against a late older upsert; an older upsert after a newer one is
ignored; what users reach follows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aptt_contracts.data import (
    AssessmentResultRecorded,
    ClassroomRemoved,
    ClassroomUpserted,
    SchoolUpserted,
    SkillDefined,
    StudentRemoved,
    StudentUpserted,
)
from aptt_contracts.envelope import EventModel
from aptt_contracts.scheduling import AttendanceRecorded
from aptt_contracts.skills import GradeBenchmark
from aptt_goals import store
from aptt_goals.consumers import HANDLERS
from aptt_local.servers import LocalStack
from aptt_local.testing import random_id
from aptt_platform.devissuer import DevIssuer
from aptt_platform.events import ReceivedEvent

from .conftest import TIMEZONE, TODAY, District, GoalsApp, goal_body, goals_app

# When the data service produced each event: T1 after T0, T2 after T1.
T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
T2 = T0 + timedelta(minutes=10)


@pytest.fixture(scope="module")
async def goals(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[GoalsApp]:
    async with goals_app(local_stack, dev_issuer) as app:
        yield app


def envelope(event: EventModel, at: datetime) -> ReceivedEvent:
    return ReceivedEvent(
        id=str(uuid.uuid4()),
        type=event.event_type,
        source="/aptt/data",
        subject=None,
        district_id=str(event.district_id),
        time=at,
        data=event,
        traceparent=None,
        topic=event.topic,
        partition=0,
        offset=0,
    )


async def replay(goals: GoalsApp, *events: tuple[EventModel, datetime]) -> None:
    """Hand each event to its handler, in this order, each in its own transaction."""
    for event, at in events:
        await goals.runtime.mongo.run(HANDLERS[type(event)], event, envelope(event, at))


class Roster:
    """One district's roster events, built the way the data service writes them."""

    def __init__(self, district: District) -> None:
        self.district = district
        self.d = district.district_id
        self.school = district.school_id
        self.student = random_id("s")
        self.classroom = random_id("c")

    def school_upserted(self, timezone: str = TIMEZONE) -> SchoolUpserted:
        return SchoolUpserted(district_id=self.d, school_id=self.school, timezone=timezone)

    def student_upserted(self, *guardians: str) -> StudentUpserted:
        return StudentUpserted(
            district_id=self.d,
            student_id=self.student,
            school_id=self.school,
            grade=2,
            guardian_ids=list(guardians),
        )

    def student_removed(self) -> StudentRemoved:
        return StudentRemoved(district_id=self.d, student_id=self.student, school_id=self.school)

    def classroom_upserted(self, *teachers: str) -> ClassroomUpserted:
        return ClassroomUpserted(
            district_id=self.d,
            classroom_id=self.classroom,
            school_id=self.school,
            grade=2,
            teacher_ids=list(teachers),
            student_ids=[self.student],
        )

    def classroom_removed(self) -> ClassroomRemoved:
        return ClassroomRemoved(
            district_id=self.d, classroom_id=self.classroom, school_id=self.school
        )

    def attended(self, guardian: str) -> AttendanceRecorded:
        return AttendanceRecorded(
            district_id=self.d,
            meeting_id=random_id("m"),
            classroom_id=self.classroom,
            school_id=self.school,
            student_id=self.student,
            guardian_id=guardian,
            relationship="father",
            present=True,
        )

    def result(self, score: float) -> AssessmentResultRecorded:
        return AssessmentResultRecorded(
            district_id=self.d,
            result_id=random_id("r"),
            student_id=self.student,
            school_id=self.school,
            skill_code="orf",
            score=score,
            assessed_on=TODAY - timedelta(days=3),
        )


async def enrolled(goals: GoalsApp, guardian: str = "gd-1", teacher: str = "t-1") -> Roster:
    """A student in a class, with a starting score and a guardian who came to the meeting."""
    roster = Roster(District(goals))
    await replay(
        goals,
        (roster.school_upserted(), T0),
        (roster.student_upserted(guardian), T0),
        (roster.classroom_upserted(teacher), T0),
        (roster.result(50), T0),
        (roster.attended(guardian), T0),
    )
    return roster


async def test_a_removed_classroom_stays_removed_when_an_older_upsert_comes_late(
    goals: GoalsApp,
) -> None:
    roster = await enrolled(goals)
    async with roster.district.guardian("gd-1") as client:
        goal = (await client.post("/v1/goals", json=goal_body(roster.student))).json()["goal_id"]
    await replay(
        goals,
        (roster.classroom_upserted("t-1"), T1),
        (roster.classroom_removed(), T2),
        # The upsert of T1 again, retried after the removal.
        (roster.classroom_upserted("t-1"), T1),
    )
    async with roster.district.teacher("t-1") as teacher:
        assert (await teacher.get(f"/v1/classrooms/{roster.classroom}/goals")).status_code == 404
        # The removed class no longer makes t-1 this child's teacher.
        assert (await teacher.get(f"/v1/goals/{goal}")).status_code == 403
    kept = await goals.find(
        "classrooms", {"district_id": roster.d, "classroom_id": roster.classroom}
    )
    assert kept is not None, "a tombstone, not a deleted document"
    assert kept["removed"] is True


async def test_a_removed_student_stays_removed_and_keeps_their_goals_readable(
    goals: GoalsApp,
) -> None:
    roster = await enrolled(goals)
    async with roster.district.guardian("gd-1") as client:
        goal = (await client.post("/v1/goals", json=goal_body(roster.student))).json()["goal_id"]
    await replay(
        goals,
        (roster.student_removed(), T2),
        (roster.student_upserted("gd-1"), T1),
    )
    async with roster.district.guardian("gd-1") as client:
        assert (await client.get(f"/v1/goals/{goal}")).status_code == 200
        status = (await client.get(f"/v1/students/{roster.student}/goal-setting")).json()
        assert status["open"] is False
        math = goal_body(
            roster.student,
            skill_code="math-facts",
            baseline=20,
            target=24,
            activities=[{"activity_code": "math-facts-dice", "times": 3, "per": "week"}],
        )
        assert (await client.post("/v1/goals", json=math)).status_code == 404
        closing = await client.post(f"/v1/goals/{goal}/close")
        assert closing.status_code == 404, "no one acts any more for a student who left"


async def test_a_student_enrolled_again_after_removal_gets_goals_again(goals: GoalsApp) -> None:
    roster = await enrolled(goals)
    await replay(goals, (roster.student_removed(), T1), (roster.student_upserted("gd-1"), T2))
    async with roster.district.guardian("gd-1") as client:
        answer = await client.post("/v1/goals", json=goal_body(roster.student))
        assert answer.status_code == 201, answer.text


async def test_an_older_upsert_after_a_newer_one_is_ignored(goals: GoalsApp) -> None:
    roster = await enrolled(goals, guardian="gd-old", teacher="t-old")
    await replay(
        goals,
        (roster.student_upserted("gd-new"), T2),
        (roster.classroom_upserted("t-new"), T2),
        (roster.school_upserted("America/New_York"), T2),
        # Retried late: what the data service said at T1, before the changes of T2.
        (roster.student_upserted("gd-old"), T1),
        (roster.classroom_upserted("t-old"), T1),
        (roster.school_upserted("Pacific/Honolulu"), T1),
        (roster.attended("gd-new"), T2),
    )
    async with roster.district.guardian("gd-old") as client:
        assert (await client.get(f"/v1/students/{roster.student}/goals")).status_code == 404
    async with roster.district.guardian("gd-new") as client:
        answer = await client.post("/v1/goals", json=goal_body(roster.student))
        assert answer.status_code == 201, answer.text
        goal = answer.json()["goal_id"]
    async with roster.district.teacher("t-old") as teacher:
        assert (await teacher.get(f"/v1/goals/{goal}")).status_code == 403
    async with roster.district.teacher("t-new") as teacher:
        assert (await teacher.get(f"/v1/goals/{goal}")).status_code == 200
    timezone = await goals.runtime.mongo.run(
        lambda uow: store.school_timezone(uow, roster.d, roster.school)
    )
    assert timezone == "America/New_York"


async def test_an_older_skill_definition_after_a_newer_one_is_ignored(goals: GoalsApp) -> None:
    district = District(goals)

    def defined(weekly_growth: float) -> SkillDefined:
        return SkillDefined(
            district_id=district.district_id,
            skill_code="letter-sounds",
            name={"en": "Letter sounds"},
            unit={"en": "sounds per minute"},
            scale_min=0,
            scale_max=100,
            benchmarks=[
                GradeBenchmark(grade=1, fall=20, winter=35, spring=50, weekly_growth=weekly_growth)
            ],
        )

    await replay(goals, (defined(2.0), T2), (defined(1.0), T1))
    [skill] = await goals.runtime.mongo.run(
        lambda uow: store.district_skills(uow, district.district_id)
    )
    assert skill.growth_by_grade == {1: 2.0}


async def test_the_same_event_twice_changes_nothing_the_second_time(goals: GoalsApp) -> None:
    roster = await enrolled(goals)
    before = await goals.find("students", {"district_id": roster.d, "student_id": roster.student})
    await replay(goals, (roster.student_upserted("gd-1"), T0))
    after = await goals.find("students", {"district_id": roster.d, "student_id": roster.student})
    assert before == after
