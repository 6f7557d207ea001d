"""Dead letters: list them, and send them back for another try.

A replay re-sends each dead letter to the service's retry topic with its attempt count reset,
so only the consumer that failed sees it again; other consumers of the original topic are not
disturbed. A replay commits its own consumer group, so a dead letter is replayed once.

    aptt-dlq list goals
    aptt-dlq replay goals [--event-id ID ...] [--limit N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from aptt_contracts.catalogue import SERVICES, dlq_topic, retry_topic

from aptt_platform import metrics
from aptt_platform.consumer import H_ATTEMPTS, H_ERROR, H_NOT_BEFORE, H_ORIGINAL_TOPIC
from aptt_platform.events import header_dict
from aptt_platform.kafka import client_options, create_producer
from aptt_platform.settings import ServiceSettings


@dataclass(frozen=True)
class DeadLetter:
    offset: int
    event_id: str
    event_type: str
    district_id: str
    original_topic: str
    error: str
    attempts: int


async def _read_all(
    consumer: AIOKafkaConsumer, idle_polls: int = 3
) -> list[ConsumerRecord[bytes, bytes]]:
    """Everything from the consumer's position to the end, oldest first."""
    records: list[ConsumerRecord[bytes, bytes]] = []
    idle = 0
    while idle < idle_polls:
        batch = await consumer.getmany(timeout_ms=1000)
        if not batch:
            idle += 1
            continue
        idle = 0
        for recs in batch.values():
            records.extend(recs)
    return sorted(records, key=lambda r: (r.partition, r.offset))


def _describe(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    headers = header_dict(record.headers)

    def text(name: str) -> str:
        return headers.get(name, b"").decode(errors="replace")

    return DeadLetter(
        offset=record.offset,
        event_id=text("ce_id"),
        event_type=text("ce_type"),
        district_id=text("ce_district"),
        original_topic=text(H_ORIGINAL_TOPIC),
        error=text(H_ERROR),
        attempts=int(text(H_ATTEMPTS) or 0),
    )


async def list_dead_letters(settings: ServiceSettings, service: str) -> list[DeadLetter]:
    """Every dead letter still in the topic, oldest first (no payloads: they may be personal)."""
    consumer = AIOKafkaConsumer(
        dlq_topic(service),
        **client_options(settings),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        return [_describe(r) for r in await _read_all(consumer)]
    finally:
        await consumer.stop()


async def replay_dead_letters(
    settings: ServiceSettings,
    service: str,
    *,
    event_ids: Iterable[str] | None = None,
    limit: int | None = None,
) -> int:
    """Send dead letters not yet replayed back through the retry topic; return how many."""
    wanted = set(event_ids or ())
    consumer = AIOKafkaConsumer(
        dlq_topic(service),
        **client_options(settings),
        group_id=f"aptt-{service}-dlq-replay",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=settings.consumer_heartbeat_interval_ms,
    )
    producer = create_producer(settings)
    await consumer.start()
    await producer.start()
    replayed = 0
    # The group only moves past a dead letter once every one before it was replayed too, so
    # a selective replay never hides the ones it skipped from a later full replay.
    commit_to: dict[TopicPartition, int] = {}
    skipped: set[TopicPartition] = set()
    try:
        for record in await _read_all(consumer):
            tp = TopicPartition(record.topic, record.partition)
            letter = _describe(record)
            if (limit is not None and replayed >= limit) or (
                wanted and letter.event_id not in wanted
            ):
                skipped.add(tp)
                continue
            headers = header_dict(record.headers)
            headers[H_ATTEMPTS] = b"0"
            headers[H_NOT_BEFORE] = f"{time.time():.3f}".encode()
            await producer.send_and_wait(
                retry_topic(service),
                value=record.value,
                key=record.key,
                headers=list(headers.items()),
            )
            replayed += 1
            metrics.DEAD_LETTERS_REPLAYED.labels(service).inc()
            if tp not in skipped:
                commit_to[tp] = letter.offset + 1
        if commit_to:
            await consumer.commit(commit_to)
    finally:
        await producer.stop()
        await consumer.stop()
    return replayed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="aptt-dlq", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["list", "replay"])
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--event-id", action="append", default=[], help="replay only these")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    settings = ServiceSettings(service_name=args.service)
    if args.action == "list":
        letters = asyncio.run(list_dead_letters(settings, args.service))
        for letter in letters:
            print(
                f"{letter.offset}\t{letter.event_id}\t{letter.event_type}\t"
                f"{letter.original_topic}\tattempts={letter.attempts}\t{letter.error}"
            )
        print(f"{len(letters)} dead letter(s) in {dlq_topic(args.service)}", file=sys.stderr)
        return 0
    count = asyncio.run(
        replay_dead_letters(settings, args.service, event_ids=args.event_id, limit=args.limit)
    )
    print(f"replayed {count} dead letter(s) through {retry_topic(args.service)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
