"""How fast events travel: use case -> outbox -> relay -> Kafka -> consumer with dedupe.

- use case: one transaction writing a document and its event (compared with the raw
  two-insert transaction);
- relay: records already committed to the outbox, published until every one is on the topic
  (compared with raw produce);
- consume with dedupe: records already on the topic, handled by a roster-copy handler (a
  read-model upsert) with its dedupe record, until every effect is stored (compared with raw
  insert_many).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import ClassVar

from aiokafka import AIOKafkaConsumer
from aptt_contracts.catalogue import Topic, dlq_topic, retry_topic
from aptt_contracts.envelope import EventModel
from aptt_local.servers import LocalStack
from aptt_platform.consumer import ConsumerConfig, EventConsumer, RunHandler
from aptt_platform.events import ReceivedEvent
from aptt_platform.kafka import create_producer, ensure_topics
from aptt_platform.mongo import Mongo, UnitOfWork
from aptt_platform.readmodel import Change, ReadModel
from aptt_platform.relay import OutboxRelay
from aptt_platform.settings import ServiceSettings

from bench.figures import Figures, timed

USE_CASES = 500
EVENTS = 20_000
TYPE = "org.aptt.bench.student.upserted.v1"
STUDENTS = ReadModel("students", "student_id")


class Tick(EventModel):
    event_type: ClassVar[str] = TYPE
    topic: ClassVar[str] = "aptt.bench.students.v1"
    subject_field: ClassVar[str] = "student_id"
    student_id: str
    school_id: str
    guardian_ids: list[str]


async def run(stack: LocalStack, figures: Figures) -> None:
    name = "bench" + uuid.uuid4().hex[:6]
    Tick.topic = f"aptt.{name}.students.v1"
    settings = ServiceSettings(
        service_name=name,
        environment="test",
        kafka_bootstrap_servers=stack.kafka_bootstrap,
        mongo_url=stack.mongo_url,
        consumer_session_timeout_ms=6000,
        consumer_heartbeat_interval_ms=500,
    )
    await ensure_topics(
        settings,
        [
            Topic(name=Tick.topic, producer=name, consumers=(name,), description="", partitions=6),
            Topic(
                name=retry_topic(name), producer=name, consumers=(), description="", partitions=1
            ),
            Topic(name=dlq_topic(name), producer=name, consumers=(), description="", partitions=1),
        ],
    )
    mongo = Mongo(stack.mongo_url, settings.database_name)
    await mongo.ensure_indexes({STUDENTS.collection: [STUDENTS.index()]})
    producer = create_producer(settings)
    await producer.start()
    try:
        await _use_cases(mongo, figures)
        await _relay(mongo, producer, settings, figures)
        await _consume(mongo, producer, settings, figures)
    finally:
        await producer.stop()
        await mongo.client.drop_database(settings.database_name)
        await mongo.close()


def _tick(i: int) -> Tick:
    return Tick(
        district_id="bench",
        student_id=f"st-{i:07d}",
        school_id=f"s-{i % 40:03d}",
        guardian_ids=[f"g-{i:07d}a", f"g-{i:07d}b"],
    )


async def _use_cases(mongo: Mongo, figures: Figures) -> None:
    async def record(uow: UnitOfWork, i: int) -> None:
        await uow.collection("ticks").insert_one(
            {"_id": i, "district_id": "bench"}, session=uow.session
        )
        uow.publish(_tick(i))

    with timed() as t:
        for i in range(USE_CASES):
            await mongo.run(record, i)
    figures.rate(
        "use case + outbox write", USE_CASES / t[0], "txn/s", against="two-insert transaction"
    )


async def _relay(
    mongo: Mongo, producer: object, settings: ServiceSettings, figures: Figures
) -> None:
    async def fill(uow: UnitOfWork, start: int) -> None:
        for i in range(start, start + 1000):
            uow.publish(_tick(i))

    # Committed before the relay starts, as after an import: the relay reads a backlog.
    for start in range(USE_CASES, USE_CASES + EVENTS, 1000):
        await mongo.run(fill, start)
    relay = OutboxRelay(mongo=mongo, producer=producer, settings=settings)  # type: ignore[arg-type]
    with timed() as t:
        relay.start()
        await _until_on_topic(settings, Tick.topic, USE_CASES + EVENTS)
    await relay.stop()
    figures.rate(
        "relay publish (backlog of 20,000)",
        (USE_CASES + EVENTS) / t[0],
        "events/s",
        against="produce",
        aim=0.5,
    )


async def _until_on_topic(settings: ServiceSettings, topic: str, count: int) -> None:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=5000,
    )
    await consumer.start()
    try:
        seen = 0
        while seen < count:
            batch = await consumer.getmany(timeout_ms=500)
            seen += sum(len(records) for records in batch.values())
    finally:
        await consumer.stop()


async def _consume(
    mongo: Mongo, producer: object, settings: ServiceSettings, figures: Figures
) -> None:
    async def on_students(uow: UnitOfWork, events: list[tuple[Tick, ReceivedEvent]]) -> None:
        await STUDENTS.apply_many(
            uow,
            [
                Change(
                    event.district_id,
                    event.student_id,
                    meta.time,
                    {"school_id": event.school_id, "guardian_ids": event.guardian_ids},
                )
                for event, meta in events
            ],
        )

    consumer = EventConsumer(
        config=ConsumerConfig(
            name=settings.service_name,
            topics=[Tick.topic],
            handlers={TYPE: RunHandler(Tick, on_students)},
            models={TYPE: Tick},
        ),
        mongo=mongo,
        producer=producer,  # type: ignore[arg-type]
        settings=settings,
    )
    total = USE_CASES + EVENTS
    applied = mongo.db[STUDENTS.collection]
    await consumer.start()
    # The clock starts at the first applied event: joining the group takes seconds that say
    # nothing about the rate a running consumer keeps.
    while (first := await applied.count_documents({})) == 0:
        await asyncio.sleep(0.05)
    with timed() as t:
        while await applied.count_documents({}) < total:
            await asyncio.sleep(0.5)
    await consumer.stop()
    figures.rate(
        "consume with dedupe (read model)",
        (total - first) / t[0],
        "events/s",
        against="insert_many",
        aim=0.5,
    )
    figures.note("", "(consumer time from its first applied event)")
