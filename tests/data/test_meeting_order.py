"""Scheduling's meeting events replayed out of order through the data service's handlers.

Retries travel through the retry topic, so a meeting's events may arrive in another order
than they were published: a cancellation stays, an older schedule or reschedule is ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aptt_contracts.envelope import EventModel
from aptt_contracts.scheduling import (
    TeamMeetingCancelled,
    TeamMeetingRescheduled,
    TeamMeetingScheduled,
)
from aptt_data import consumers
from aptt_data.settings import Settings
from aptt_data.store import CLASS_REPORTS
from aptt_local.servers import LocalStack
from aptt_local.testing import random_id, service_settings
from aptt_platform.devissuer import DevIssuer
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import Mongo

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AHEAD = datetime.now(UTC) + timedelta(days=20)


@pytest.fixture(scope="module")
async def mongo(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[Mongo]:
    settings = Settings(**service_settings(local_stack, "data", dev_issuer.issuer))
    runner = Mongo(local_stack.mongo_url, settings.database_name, config=settings.config())
    try:
        yield runner
    finally:
        await runner.close()


async def deliver(mongo: Mongo, event: EventModel, *, sent: datetime) -> None:
    """Run the handler of the service's table for an event published at `sent`."""
    meta = ReceivedEvent(
        id=str(uuid.uuid4()),
        type=event.event_type,
        source="/aptt/scheduling",
        subject=getattr(event, "meeting_id", None),
        district_id=getattr(event, "district_id", ""),
        time=sent,
        data=event,
        traceparent=None,
        topic=event.topic,
        partition=0,
        offset=0,
    )
    await mongo.run(consumers.HANDLERS[type(event)], event, meta)


def meeting(district: str, starts_at: datetime) -> dict[str, Any]:
    return {
        "district_id": district,
        "meeting_id": random_id("m"),
        "classroom_id": "c1",
        "school_id": "sch1",
        "starts_at": starts_at,
    }


async def report_of(mongo: Mongo, district: str, meeting_id: str) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = await mongo.db[CLASS_REPORTS].find_one(
        {"district_id": district, "meeting_id": meeting_id}
    )
    return doc


async def test_a_cancellation_stays_when_the_schedule_arrives_late(mongo: Mongo) -> None:
    district = random_id("d")
    facts = meeting(district, AHEAD)
    keys = {k: facts[k] for k in ("district_id", "meeting_id", "classroom_id", "school_id")}

    await deliver(mongo, TeamMeetingCancelled(**keys), sent=T0 + timedelta(minutes=5))
    await deliver(
        mongo,
        TeamMeetingScheduled(**facts, duration_minutes=75, focus_skill_code="orf"),
        sent=T0,
    )

    assert await report_of(mongo, district, facts["meeting_id"]) is None
    # No report, so no private numbers went out for a meeting that will not happen.
    assert await mongo.db["outbox"].count_documents({"district_id": district}) == 0


async def test_an_older_reschedule_after_a_newer_one_is_ignored(mongo: Mongo) -> None:
    district = random_id("d")
    facts = meeting(district, AHEAD)
    later, latest = AHEAD + timedelta(days=1), AHEAD + timedelta(days=2)
    await deliver(
        mongo,
        TeamMeetingScheduled(**facts, duration_minutes=75, focus_skill_code="orf"),
        sent=T0,
    )

    def moved(to: datetime, sent_from: datetime) -> TeamMeetingRescheduled:
        return TeamMeetingRescheduled(
            **{**facts, "starts_at": to}, previous_starts_at=sent_from, duration_minutes=75
        )

    await deliver(mongo, moved(latest, later), sent=T0 + timedelta(minutes=10))
    await deliver(mongo, moved(later, AHEAD), sent=T0 + timedelta(minutes=5))

    report = await report_of(mongo, district, facts["meeting_id"])
    assert report is not None
    assert report["starts_at"] == latest.replace(microsecond=latest.microsecond // 1000 * 1000)
    assert report["status"] == "scheduled"


async def test_a_reschedule_that_overtakes_the_schedule_keeps_its_time(mongo: Mongo) -> None:
    district = random_id("d")
    facts = meeting(district, AHEAD)
    moved_to = AHEAD + timedelta(days=3)
    await deliver(
        mongo,
        TeamMeetingRescheduled(
            **{**facts, "starts_at": moved_to}, previous_starts_at=AHEAD, duration_minutes=75
        ),
        sent=T0 + timedelta(minutes=5),
    )
    assert await report_of(mongo, district, facts["meeting_id"]) is None  # no skill known yet

    await deliver(
        mongo,
        TeamMeetingScheduled(**facts, duration_minutes=75, focus_skill_code="math-facts"),
        sent=T0,
    )

    report = await report_of(mongo, district, facts["meeting_id"])
    assert report is not None
    assert report["skill_code"] == "math-facts"
    assert report["starts_at"] == moved_to.replace(microsecond=moved_to.microsecond // 1000 * 1000)


async def test_a_duplicate_schedule_after_the_cancellation_does_not_revive_it(
    mongo: Mongo,
) -> None:
    district = random_id("d")
    facts = meeting(district, AHEAD)
    keys = {k: facts[k] for k in ("district_id", "meeting_id", "classroom_id", "school_id")}
    scheduled = TeamMeetingScheduled(**facts, duration_minutes=75, focus_skill_code="orf")
    await deliver(mongo, scheduled, sent=T0)
    assert await report_of(mongo, district, facts["meeting_id"]) is not None

    await deliver(mongo, TeamMeetingCancelled(**keys), sent=T0 + timedelta(minutes=5))
    await deliver(mongo, scheduled, sent=T0)  # retried copy of the first

    report = await report_of(mongo, district, facts["meeting_id"])
    assert report is not None
    assert report["status"] == "cancelled"
