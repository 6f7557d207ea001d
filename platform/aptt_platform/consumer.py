"""The event consumer every service runs.

A partition's batch is handled in one MongoDB transaction: the dedupe records of the batch
(`(consumer, event id)` in `processed_events`) are written with one bulk insert, the handlers
run in order inside the same transaction, and the partition's offset is committed only after
it committed. One transaction (one fsync) per batch instead of one per event is what lets a
consumer keep up with a district-wide import. Partitions of one poll are handled
concurrently, each in its own transaction.

When a batch fails, it falls back to one record at a time, so only the bad record is
retried: a handler that fails goes to the service's retry topic with an attempt count and a
time not to run before, so its partition keeps flowing; a second consumer reads the retry
topic. After the last attempt, or straight away for a record that cannot be parsed, it goes
to the dead-letter topic with the reason in headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import ConsumerRecord
from aptt_contracts.catalogue import dlq_topic, retry_topic
from aptt_contracts.envelope import EventModel
from pymongo.errors import ConnectionFailure, DuplicateKeyError
from structlog.contextvars import bound_contextvars

from aptt_platform import metrics
from aptt_platform.events import ReceivedEvent, UnparseableRecord, decode, header_dict
from aptt_platform.kafka import client_options
from aptt_platform.logging import get_logger
from aptt_platform.mongo import (
    PROCESSED_EVENTS,
    Contended,
    Document,
    Mongo,
    UnitOfWork,
    utcnow,
)
from aptt_platform.settings import ServiceSettings
from aptt_platform.tracing import continue_trace

log = get_logger(__name__)

Handler = Callable[[UnitOfWork, ReceivedEvent], Awaitable[None]]
E = TypeVar("E", bound=EventModel)
# What a service's consumers.py writes: `async def on_x(uow, event: X, meta: ReceivedEvent)`.
EventHandler = Callable[[UnitOfWork, E, ReceivedEvent], Awaitable[None]]
# A handler of a run of events of one type at once: `async def on_xs(uow, events)` with
# `events` a list of (payload, envelope) in partition order. For read models, whose
# per-event cost is two round trips: a run costs two (ReadModel.apply_many).
ManyHandler = Callable[[UnitOfWork, list[tuple[E, ReceivedEvent]]], Awaitable[None]]


@dataclass(frozen=True)
class Batched(Generic[E]):
    """A ManyHandler in a handler table: `StudentUpserted: batched(roster.record_students)`."""

    handle: ManyHandler[E]


def batched(handle: ManyHandler[E]) -> Batched[E]:
    return Batched(handle)


# `HANDLERS: HandlerTable = {StudentUpserted: roster.record_student, ...}`
HandlerTable = Mapping[type[EventModel], EventHandler[Any] | Batched[Any]]


def _check(model: type[EventModel], event: ReceivedEvent) -> None:
    if not isinstance(event.data, model):
        raise TypeError(f"{event.type} carries {type(event.data).__name__}, not {model.__name__}")


def typed(model: type[E], handle: EventHandler[E]) -> Handler:
    """The platform's handler for one row of a service's table: hands it its payload, typed."""

    async def handler(uow: UnitOfWork, event: ReceivedEvent) -> None:
        _check(model, event)
        await handle(uow, event.data, event)  # type: ignore[arg-type]

    handler.__name__ = getattr(handle, "__name__", "handler")
    return handler


class RunHandler:
    """The platform's handler for a Batched row: one event, or a run of them at once."""

    def __init__(self, model: type[E], handle: ManyHandler[E]) -> None:
        self.model = model
        self.handle: ManyHandler[Any] = handle
        self.__name__ = getattr(handle, "__name__", "handler")

    async def __call__(self, uow: UnitOfWork, event: ReceivedEvent) -> None:
        await self.many(uow, [event])

    async def many(self, uow: UnitOfWork, events: Sequence[ReceivedEvent]) -> None:
        for event in events:
            _check(self.model, event)
        await self.handle(uow, [(event.data, event) for event in events])


