"""Helpers for the goals service tests: the app on the real servers, a district's roster fed
through Kafka the way the data and scheduling services publish it, and tokens."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from aptt_contracts.data import (
    AssessmentResultRecorded,
    ClassroomUpserted,
    SchoolUpserted,
    StudentUpserted,
)
from aptt_contracts.goals import GOALS
from aptt_contracts.scheduling import AttendanceRecorded
from aptt_goals.main import build_app
from aptt_goals.settings import Settings
from aptt_local.kafkatools import publish, read_topic
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, random_id, running_app, service_settings
from aptt_platform.devissuer import DevIssuer
from aptt_platform.events import header_dict
from aptt_platform.mongo import Document
from aptt_platform.runtime import Runtime
from fastapi import FastAPI

# A fixed "now" for the service: 09:00 in Los Angeles on 15 October 2026.
NOW = datetime(2026, 10, 15, 16, 0, tzinfo=UTC)
TODAY = date(2026, 10, 15)
TIMEZONE = "America/Los_Angeles"


class MovableClock:
    """The service's clock in tests: still unless a test moves it."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class GoalsApp:
    url: str
    app: FastAPI
    stack: LocalStack
    issuer: DevIssuer
    clock: MovableClock

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def client(self, token: str | None = None, language: str | None = None) -> httpx.AsyncClient:
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if language is not None:
            headers["Accept-Language"] = language
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)

    async def find(self, collection: str, query: Document) -> Document | None:
        return await self.runtime.mongo.db[collection].find_one(query)

    async def wait_for(self, collection: str, query: Document, what: str) -> Document:
        async def found() -> bool:
            return await self.find(collection, query) is not None

        await eventually(found, timeout=30, what=what)
        doc = await self.find(collection, query)
        assert doc is not None
        return doc


@asynccontextmanager
async def goals_app(
    stack: LocalStack, issuer: DevIssuer, *, clock: MovableClock | None = None, **settings: Any
) -> AsyncIterator[GoalsApp]:
    clock = clock or MovableClock()
    values = service_settings(stack, "goals", issuer.issuer, **settings)
    app = build_app(Settings(**values), clock=clock)
    async with running_app(app) as url:
        yield GoalsApp(url=url, app=app, stack=stack, issuer=issuer, clock=clock)


@dataclass
class District:
    """One test's district: its own ids, so tests never see each other's data."""

    goals: GoalsApp
    district_id: str = field(default_factory=lambda: random_id("d"))
    school_id: str = field(default_factory=lambda: random_id("sch"))

    def token(self, subject: str, *roles: str, schools: list[str] | None = None) -> str:
        return self.goals.issuer.mint(
            subject=subject,
            district_id=self.district_id,
            roles=list(roles),
            school_ids=schools or [],
        )

    def guardian(self, guardian_id: str, language: str | None = None) -> httpx.AsyncClient:
        return self.goals.client(self.token(guardian_id, "guardian"), language)

    def teacher(self, teacher_id: str) -> httpx.AsyncClient:
        return self.goals.client(self.token(teacher_id, "teacher", schools=[self.school_id]))

    def school_admin(self, school_id: str | None = None) -> httpx.AsyncClient:
        schools = [school_id or self.school_id]
        return self.goals.client(self.token(random_id("sa"), "school_admin", schools=schools))

    def district_admin(self) -> httpx.AsyncClient:
        return self.goals.client(self.token(random_id("da"), "district_admin"))

    async def publish(self, *events: Any) -> None:
        await publish(self.goals.stack.kafka_bootstrap, *events)

    async def enrol(
        self,
        *,
        guardians: list[str],
        grade: int = 2,
        teacher_id: str = "t-1",
        school_id: str | None = None,
    ) -> tuple[str, str]:
        """A student in a classroom of the school; returns (student id, classroom id)."""
        school = school_id or self.school_id
        student, classroom = random_id("s"), random_id("c")
        await self.publish(
            SchoolUpserted(district_id=self.district_id, school_id=school, timezone=TIMEZONE),
            StudentUpserted(
                district_id=self.district_id,
                student_id=student,
                school_id=school,
                grade=grade,
                guardian_ids=guardians,
            ),
            ClassroomUpserted(
                district_id=self.district_id,
                classroom_id=classroom,
                school_id=school,
                grade=grade,
                teacher_ids=[teacher_id],
                student_ids=[student],
            ),
        )
        await self.goals.wait_for(
            "classrooms",
            {"district_id": self.district_id, "classroom_id": classroom},
            "the classroom in the read model",
        )
        await self.goals.wait_for(
            "students", {"district_id": self.district_id, "student_id": student}, "the student"
        )
        return student, classroom

    async def attend(self, student_id: str, guardian_id: str, *, present: bool = True) -> str:
        meeting = random_id("m")
        await self.publish(
            AttendanceRecorded(
                district_id=self.district_id,
                meeting_id=meeting,
                classroom_id="c",
                school_id=self.school_id,
                student_id=student_id,
                guardian_id=guardian_id,
                relationship="mother",
                present=present,
                focus_skill_code="orf",
            )
        )
        await self.goals.wait_for(
            "goal_openings",
            {
                "district_id": self.district_id,
                "student_id": student_id,
                "guardian_id": guardian_id,
                "meeting_id": meeting,
            },
            "the attendance record",
        )
        return meeting

    async def result(
        self, student_id: str, score: float, assessed_on: date, skill_code: str = "orf"
    ) -> str:
        result_id = random_id("r")
        await self.publish(
            AssessmentResultRecorded(
                district_id=self.district_id,
                result_id=result_id,
                student_id=student_id,
                school_id=self.school_id,
                skill_code=skill_code,
                score=score,
                assessed_on=assessed_on,
            )
        )
        await self.goals.wait_for(
            "results", {"district_id": self.district_id, "result_id": result_id}, "the result"
        )
        return result_id

    async def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """The goals events of this district published so far, payload plus `type`."""
        found = []
        for record in await read_topic(self.goals.stack.kafka_bootstrap, GOALS):
            headers = header_dict(record.headers)
            if headers["ce_district"].decode() != self.district_id:
                continue
            kind = headers["ce_type"].decode()
            if event_type is None or kind == event_type:
                found.append({"type": kind, **json.loads(record.value or b"{}")})
        return found


def goal_body(student_id: str, **changes: Any) -> dict[str, Any]:
    """A SMART goal for a grade 2 reader at 50 words a minute: 8 weeks, 60 words."""
    body: dict[str, Any] = {
        "student_id": student_id,
        "skill_code": "orf",
        "target": 60,
        "activities": [{"activity_code": "orf-read-aloud", "times": 5, "per": "week"}],
        "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + timedelta(days=56)).isoformat(),
    }
    body.update(changes)
    return body
