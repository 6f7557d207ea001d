"""The consumer of one service: a partition's batch in one transaction, retries, dead letters."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from aptt_contracts.catalogue import dlq_topic, retry_topic, topics_of
from aptt_contracts.envelope import EventModel
from pymongo.errors import ConnectionFailure, DuplicateKeyError
from structlog.contextvars import bound_contextvars

from aptt_platform import metrics
from aptt_platform.consumer.handlers import AlreadyProcessed, DependencyDown, Handler, RunHandler
from aptt_platform.consumer.headers import (
    H_ATTEMPTS,
    H_CONSUMER,
    H_DEAD_LETTERED_AT,
    H_ERROR,
    H_ERROR_TYPE,
    H_NOT_BEFORE,
    H_ORIGINAL_OFFSET,
    H_ORIGINAL_PARTITION,
    H_ORIGINAL_TOPIC,
    PLATFORM_HEADERS,
    header_text,
)
from aptt_platform.consumer.polling import Poller
from aptt_platform.events import ReceivedEvent, UnparseableRecord, decode, header_dict
from aptt_platform.kafka import TopicKeeper
from aptt_platform.logging import get_logger
from aptt_platform.mongo import PROCESSED_EVENTS, Contended, Document, Mongo, UnitOfWork, utcnow
from aptt_platform.settings import ServiceSettings
from aptt_platform.tracing import continue_trace

log = get_logger(__name__)

# A batch's transaction that took longer than this after a write conflict is logged.
SLOW_BATCH_SECONDS = 10.0


@dataclass(frozen=True)
class ConsumerConfig:
    """Who consumes what: the service's topics, its handler table and its event models."""

    name: str  # the service; group id is aptt-<name>
    topics: Sequence[str]
    handlers: Mapping[str, Handler]
    models: Mapping[str, type[EventModel]]

    @property
    def group_id(self) -> str:
        return f"aptt-{self.name}"

    @property
    def retry_topic(self) -> str:
        return retry_topic(self.name)

    @property
    def dlq_topic(self) -> str:
        return dlq_topic(self.name)


