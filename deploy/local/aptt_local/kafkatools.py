"""Small Kafka helpers for tests and dev commands: publish an event, read a topic."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from aptt_contracts.envelope import EventModel
from aptt_platform.events import encode
from aptt_platform.tracing import new_trace


async def publish(bootstrap: str, *events: EventModel) -> None:
    """Publish events exactly as a service's relay would (CloudEvents binary mode)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            headers, key, value = encode(event, traceparent=new_trace().traceparent)
            await producer.send_and_wait(
                event.topic,
                value=value,
                key=key.encode(),
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
    finally:
        await producer.stop()


async def read_topic(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record in a topic right now, from the beginning, without a consumer group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[ConsumerRecord[bytes, bytes]] = []
        empty_polls = 0
        while empty_polls < 2:
            batch = await consumer.getmany(timeout_ms=400)
            empty_polls = 0 if batch else empty_polls + 1
            for recs in batch.values():
                records.extend(recs)
        return records
    finally:
        await consumer.stop()
