"""A consumer in its own process, so a test can SIGKILL it mid-batch.

python consumer_worker.py BOOTSTRAP MONGO_URL SERVICE TOPIC
"""

from __future__ import annotations

import asyncio
import sys
from typing import ClassVar

from aptt_contracts.envelope import EventModel
from aptt_platform.consumer import ConsumerConfig, EventConsumer
from aptt_platform.events import ReceivedEvent
from aptt_platform.kafka import create_producer
from aptt_platform.mongo import Mongo, UnitOfWork
from aptt_platform.settings import ServiceSettings

NOTE_TYPE = "org.aptt.testkit.note.taken.v1"


async def main(bootstrap: str, mongo_url: str, name: str, topic: str) -> None:
    class NoteTaken(EventModel):
        event_type: ClassVar[str] = NOTE_TYPE
        subject_field: ClassVar[str] = "notebook_id"
        notebook_id: str
        note_id: str
        fail: bool = False

    NoteTaken.topic = topic
    settings = ServiceSettings(
        service_name=name,
        environment="test",
        kafka_bootstrap_servers=bootstrap,
        mongo_url=mongo_url,
        mongo_database=f"test_{name}",
        consumer_session_timeout_ms=6000,
        consumer_heartbeat_interval_ms=500,
        # Small batches: each commits on its own, so a kill lands between and inside them.
        consumer_batch_size=10,
    )
    mongo = Mongo(mongo_url, settings.database_name)

    async def slow_effect(uow: UnitOfWork, event: ReceivedEvent) -> None:
        assert isinstance(event.data, NoteTaken)
        await uow.collection("effects").update_one(
            {"_id": event.data.note_id}, {"$inc": {"count": 1}}, upsert=True, session=uow.session
        )
        await asyncio.sleep(0.1)  # a batch takes long enough to be killed in the middle

    producer = create_producer(settings)
    await producer.start()
    consumer = EventConsumer(
        config=ConsumerConfig(
            name=name,
            topics=[topic],
            handlers={NOTE_TYPE: slow_effect},
            models={NOTE_TYPE: NoteTaken},
        ),
        mongo=mongo,
        producer=producer,
        settings=settings,
    )
    await consumer.start()
    print("started", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
