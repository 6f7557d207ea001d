"""The scheduling service on the real broker and database, and a roster to feed it.

Each test module starts the app once (`scheduling` fixture); each test makes its own
district with `await scheduling.district(...)`, which publishes the roster the way the data
service does and waits until scheduling's read model holds it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aptt_contracts.data import ClassroomUpserted, SchoolUpserted, StudentUpserted
from aptt_contracts.envelope import EventModel
from aptt_contracts.scheduling import MEETINGS
from aptt_local.kafkatools import publish, read_topic
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, random_id, running_app, service_settings
from aptt_platform.consumer import adapt
from aptt_platform.devissuer import DevIssuer
from aptt_platform.events import ReceivedEvent, header_dict
from aptt_platform.mongo import Mongo
from aptt_scheduling.consumers import HANDLERS
from aptt_scheduling.main import build_app
from aptt_scheduling.settings import Config, Settings
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

TIMEZONE = "America/Los_Angeles"


@dataclass
class District:
    """One test's district: a school, a classroom with its teacher, students and guardians."""

    api: Scheduling
    district_id: str
    school_id: str
    classroom_id: str
    teacher_id: str
    guardians: dict[str, list[str]]  # student id -> guardian ids
    more: dict[str, Any] = field(default_factory=dict)

    @property
    def students(self) -> list[str]:
        return list(self.guardians)

    def headers(
        self,
        subject: str,
        *roles: str,
        schools: list[str] | None = None,
        district_id: str | None = None,
    ) -> dict[str, str]:
        token = self.api.issuer.mint(
            subject=subject,
            district_id=district_id or self.district_id,
            roles=list(roles),
            school_ids=schools,
        )
        return {"Authorization": f"Bearer {token}"}

    @property
    def teacher(self) -> dict[str, str]:
        return self.headers(self.teacher_id, "teacher", schools=[self.school_id])

    @property
    def district_admin(self) -> dict[str, str]:
        return self.headers(random_id("admin"), "district_admin")

    @property
    def school_admin(self) -> dict[str, str]:
        return self.headers(random_id("principal"), "school_admin", schools=[self.school_id])

    def guardian(self, student_index: int = 0, guardian_index: int = 0) -> dict[str, str]:
        student = self.students[student_index]
        return self.headers(self.guardians[student][guardian_index], "guardian")

    async def schedule(self, *, in_days: float = 10, **body: Any) -> dict[str, Any]:
        """Schedule a team meeting as the class's teacher; return the created meeting."""
        payload = {
            "classroom_id": self.classroom_id,
            "starts_at": iso(datetime.now(UTC) + timedelta(days=in_days)),
            "location": "Room 12",
            "focus_skill_code": "orf",
            **body,
        }
        answer = await self.api.client.post("/v1/team-meetings", json=payload, headers=self.teacher)
        assert answer.status_code == 201, answer.text
        meeting: dict[str, Any] = answer.json()
        return meeting

    async def published(self, event_type: str, *, count: int = 1) -> list[dict[str, Any]]:
        """The payloads of this district's events of a type, once at least `count` are out."""
        found: list[dict[str, Any]] = []

        async def enough() -> bool:
            found[:] = await self.api.events(self.district_id, event_type)
            return len(found) >= count

        await eventually(enough, what=f"{count} {event_type} event(s)")
        return found


def iso(moment: datetime) -> str:
    """A meeting time as a teacher gives it: to the second, with its offset."""
    return moment.replace(microsecond=0).isoformat()