def adapt(table: HandlerTable) -> dict[str, Handler]:
    """Event type -> platform handler, from a service's table of event model -> handler."""
    adapted: dict[str, Handler] = {}
    for model, handle in table.items():
        if isinstance(handle, Batched):
            adapted[model.event_type] = RunHandler(model, handle.handle)
        else:
            adapted[model.event_type] = typed(model, handle)
    return adapted


# Headers this platform adds to retried and dead-lettered records.
H_ATTEMPTS = "aptt-attempts"
H_NOT_BEFORE = "aptt-not-before"
H_ORIGINAL_TOPIC = "aptt-original-topic"
H_ORIGINAL_PARTITION = "aptt-original-partition"
H_ORIGINAL_OFFSET = "aptt-original-offset"
H_ERROR = "aptt-error"
H_ERROR_TYPE = "aptt-error-type"
H_CONSUMER = "aptt-consumer"
H_DEAD_LETTERED_AT = "aptt-dead-lettered-at"
PLATFORM_HEADERS = {
    H_ATTEMPTS,
    H_NOT_BEFORE,
    H_ORIGINAL_TOPIC,
    H_ORIGINAL_PARTITION,
    H_ORIGINAL_OFFSET,
    H_ERROR,
    H_ERROR_TYPE,
    H_CONSUMER,
    H_DEAD_LETTERED_AT,
}


class AlreadyProcessed(Exception):
    pass


class DependencyDown(Exception):
    """The database or broker is unreachable: the record waits, it is not the record's fault."""


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


class _Assignments(ConsumerRebalanceListener):  # type: ignore[misc]
    """Knows whether the consumer has joined its group (ready), even with no partitions."""

    def __init__(self) -> None:
        self.joined = False

    async def on_partitions_revoked(self, revoked: Any) -> None:
        pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.joined = True


class EventConsumer:
    def __init__(
        self,
        *,
        config: ConsumerConfig,
        mongo: Mongo,
        producer: AIOKafkaProducer,
        settings: ServiceSettings,
    ) -> None:
        self.config = config
        self.mongo = mongo
        self.producer = producer
        self.settings = settings
        self.app = settings.service_name
        self._stopping = asyncio.Event()
        self._loops: list[_Loop] = []
        # Batches of partitions run side by side; those that meet a write conflict run again
        # one at a time.
        self._serial = asyncio.Lock()

    @property
    def ready(self) -> bool:
        return bool(self._loops) and all(loop.ready for loop in self._loops)

    async def start(self) -> None:
        self._loops = [
            _Loop(self, self.config.group_id, list(self.config.topics), delayed=False),
            _Loop(self, f"{self.config.group_id}-retry", [self.config.retry_topic], delayed=True),
        ]
        for loop in self._loops:
            await loop.start()

    async def stop(self) -> None:
        """Finish the batch in hand, commit it, leave the group."""
        self._stopping.set()
        for loop in self._loops:
            await loop.stop()

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
        original_topic = _text(headers.get(H_ORIGINAL_TOPIC)) or record.topic
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
            attempts = int(_text(headers.get(H_ATTEMPTS)) or 0) + 1
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


