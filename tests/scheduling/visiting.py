"""Home-visit test helpers: a district whose educators opt in and whose families are invited."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aptt_contracts.scheduling import VISITS
from aptt_local.kafkatools import read_topic
from aptt_local.testing import eventually, random_id
from aptt_platform.events import header_dict
from aptt_platform.schoolyear import school_year_of

from .conftest import District, Scheduling, iso

YEAR = school_year_of(datetime.now(UTC).date())


def at(days: float, hour: int = 0) -> str:
    """A time in `days` days, on a quarter hour."""
    moment = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return iso(moment + timedelta(days=days, hours=hour))


@dataclass
class Programme:
    """A district whose families are invited and whose educators may opt in."""

    d: District
    educators: list[str] = field(default_factory=list)
    invitations: dict[str, str] = field(default_factory=dict)  # student id -> invitation id

    @property
    def client(self) -> Any:
        return self.d.api.client

    def educator(self, index: int) -> dict[str, str]:
        return self.d.headers(self.educators[index], "educator", schools=[self.d.school_id])

    async def opt_in(self, index: int, trained_on: date | None = None) -> None:
        answer = await self.client.post(
            f"/v1/schools/{self.d.school_id}/visit-educators",
            json={
                "school_year": YEAR,
                "trained_on": (trained_on or date.today() - timedelta(days=30)).isoformat(),
            },
            headers=self.educator(index),
        )
        assert answer.status_code == 201, answer.text

    async def invite(self, **body: Any) -> dict[str, Any]:
        answer = await self.client.post(
            f"/v1/classrooms/{self.d.classroom_id}/visit-invitations",
            json={"school_year": YEAR, **body},
            headers=self.d.school_admin,
        )
        assert answer.status_code == 201, answer.text
        batch: dict[str, Any] = answer.json()
        for invitation in batch["invited"]:
            self.invitations[invitation["student_id"]] = invitation["invitation_id"]
        return batch

    async def answer(self, student: int, yes: bool) -> dict[str, Any]:
        student_id = self.d.students[student]
        answer = await self.client.put(
            f"/v1/visit-invitations/{self.invitations[student_id]}/answer",
            json={"answer": "yes" if yes else "no"},
            headers=self.d.guardian(student),
        )
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    async def propose(
        self, student: int, pair: tuple[int, int] = (0, 1), *, times: list[str] | None = None
    ) -> Any:
        return await self.client.post(
            "/v1/home-visits",
            json={
                "invitation_id": self.invitations[self.d.students[student]],
                "educator_ids": [self.educators[pair[0]], self.educators[pair[1]]],
                "times": times or [at(3, 1), at(4, 1)],
                "duration_minutes": 60,
            },
            headers=self.educator(pair[0]),
        )

    async def proposed(self, student: int, pair: tuple[int, int] = (0, 1), **kw: Any) -> str:
        answer = await self.propose(student, pair, **kw)
        assert answer.status_code == 201, answer.text
        visit_id: str = answer.json()["visit_id"]
        return visit_id

    async def choose(self, student: int, visit_id: str, starts_at: str, **body: Any) -> Any:
        return await self.client.post(
            f"/v1/home-visits/{visit_id}/choose",
            json={"starts_at": starts_at, "place_kind": "home", **body},
            headers=self.d.guardian(student),
        )


async def visit_events(p: Programme, event_type: str, *, count: int = 1) -> list[dict[str, Any]]:
    """The district's events of a type on the visits topic, once at least `count` are out."""
    found: list[dict[str, Any]] = []

    async def enough() -> bool:
        found[:] = [
            json.loads(r.value or b"{}")
            for r in await read_topic(p.d.api.stack.kafka_bootstrap, VISITS)
            if header_dict(r.headers).get("ce_district") == p.d.district_id.encode()
            and header_dict(r.headers).get("ce_type") == event_type.encode()
        ]
        return len(found) >= count

    await eventually(enough, what=f"{count} {event_type} event(s)")
    return found


async def programme(
    scheduling: Scheduling, *, students: int = 2, educators: int = 3, opted_in: int = 3
) -> Programme:
    p = Programme(
        d=await scheduling.district(students=students),
        educators=[random_id("edu") for _ in range(educators)],
    )
    for index in range(opted_in):
        await p.opt_in(index)
    await p.invite()
    return p