class Scheduling:
    def __init__(
        self,
        url: str,
        stack: LocalStack,
        issuer: DevIssuer,
        db: AsyncDatabase[Any],
        config: Config,
    ) -> None:
        self.url = url
        self.config = config
        self.stack = stack
        self.issuer = issuer
        self.db = db
        self.client = httpx.AsyncClient(base_url=url, timeout=30)

    async def roster(self, *events: EventModel) -> None:
        await publish(self.stack.kafka_bootstrap, *events)

    async def district(
        self,
        *,
        students: int = 3,
        guardians_per_student: int = 2,
        timezone: str = TIMEZONE,
        district_id: str | None = None,
    ) -> District:
        district = District(
            api=self,
            district_id=district_id or random_id("d"),
            school_id=random_id("sch"),
            classroom_id=random_id("cls"),
            teacher_id=random_id("tch"),
            guardians={
                random_id("stu"): [random_id("gdn") for _ in range(guardians_per_student)]
                for _ in range(students)
            },
        )
        d = district.district_id
        # Students before their classroom and the school last: arrival order is not promised.
        await self.roster(
            *(
                StudentUpserted(
                    district_id=d, student_id=s, school_id=district.school_id, guardian_ids=g
                )
                for s, g in district.guardians.items()
            ),
            ClassroomUpserted(
                district_id=d,
                classroom_id=district.classroom_id,
                school_id=district.school_id,
                grade=3,
                teacher_ids=[district.teacher_id],
                student_ids=district.students,
            ),
            SchoolUpserted(district_id=d, school_id=district.school_id, timezone=timezone),
        )
        await self.wait_for(
            d,
            classrooms=[district.classroom_id],
            students=district.students,
            schools=[district.school_id],
        )
        return district

    async def wait_for(
        self,
        district_id: str,
        *,
        classrooms: Sequence[str] = (),
        students: Sequence[str] = (),
        schools: Sequence[str] = (),
    ) -> None:
        """Wait until scheduling's read model holds these roster records."""

        async def arrived() -> bool:
            for collection, field_name, ids in (
                ("classrooms", "classroom_id", classrooms),
                ("students", "student_id", students),
                ("schools", "school_id", schools),
            ):
                query = {"district_id": district_id, field_name: {"$in": list(ids)}}
                if await self.db[collection].count_documents(query) < len(ids):
                    return False
            return True

        await eventually(arrived, what="the roster to reach scheduling's read model")

    async def deliver(self, event: EventModel, *, time: datetime) -> None:
        """Run the consumer's handler for an event as if it had been delivered at `time`.

        For what the broker cannot easily stage: an old record arriving after a newer one
        (a retried record).
        """
        handler = adapt(HANDLERS)[event.event_type]
        received = ReceivedEvent(
            id=random_id("evt"),
            type=event.event_type,
            source=event.source(),
            subject=event.subject,
            district_id=event.district_id,
            time=time,
            data=event,
            traceparent=None,
            topic=event.topic,
            partition=0,
            offset=0,
        )
        mongo = Mongo(self.stack.mongo_url, self.db.name, config=self.config)
        try:
            await mongo.run(handler, received)
        finally:
            await mongo.close()

    async def events(self, district_id: str, event_type: str) -> list[dict[str, Any]]:
        found = []
        for record in await read_topic(self.stack.kafka_bootstrap, MEETINGS):
            headers = header_dict(record.headers)
            if (
                headers.get("ce_district") == district_id.encode()
                and headers.get("ce_type") == event_type.encode()
            ):
                found.append(json.loads(record.value or b"{}"))
        return found


@pytest.fixture(scope="module")
async def scheduling(
    request: pytest.FixtureRequest, local_stack: LocalStack, dev_issuer: DevIssuer
) -> AsyncIterator[Scheduling]:
    """The app, once per module; a module may set SCHEDULING_SETTINGS = {...} overrides."""
    overrides = getattr(request.module, "SCHEDULING_SETTINGS", {})
    settings = Settings(
        **service_settings(local_stack, "scheduling", dev_issuer.issuer, **overrides)
    )
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(local_stack.mongo_url, tz_aware=True)
    async with running_app(build_app(settings)) as url:
        api = Scheduling(
            url, local_stack, dev_issuer, mongo[settings.database_name], settings.config()
        )
        try:
            yield api
        finally:
            await api.client.aclose()
            await mongo.close()
