"""How fast events travel: use case -> outbox -> relay -> Kafka -> consumer with dedupe.

Prints use cases per second (each one transaction writing a document and its event), relay
publishing rate, and consumer handling rate including the dedupe record, on this machine.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import ClassVar

from aptt_contracts.catalogue import Topic, dlq_topic, retry_topic
from aptt_contracts.envelope import EventModel
from aptt_local.servers import LocalStack
from aptt_platform.consumer import ConsumerConfig, EventConsumer
from aptt_platform.events import ReceivedEvent
from aptt_platform.kafka import create_producer, ensure_topics
from aptt_platform.mongo import Mongo, UnitOfWork
from aptt_platform.relay import OutboxRelay
from aptt_platform.settings import ServiceSettings

EVENTS = 2000
TYPE = "org.aptt.bench.tick.recorded.v1"


class Tick(EventModel):
    event_type: ClassVar[str] = TYPE
    topic: ClassVar[str] = "aptt.bench.ticks.v1"
    subject_field: ClassVar[str] = "tick_id"
    tick_id: str


async def run(stack: LocalStack) -> None:
    name = "bench" + uuid.uuid4().hex[:6]
    Tick.topic = f"aptt.{name}.ticks.v1"
    settings = ServiceSettings(
        service_name=name,
        environment="test",
        kafka_bootstrap_servers=stack.kafka_bootstrap,
        mongo_url=stack.mongo_url,
        consumer_session_timeout_ms=6000,
        consumer_heartbeat_interval_ms=500,
        relay_batch_size=500,
        consumer_batch_size=500,
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
    producer = create_producer(settings)
    await producer.start()

    async def record(uow: UnitOfWork, tick_id: str) -> None:
        await uow.collection("ticks").insert_one(
            {"_id": tick_id, "district_id": "bench"}, session=uow.session
        )
        uow.publish(Tick(district_id="bench", tick_id=tick_id))

    started = time.perf_counter()
    for i in range(EVENTS):
        await mongo.run(record, f"t{i}")
    writes = time.perf_counter() - started

    relay = OutboxRelay(mongo=mongo, producer=producer, settings=settings)
    started = time.perf_counter()
    published = 0
    while published < EVENTS:
        published += await relay.publish_pending()
    relaying = time.perf_counter() - started

    async def handle(uow: UnitOfWork, event: ReceivedEvent) -> None:
        await uow.collection("seen").insert_one(
            {"_id": event.id, "district_id": "bench"}, session=uow.session
        )

    consumer = EventConsumer(
        config=ConsumerConfig(
            name=name, topics=[Tick.topic], handlers={TYPE: handle}, models={TYPE: Tick}
        ),
        mongo=mongo,
        producer=producer,
        settings=settings,
    )
    await consumer.start()
    while not consumer.ready:
        await asyncio.sleep(0.05)
    started = time.perf_counter()
    while await mongo.db["seen"].count_documents({}) < EVENTS:
        await asyncio.sleep(0.05)
    consuming = time.perf_counter() - started
    await consumer.stop()
    await producer.stop()
    await mongo.close()

    print(f"event path, {EVENTS} events on Tansu + SecantusDB (2 cores):")
    print(
        f"  use case + outbox write : {EVENTS / writes:8.0f} per second "
        f"({writes / EVENTS * 1000:.2f} ms each)"
    )
    print(f"  relay publish + mark    : {EVENTS / relaying:8.0f} events per second")
    print(
        f"  consume with dedupe     : {EVENTS / consuming:8.0f} events per second "
        "(after the group formed)"
    )