class EventConsumer:
    def __init__(
        self,
        *,
        config: ConsumerConfig,
        mongo: Mongo,
        producer: AIOKafkaProducer,
        settings: ServiceSettings,
        topics: TopicKeeper | None = None,
    ) -> None:
        self.config = config
        self.mongo = mongo
        self.producer = producer
        self.settings = settings
        self.topics = topics or TopicKeeper(settings, topics_of(config.name))
        self.app = settings.service_name
        self._stopping = asyncio.Event()
        self._loops: list[Poller] = []
        # Batches of partitions run side by side; those that meet a write conflict run again
        # one at a time.
        self._serial = asyncio.Lock()

    @property
    def ready(self) -> bool:
        return bool(self._loops) and all(loop.ready for loop in self._loops)

    def describe(self) -> list[str]:
        """Where each loop stands: for the one reading a log when events seem not to arrive."""
        return [loop.describe() for loop in self._loops]

    async def start(self) -> None:
        self._loops = [
            Poller(self, self.config.group_id, list(self.config.topics), delayed=False),
            Poller(self, f"{self.config.group_id}-retry", [self.config.retry_topic], delayed=True),
        ]
        for loop in self._loops:
            await loop.start()

    async def stop(self, within: float | None = None) -> None:
        """Finish the batch in hand, commit it, leave the group, within `within` seconds.

        The default is half the shutdown grace, leaving the rest to the relay's flush.
        """
        self._stopping.set()
        limit = within if within is not None else self.settings.shutdown_grace_seconds / 2
        await asyncio.gather(*(loop.stop(limit) for loop in self._loops))

    # -- a partition's batch -----------------------------------------------------------

    async def process_batch(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[str]:
        """Handle records of one partition, in order, in one transaction; return each outcome.

        Records that cannot be parsed are dead-lettered and types without a handler skipped,
        as one at a time would. If the transaction fails for any reason, every record of the
        batch is handled again one at a time, so a bad record is retried on its own and the
        rest still apply once.
        """
        outcomes: list[str | None] = [None] * len(records)
        batch: list[tuple[int, ReceivedEvent, Handler]] = []
        for index, record in enumerate(records):
            decoded = await self._decode(record)
            if isinstance(decoded, str):
                outcomes[index] = decoded
                continue
            event, handler = decoded
            batch.append((index, event, handler))
        if len(batch) > 1:
            started = time.perf_counter()
            events = [(e, h) for _, e, h in batch]
            try:
                try:
                    done = await self.mongo.run_contended(self._handle_batch, events)
                except Contended:
                    async with self._serial:
                        done = await self.mongo.run(self._handle_batch, events)
                    seconds = time.perf_counter() - started
                    if seconds > SLOW_BATCH_SECONDS:
                        # The driver retries a conflicting transaction for up to two minutes
                        # without a word; the other partitions wait on the serial lock meanwhile.
                        log.warning(
                            "contended batch was slow",
                            group=self.config.name,
                            records=len(events),
                            seconds=round(seconds, 1),
                        )
            except ConnectionFailure as exc:
                raise DependencyDown(str(exc)) from exc
            except Exception as exc:
                log.info("batch failed, handling one record at a time", error=type(exc).__name__)
            else:
                elapsed = (time.perf_counter() - started) / len(batch)
                for (index, event, _), outcome in zip(batch, done, strict=True):
                    outcomes[index] = outcome
                    self._count(event.topic, event.type, outcome)
                    metrics.HANDLER_DURATION.labels(self.app, self.config.name, event.type).observe(
                        elapsed
                    )
                batch = []
        for index, event, handler in batch:
            outcomes[index] = await self._process_event(records[index], event, handler)
        return [outcome or "ignored" for outcome in outcomes]

    async def _handle_batch(
        self, uow: UnitOfWork, batch: list[tuple[ReceivedEvent, Handler]]
    ) -> list[str]:
        keys = [self._dedupe_key(event) for event, _ in batch]
        seen = {
            doc["_id"]
            async for doc in uow.collection(PROCESSED_EVENTS).find(
                {"_id": {"$in": keys}}, {"_id": 1}, session=uow.session
            )
        }
        outcomes: list[str] = []
        fresh: list[Document] = []
        for key, (event, _) in zip(keys, batch, strict=True):
            if key in seen:
                outcomes.append("duplicate")
                continue
            seen.add(key)  # the same event twice in one batch: the copy is a duplicate
            outcomes.append("ok")
            fresh.append(self._dedupe_record(key, event))
        if fresh:
            await uow.collection(PROCESSED_EVENTS).insert_many(
                fresh, ordered=False, session=uow.session
            )
        todo = [pair for pair, outcome in zip(batch, outcomes, strict=True) if outcome == "ok"]
        position = 0
        while position < len(todo):
            event, handler = todo[position]
            if isinstance(handler, RunHandler):
                run = [event]
                while position + len(run) < len(todo) and todo[position + len(run)][1] is handler:
                    run.append(todo[position + len(run)][0])
                await handler.many(uow, run)
                position += len(run)
                continue
            continue_trace(event.traceparent)
            with bound_contextvars(event_id=event.id, event_type=event.type):
                await handler(uow, event)
            position += 1
        return outcomes

    def _dedupe_key(self, event: ReceivedEvent) -> str:
        return f"{self.config.name}:{event.id}"

    def _dedupe_record(self, key: str, event: ReceivedEvent) -> Document:
        return {
            "_id": key,
            "district_id": event.district_id,
            "type": event.type,
            "processed_at": utcnow(),
        }

    # -- one record -------------------------------------------------------------------

    async def _decode(
        self, record: ConsumerRecord[bytes, bytes]
    ) -> str | tuple[ReceivedEvent, Handler]:
        """The event and its handler, or the outcome of a record there is nothing to run for."""
        headers = header_dict(record.headers)
        original_topic = header_text(headers.get(H_ORIGINAL_TOPIC)) or record.topic
        try:
            event = decode(
                headers=headers,
                key=record.key,
                value=record.value,
                topic=original_topic,
                partition=record.partition,
                offset=record.offset,
                models=self.config.models,
            )
        except UnparseableRecord as exc:
            await self._dead_letter(record, headers, exc, attempts=0)
            self._count(original_topic, "unknown", "dead_lettered")
            return "dead_lettered"
        handler = self.config.handlers.get(event.type)
        if handler is None:
            self._count(original_topic, event.type, "ignored")
            return "ignored"
        return event, handler

    async def _process_event(
        self, record: ConsumerRecord[bytes, bytes], event: ReceivedEvent, handler: Handler
    ) -> str:
        continue_trace(event.traceparent)
        with bound_contextvars(event_id=event.id, event_type=event.type):
            outcome = await self._handle(record, header_dict(record.headers), event, handler)
        self._count(event.topic, event.type, outcome)
        return outcome

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> str:
        """Handle one record in its own transaction (the fallback path, and retries)."""
        decoded = await self._decode(record)
        if isinstance(decoded, str):
            return decoded
        event, handler = decoded
        return await self._process_event(record, event, handler)

    async def _handle(
        self,
        record: ConsumerRecord[bytes, bytes],
        headers: dict[str, bytes],
        event: ReceivedEvent,
        handler: Handler,
    ) -> str:
        started = time.perf_counter()
        try:
            await self.mongo.run(self._handle_once, event, handler)
            return "ok"
        except AlreadyProcessed:
            return "duplicate"
        except ConnectionFailure as exc:
            raise DependencyDown(str(exc)) from exc
        except Exception as exc:
            attempts = int(header_text(headers.get(H_ATTEMPTS)) or 0) + 1
            log.warning("handler failed", attempts=attempts, error=type(exc).__name__)
            if attempts > self.settings.consumer_max_retries:
                await self._dead_letter(record, headers, exc, attempts=attempts)
                return "dead_lettered"
            await self._retry_later(record, headers, exc, attempts=attempts)
            return "retried"
        finally:
            metrics.HANDLER_DURATION.labels(self.app, self.config.name, event.type).observe(
                time.perf_counter() - started
            )

    async def _handle_once(self, uow: UnitOfWork, event: ReceivedEvent, handler: Handler) -> None:
        key = self._dedupe_key(event)
        try:
            await uow.collection(PROCESSED_EVENTS).insert_one(
                self._dedupe_record(key, event), session=uow.session
            )
        except DuplicateKeyError as exc:
            raise AlreadyProcessed from exc
        await handler(uow, event)

    async def _retry_later(
        self,
        record: ConsumerRecord[bytes, bytes],
        headers: dict[str, bytes],
        exc: BaseException,
        *,
        attempts: int,
    ) -> None:
        backoff = min(
            self.settings.consumer_retry_backoff_seconds * 2 ** (attempts - 1),
            self.settings.consumer_retry_backoff_max_seconds,
        )
        extra = {
            H_ATTEMPTS: str(attempts),
            H_NOT_BEFORE: f"{time.time() + backoff:.3f}",
            H_ERROR: _reason(exc),
            H_ERROR_TYPE: type(exc).__name__,
        }
        await self._forward(self.config.retry_topic, record, headers, extra)

    async def park_again(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Put a retry that is not due yet at the end of the retry topic, as it was, so the
        due retries behind it go first (a partition is read in order)."""
        headers = header_dict(record.headers)
        extra = {
            name: header_text(headers.get(name)) or ""
            for name in (H_ATTEMPTS, H_NOT_BEFORE, H_ERROR, H_ERROR_TYPE)
        }
        await self._forward(self.config.retry_topic, record, headers, extra)

    async def _dead_letter(
        self,
        record: ConsumerRecord[bytes, bytes],
        headers: dict[str, bytes],
        exc: BaseException,
        *,
        attempts: int,
    ) -> None:
        log.error("record dead-lettered", error=_reason(exc), attempts=attempts)
        extra = {
            H_ATTEMPTS: str(attempts),
            H_ERROR: _reason(exc),
            H_ERROR_TYPE: type(exc).__name__,
            H_DEAD_LETTERED_AT: utcnow().isoformat(),
        }
        await self._forward(self.config.dlq_topic, record, headers, extra)

    async def _forward(
        self,
        topic: str,
        record: ConsumerRecord[bytes, bytes],
        headers: dict[str, bytes],
        extra: dict[str, str],
    ) -> None:
        # The first time a record leaves its partition, remember where it came from.
        origin = {
            H_ORIGINAL_TOPIC: record.topic,
            H_ORIGINAL_PARTITION: str(record.partition),
            H_ORIGINAL_OFFSET: str(record.offset),
            H_CONSUMER: self.config.name,
        }
        kept = {k: v for k, v in headers.items() if k not in PLATFORM_HEADERS}
        for name, value in origin.items():
            kept[name] = headers.get(name, value.encode())
        kept.update({k: v.encode() for k, v in extra.items()})
        await self.producer.send_and_wait(
            topic, value=record.value, key=record.key, headers=list(kept.items())
        )

    def _count(self, topic: str, event_type: str, outcome: str) -> None:
        metrics.EVENTS_CONSUMED.labels(self.app, self.config.name, topic, event_type, outcome).inc()


def _reason(exc: BaseException) -> str:
    # Error text may quote data; keep it short. Handlers raise errors that name ids, not people.
    return f"{type(exc).__name__}: {exc}"[:500]