class _Loop:
    """One Kafka consumer and the task that polls it."""

    def __init__(
        self, owner: EventConsumer, group_id: str, topics: list[str], *, delayed: bool
    ) -> None:
        self.owner = owner
        self.group_id = group_id
        self.topics = topics
        self.delayed = delayed
        self.assignments = _Assignments()
        settings = owner.settings
        self.consumer = AIOKafkaConsumer(
            **client_options(settings),
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=settings.consumer_session_timeout_ms,
            heartbeat_interval_ms=settings.consumer_heartbeat_interval_ms,
            max_poll_records=settings.consumer_batch_size,
            # A retry may wait up to its backoff between polls.
            max_poll_interval_ms=int(settings.consumer_retry_backoff_max_seconds * 1000) + 300_000,
        )
        self._task: asyncio.Task[None] | None = None
        self._committed: dict[TopicPartition, int] = {}

    @property
    def ready(self) -> bool:
        return self.assignments.joined and self._task is not None and not self._task.done()

    async def start(self) -> None:
        await self.consumer.start()
        self.consumer.subscribe(self.topics, listener=self.assignments)
        self._task = asyncio.create_task(self._run(), name=f"consume-{self.group_id}")

    async def stop(self) -> None:
        if self._task is not None:
            await self._task
        await self.consumer.stop()

    async def _run(self) -> None:
        stopping = self.owner._stopping
        pause = 0.5
        while not stopping.is_set():
            try:
                batch = await self.consumer.getmany(timeout_ms=500)
                if self.delayed:
                    for tp, records in batch.items():
                        await self._process_partition(tp, records)
                else:
                    await self._process_concurrently(batch)
                await self._report_lag()
                pause = 0.5
            except (DependencyDown, KafkaError) as exc:
                # The unhandled records were sought back; try them again once it is back.
                log.warning("consumer paused", group=self.group_id, error=str(exc)[:200])
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), pause)
                pause = min(pause * 2, 10.0)

    async def _process_concurrently(
        self, batch: Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        """Each partition's records in one transaction, the partitions side by side; offsets
        are committed together once every partition's transaction has ended."""
        results = await asyncio.gather(
            *(self._apply_partition(tp, records) for tp, records in batch.items()),
            return_exceptions=True,
        )
        offsets = {
            tp: done for tp, done in zip(batch, results, strict=True) if isinstance(done, int)
        }
        if offsets:
            await self._commit(offsets)
        for tp, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                self.consumer.seek(tp, batch[tp][0].offset)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _apply_partition(
        self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]
    ) -> int:
        await self.owner.process_batch(records)
        return int(records[-1].offset) + 1

    async def _process_partition(
        self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]
    ) -> None:
        """The retry topic: one record at a time, each when it is due."""
        done: int | None = None
        try:
            for record in records:
                if not await self._wait_until_due(record):
                    break  # stopping: the rest is read again after restart
                await self.owner.process(record)
                done = record.offset + 1
        finally:
            if done is not None:
                await self._commit({tp: done})
            if done is None or done <= records[-1].offset:
                # Not all of the batch was handled: read it again from there.
                self.consumer.seek(tp, done if done is not None else records[0].offset)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self.consumer.commit(offsets)
        except CommitFailedError:
            # A partition moved to another member during a rebalance; it will read these
            # records again and find them in processed_events.
            log.info("commit after rebalance refused", group=self.group_id)
            return
        self._committed.update(offsets)

    async def _wait_until_due(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        due = float(_text(header_dict(record.headers).get(H_NOT_BEFORE)) or 0)
        delay = due - time.time()
        if delay <= 0:
            return True
        try:
            await asyncio.wait_for(self.owner._stopping.wait(), delay)
        except TimeoutError:
            return True
        return False

    async def _report_lag(self) -> None:
        # The local broker's end_offsets() is unreliable: lag is highwater minus committed.
        for tp in self.consumer.assignment():
            highwater = self.consumer.highwater(tp)
            if highwater is None:
                continue
            if tp not in self._committed:
                self._committed[tp] = await self.consumer.committed(tp) or 0
            committed = self._committed[tp]
            metrics.CONSUMER_LAG.labels(
                self.owner.app, self.group_id, tp.topic, str(tp.partition)
            ).set(max(highwater - committed, 0))


def _text(value: bytes | None) -> str | None:
    return value.decode() if value is not None else None


def _reason(exc: BaseException) -> str:
    # Error text may quote data; keep it short. Handlers raise errors that name ids, not people.
    return f"{type(exc).__name__}: {exc}"[:500]
