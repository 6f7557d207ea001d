"""Another district system reads our topics as docs/events.md shows: librdkafka, the
CloudEvents SDK's Kafka binding, and our JSON Schemas. The test runs the document's code."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aptt_contracts import generate
from aptt_contracts.catalogue import TOPICS_BY_NAME, Topic
from aptt_contracts.data import ClassroomUpserted, SkillDefined
from aptt_contracts.envelope import EventModel
from aptt_contracts.scheduling import MeetingWindow, MeetingWindowsCreated
from aptt_contracts.skills import GradeBenchmark
from aptt_local.kafkatools import publish
from aptt_local.servers import LocalStack
from aptt_platform.events import encode
from aptt_platform.kafka import ensure_topics
from aptt_platform.settings import ServiceSettings
from aptt_platform.tracing import new_trace
from jsonschema import ValidationError

EVENTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
SECTION = "### A subscriber in Python, with librdkafka and the CloudEvents SDK"
WAIT = 60.0
# The local broker joins a group in about half the session timeout (docs/local-stack.md).
LOCAL_BROKER = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}


@pytest.fixture(scope="module")
def subscriber_code() -> dict[str, Any]:
    """The functions of the document's Python block, run as an outside system would run it."""
    text = EVENTS_DOC.read_text()
    assert SECTION in text, "docs/events.md lost its subscriber section"
    block = re.search(r"```python\n(.*?)```", text.split(SECTION, 1)[1], re.S)
    assert block is not None
    namespace: dict[str, Any] = {}
    exec(compile(block[1], str(EVENTS_DOC), "exec"), namespace)  # noqa: S102
    return namespace


def settings(stack: LocalStack) -> ServiceSettings:
    return ServiceSettings(
        service_name="outside", environment="test", kafka_bootstrap_servers=stack.kafka_bootstrap
    )


def sample_events(district: str) -> list[EventModel]:
    classroom = f"class-{uuid.uuid4().hex[:8]}"
    return [
        ClassroomUpserted(
            district_id=district,
            classroom_id=classroom,
            school_id="school-1",
            grade=2,
            teacher_ids=["teacher-1"],
            student_ids=["student-1", "student-2"],
        ),
        SkillDefined(
            district_id=district,
            skill_code=f"reading-{uuid.uuid4().hex[:6]}",
            name={"en": "Sight words", "es": "Palabras frecuentes"},
            unit={"en": "words", "es": "palabras"},
            scale_min=0,
            scale_max=100,
            benchmarks=[
                GradeBenchmark(grade=1, fall=None, winter=20, spring=40, weekly_growth=1.2)
            ],
        ),
        MeetingWindowsCreated(
            district_id=district,
            classroom_id=classroom,
            school_id="school-1",
            calendar_id="calendar-1",
            template_id="three-meetings",
            school_year="2026-2027",
            windows=[
                MeetingWindow(
                    window_id="w1",
                    kind="team_meeting",
                    starts_on=date(2026, 9, 14),
                    ends_on=date(2026, 10, 9),
                    duration_minutes=75,
                    focus_area="reading",
                )
            ],
        ),
    ]


async def read_until(
    code: dict[str, Any], stack: LocalStack, topics: list[str], count: int, district: str
) -> list[Any]:
    """Run the document's loop until `count` events of `district` arrived; return those."""
    consumer = code["subscriber"](
        stack.kafka_bootstrap, f"district-sis-{uuid.uuid4().hex[:8]}", topics, LOCAL_BROKER
    )
    validators = code["load_validators"](generate.SCHEMAS)
    mine: list[Any] = []

    def store(event: Any) -> None:
        if event.get_extension("district") == district:
            mine.append(event)

    deadline = time.monotonic() + WAIT
    try:
        while len(mine) < count and time.monotonic() < deadline:
            await asyncio.to_thread(code["handle_next"], consumer, validators, store)
    finally:
        await asyncio.to_thread(consumer.close)
    return mine


async def test_an_outside_subscriber_reads_and_validates_every_record(
    local_stack: LocalStack, subscriber_code: dict[str, Any]
) -> None:
    district = f"district-{uuid.uuid4().hex[:8]}"
    events = sample_events(district)
    topics = sorted({e.topic for e in events})
    await ensure_topics(settings(local_stack), [TOPICS_BY_NAME[t] for t in topics])
    await publish(local_stack.kafka_bootstrap, *events)

    # Every record of these topics passes through the document's read(), which raises on a
    # record whose data does not match its type's schema; ours must all arrive.
    received = await read_until(subscriber_code, local_stack, topics, len(events), district)

    assert sorted(e.get_type() for e in received) == sorted(e.event_type for e in events)
    by_type = {e.get_type(): e for e in received}
    for event in events:
        cloud_event = by_type[event.event_type]
        assert cloud_event.get_data() == event.model_dump(mode="json")
        assert cloud_event.get_subject() == event.subject
        assert cloud_event.get_dataschema() == event.dataschema()
        assert isinstance(cloud_event.get_time(), datetime)


async def test_a_record_that_does_not_match_its_schema_is_refused(
    local_stack: LocalStack, subscriber_code: dict[str, Any]
) -> None:
    # A producer bug the models would have caught: a 5-minute window (the schema says >= 15).
    district = f"district-{uuid.uuid4().hex[:8]}"
    window = MeetingWindow.model_construct(
        window_id="w1",
        kind="team_meeting",
        starts_on=date(2026, 9, 14),
        ends_on=date(2026, 10, 9),
        duration_minutes=5,
        focus_area=None,
    )
    bad = MeetingWindowsCreated.model_construct(
        district_id=district,
        classroom_id="class-1",
        school_id="school-1",
        calendar_id="calendar-1",
        template_id="three-meetings",
        school_year="2026-2027",
        windows=[window],
    )
    # A topic of this test's own, so no service of the session reads the bad record.
    topic = f"outside-subscriber-{uuid.uuid4().hex[:8]}"
    await ensure_topics(
        settings(local_stack),
        [Topic(name=topic, producer="test", consumers=(), description="", partitions=1)],
    )
    headers, key, value = encode(bad, traceparent=new_trace().traceparent)
    producer = AIOKafkaProducer(bootstrap_servers=local_stack.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            value=value,
            key=key.encode(),
            headers=[(k, v.encode()) for k, v in headers.items()],
        )
    finally:
        await producer.stop()

    with pytest.raises(ValidationError) as refused:
        await read_until(subscriber_code, local_stack, [topic], 1, district)
    assert refused.value.validator == "minimum"
    assert list(refused.value.absolute_path) == ["windows", 0, "duration_minutes"]
