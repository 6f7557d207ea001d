"""One Kafka consumer of a service and the task that polls it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import ConsumerRecord

from aptt_platform import metrics
from aptt_platform.consumer.handlers import DependencyDown
from aptt_platform.consumer.headers import H_NOT_BEFORE, header_text
from aptt_platform.events import header_dict
from aptt_platform.kafka import client_options
from aptt_platform.logging import get_logger

if TYPE_CHECKING:
    from aptt_platform.consumer.core import EventConsumer

log = get_logger(__name__)


class _Assignments(ConsumerRebalanceListener):  # type: ignore[misc]
    """Knows whether the consumer has joined its group (ready), even with no partitions."""

    def __init__(self) -> None:
        self.joined = False

    async def on_partitions_revoked(self, revoked: Any) -> None:
        pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.joined = True


class Poller:
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
        due = float(header_text(header_dict(record.headers).get(H_NOT_BEFORE)) or 0)
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
