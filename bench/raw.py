"""Raw rates of the local servers, measured in the same run as the platform's figures.

MongoDB (SecantusDB): insert_one, insert_many, a two-insert transaction, inserts into a
collection with a unique index from 16 clients at once. Kafka (Tansu): produce, consume.
"""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aptt_local.servers import LocalStack
from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from bench.figures import Figures, timed

DOC = {"district_id": "bench", "school_id": "s-000001", "grade": 3, "note": "x" * 120}


async def measure(stack: LocalStack, figures: Figures) -> None:
    await _mongo(stack.mongo_url, figures)
    await _kafka(stack.kafka_bootstrap, figures)


async def _mongo(url: str, figures: Figures) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(url)
    db = client["bench_raw_" + uuid.uuid4().hex[:6]]
    try:
        n = 500
        with timed() as t:
            for i in range(n):
                await db["one"].insert_one({**DOC, "_id": i})
        figures.raw_rate("insert_one", n / t[0], "docs/s")

        n = 20_000
        with timed() as t:
            for start in range(0, n, 1000):
                await db["many"].insert_many(
                    [{**DOC, "_id": i} for i in range(start, start + 1000)]
                )
        figures.raw_rate("insert_many", n / t[0], "docs/s")

        n = 300
        with timed() as t:
            for i in range(n):
                async with client.start_session() as session:

                    async def two(session: object, i: int = i) -> None:
                        await db["txn_a"].insert_one({**DOC, "_id": i}, session=session)
                        await db["txn_b"].insert_one({**DOC, "_id": i}, session=session)

                    await session.with_transaction(two)
        figures.raw_rate("two-insert transaction", n / t[0], "txn/s")

        figures.raw_rate("unique-index insert (16 clients)", await unique_inserts(db), "docs/s")
    finally:
        await client.drop_database(db.name)
        await client.close()


async def unique_inserts(db: AsyncDatabase[dict[str, object]], n: int = 2000) -> float:
    """Inserts per second into a collection with a unique index, from 16 clients at once."""
    collection = db["unique_" + uuid.uuid4().hex[:6]]
    await collection.create_indexes([IndexModel([("slot", 1)], unique=True)])
    clients = 16

    async def client_inserts(offset: int) -> None:
        for i in range(offset, n, clients):
            await collection.insert_one({**DOC, "slot": i})

    with timed() as t:
        await asyncio.gather(*(client_inserts(c) for c in range(clients)))
    return n / t[0]


async def _kafka(bootstrap: str, figures: Figures) -> None:
    topic = "bench.raw." + uuid.uuid4().hex[:6]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    value = b'{"district_id": "bench", "student_id": "st-000001", "school_id": "s-1"}' * 3
    n = 50_000
    try:
        await producer.send_and_wait(topic, value=value, key=b"warm")
        with timed() as t:
            pending = [
                await producer.send(topic, value=value, key=f"k{i}".encode()) for i in range(n)
            ]
            await asyncio.gather(*pending)
        figures.raw_rate("produce", n / t[0], "msg/s")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=5000,
    )
    await consumer.start()
    try:
        read = 0
        with timed() as t:
            while read < n + 1:
                batch = await consumer.getmany(timeout_ms=1000)
                read += sum(len(records) for records in batch.values())
        figures.raw_rate("consume", read / t[0], "msg/s")
    finally:
        await consumer.stop()
