"""A small pipeline on the real broker and database: use case -> outbox -> relay -> consumer.

Each test gets its own service name, so its topics, consumer groups and database are its own.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest
from aiokafka.structs import ConsumerRecord
from aptt_contracts.catalogue import Topic, dlq_topic, retry_topic
from aptt_contracts.envelope import EventModel
from aptt_local.kafkatools import read_topic
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, random_name, service_settings
from aptt_platform.consumer import ConsumerConfig, EventConsumer, Handler
from aptt_platform.events import ReceivedEvent
from aptt_platform.kafka import TopicKeeper, create_producer, ensure_topics
from aptt_platform.mongo import Mongo, UnitOfWork
from aptt_platform.relay import OutboxRelay
from aptt_platform.settings import ServiceSettings

NOTE_TYPE = "org.aptt.testkit.note.taken.v1"


class NoteTaken(EventModel):
    event_type: ClassVar[str] = NOTE_TYPE
    # Every note of a notebook has the same key, so they share one partition, in order.
    subject_field: ClassVar[str] = "notebook_id"

    notebook_id: str
    note_id: str
    fail: bool = False


class Pipeline:
    """Outbox relay and consumer of one test service, with a note-taking use case."""

    def __init__(self, stack: LocalStack, handler: Handler | None = None, **overrides: Any):
        self.name = "t" + random_name()
        self.district = "d-" + uuid.uuid4().hex[:8]
        self.topic = f"aptt.{self.name}.notes.v1"
        self.notebook = "nb-" + uuid.uuid4().hex[:8]
        self.model: type[NoteTaken] = type(
            "NoteTaken", (NoteTaken,), {"topic": self.topic, "__module__": __name__}
        )
        # The database is named after the service so a consumer in another process
        # (consumer_worker.py) writes its effects where this pipeline reads them.
        values = service_settings(
            stack,
            self.name,
            issuer_url="http://127.0.0.1:1",  # no routes here: nothing verifies tokens
            mongo_database=f"test_{self.name}",
            consumer_max_retries=2,
        )
        self.settings = ServiceSettings(**{**values, **overrides})
        self.mongo = Mongo(stack.mongo_url, self.settings.database_name)
        self.keeper = TopicKeeper(self.settings, self.topics())
        self.producer = create_producer(self.settings)
        self.relay = self.new_relay()
        self.handler: Handler = handler or self.count_effect
        self.consumer: EventConsumer | None = None

    def new_relay(self) -> OutboxRelay:
        return OutboxRelay(
            mongo=self.mongo, producer=self.producer, settings=self.settings, topics=self.keeper
        )

    async def count_effect(self, uow: UnitOfWork, event: ReceivedEvent) -> None:
        data = event.data
        assert isinstance(data, NoteTaken)
        if data.fail:
            raise RuntimeError(f"cannot handle note {data.note_id}")
        await uow.collection("effects").update_one(
            {"_id": data.note_id}, {"$inc": {"count": 1}}, upsert=True, session=uow.session
        )

    def topics(self) -> list[Topic]:
        return [
            Topic(
                name=self.topic,
                producer=self.name,
                consumers=(self.name,),
                description="",
                partitions=3,
            ),
            Topic(
                name=retry_topic(self.name),
                producer=self.name,
                consumers=(),
                description="",
                partitions=1,
            ),
            Topic(
                name=dlq_topic(self.name),
                producer=self.name,
                consumers=(),
                description="",
                partitions=1,
            ),
        ]

    async def start(self, *, consume: bool = True, relay: bool = True) -> None:
        await ensure_topics(self.settings, self.topics())
        await self.producer.start()
        if relay:
            self.relay.start()
        if consume:
            await self.start_consumer()

    async def start_consumer(self, handler: Handler | None = None) -> None:
        self.consumer = EventConsumer(
            config=ConsumerConfig(
                name=self.name,
                topics=[self.topic],
                handlers={NOTE_TYPE: handler or self.run_handler},
                models={NOTE_TYPE: self.model},
            ),
            mongo=self.mongo,
            producer=self.producer,
            settings=self.settings,
            topics=self.keeper,
        )
        await self.consumer.start()
        consumer = self.consumer
        await eventually(lambda: _true(consumer.ready), what="consumer to join its group")

    async def run_handler(self, uow: UnitOfWork, event: ReceivedEvent) -> None:
        await self.handler(uow, event)

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
        await self.relay.stop()
        await self.producer.stop()
        await self.mongo.close()

    async def take_note(
        self, note_id: str, *, fail: bool = False, district: str | None = None
    ) -> None:
        district = district or self.district

        async def use_case(uow: UnitOfWork) -> None:
            await uow.collection("notes").insert_one(
                {"_id": note_id, "district_id": district}, session=uow.session
            )
            uow.publish(
                self.model(
                    district_id=district, notebook_id=self.notebook, note_id=note_id, fail=fail
                )
            )

        await self.mongo.run(use_case)

    async def effects(self) -> dict[str, int]:
        docs = await self.mongo.db["effects"].find().to_list()
        return {d["_id"]: d["count"] for d in docs}

    async def outbox(self) -> list[dict[str, Any]]:
        return await self.mongo.db["outbox"].find().sort("_id").to_list()

    async def read_topic(self, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
        return await read_topic(self.settings.kafka_bootstrap_servers, topic)


async def _true(value: bool) -> bool:
    return value


@pytest.fixture
async def pipeline(local_stack: LocalStack) -> AsyncIterator[Pipeline]:
    p = Pipeline(local_stack)
    await p.start()
    try:
        yield p
    finally:
        await p.stop()
