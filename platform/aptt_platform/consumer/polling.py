"""One Kafka consumer of a service and the task that polls it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError, UnknownTopicOrPartitionError
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

_CHECK_EVERY_SECONDS = 2.0
# How long the retry loop waits on a record that is not due before it reads its partition again.
_RECHECK_SECONDS = 1.0


def _due(record: ConsumerRecord[bytes, bytes]) -> float:
    return float(header_text(header_dict(record.headers).get(H_NOT_BEFORE)) or 0)


class _Assignments(ConsumerRebalanceListener):  # type: ignore[misc]
    """Knows whether the consumer has joined its group (ready), even with no partitions."""

    def __init__(self, poller: Poller) -> None:
        self.poller = poller
        self.joined = False

    async def on_partitions_revoked(self, revoked: Any) -> None:
        pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.joined = True
        # Offsets are read again from the group: a broker that lost its topics starts
        # their partitions at 0, and an old offset from here would skip new records.
        self.poller._committed.clear()


class BrokerForgot(KafkaError):  # type: ignore[misc]
    """The broker lost topics or committed offsets (a local broker on memory storage that
    restarted): the consumer puts the topics back and joins its group afresh."""

    retriable = True


class Poller:
    """One Kafka consumer and the task that polls it."""

    def __init__(
        self, owner: EventConsumer, group_id: str, topics: list[str], *, delayed: bool
    ) -> None:
        self.owner = owner
        self.group_id = group_id
        self.topics = topics
        self.delayed = delayed
        self.assignments = _Assignments(self)
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
        self._timeout = settings.kafka_request_timeout_seconds
        # Since when fetching or committing has failed without a success in between.
        self._failing_since: float | None = None
        self._checked_at = time.monotonic()

    @property
    def ready(self) -> bool:
        return (
            self.assignments.joined
            and self._task is not None
            and not self._task.done()
            and not self.stalled
        )

    def describe(self) -> str:
        """Group, whether joined, and per assigned partition the log's end against the last
        commit: topic names and offsets only."""
        parts = [
            f"{tp.topic}[{tp.partition}] end {self.consumer.highwater(tp)}"
            f" committed {self._committed.get(tp)}"
            for tp in sorted(self.consumer.assignment())
        ]
        task = "running" if self._task is not None and not self._task.done() else "stopped"
        return (
            f"{self.group_id}: joined={self.assignments.joined} loop={task}"
            f" stalled={self.stalled} partitions: {'; '.join(parts) or 'none'}"
        )

    @property
    def stalled(self) -> bool:
        """True once the broker has refused fetches or commits for the settings' limit."""
        since = self._failing_since
        limit = self.owner.settings.consumer_stalled_after_seconds
        return since is not None and time.monotonic() - since >= limit

    async def start(self) -> None:
        await self.consumer.start()
        self.consumer.subscribe(self.topics, listener=self.assignments)
        self._task = asyncio.create_task(self._run(), name=f"consume-{self.group_id}")

    async def stop(self, within: float) -> None:
        """Let the loop finish its batch, then leave the group; both within `within` s."""
        deadline = time.monotonic() + within
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), within)
            except TimeoutError:
                log.warning("consumer did not finish its batch in time", group=self.group_id)
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task
        try:
            # Leaving the group commits nothing (auto-commit is off) but may wait on a
            # coordinator that is gone.
            await asyncio.wait_for(self.consumer.stop(), max(deadline - time.monotonic(), 1.0))
        except TimeoutError:
            log.warning("consumer did not leave its group in time", group=self.group_id)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            # aiokafka lets the cancelled fetch to a broker that is down escape its stop().
            log.info("consumer stopped with a fetch in flight", group=self.group_id)

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
                # A fetch from a broker that is down just comes back empty: only records
                # handled or a check of the broker show that it works again.
                if batch or await self._check_broker():
                    self._failing_since = None
                await self._report_lag()
                pause = 0.5
            except (DependencyDown, KafkaError, TimeoutError) as exc:
                # The unhandled records were sought back; try them again once it is back.
                if self._failing_since is None:
                    self._failing_since = time.monotonic()
                log.warning(
                    "consumer paused",
                    group=self.group_id,
                    error=f"{type(exc).__name__}: {exc}"[:200],
                )
                if isinstance(exc, (BrokerForgot, UnknownTopicOrPartitionError)):
                    with contextlib.suppress(KafkaError, TimeoutError, OSError):
                        await self.owner.topics.heal()
                    self._rejoin()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), pause)
                pause = min(pause * 2, 5.0)

    async def _check_broker(self) -> bool:
        """On a quiet loop, every few seconds: are our topics there, and can we commit?

        True when it checked and all was well. A fetch from a broker that is down or lost
        its topics just comes back empty, so without this a wedged consumer looks idle.
        """
        now = time.monotonic()
        if now - self._checked_at < _CHECK_EVERY_SECONDS:
            return False
        self._checked_at = now
        known = await asyncio.wait_for(self.consumer.topics(), self._timeout)
        missing = sorted(set(self.topics) - set(known))
        if missing:
            raise BrokerForgot(f"{len(missing)} subscribed topics missing, e.g. {missing[0]}")
        assigned = self.consumer.assignment()
        ours = [(tp, offset) for tp, offset in self._committed.items() if tp in assigned]
        if ours:
            # One partition's offset read back from the group coordinator: it answers, and
            # still has what we committed. A lower one means it lost the group's offsets,
            # and the partition's new records start below our position.
            tp, offset = max(ours, key=lambda item: item[1])
            stored = await asyncio.wait_for(self.consumer.committed(tp), self._timeout)
            if (stored or 0) < offset:
                raise BrokerForgot(f"committed offset of {tp.topic} went back")
        return True

    def _rejoin(self) -> None:
        """Join the group afresh: positions come from the group's offsets again, or the
        start of each partition where it has none."""
        self._committed.clear()
        self.consumer.unsubscribe()
        self.consumer.subscribe(self.topics, listener=self.assignments)

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
        """The retry topic: one record at a time, each when it is due.

        A record that is not due goes back to the end of the topic when a due one is behind
        it: a retry backed off for minutes must not hold the fresh ones of its partition.
        Otherwise the loop waits for it, a second at a time, and reads the partition again
        (which also finds what arrived meanwhile). A crash between the two steps leaves the
        record twice in the topic; the second finds it in processed_events.
        """
        done: int | None = None
        try:
            dues = [_due(record) for record in records]
            now = time.time()
            last_due = max((i for i, due in enumerate(dues) if due <= now), default=-1)
            for index, record in enumerate(records):
                delay = dues[index] - time.time()
                if delay > 0:
                    if index < last_due:
                        await self.owner.park_again(record)
                        done = record.offset + 1
                        continue
                    await self._pause(min(delay, _RECHECK_SECONDS))
                    break  # read again from here
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
            await asyncio.wait_for(self.consumer.commit(offsets), self._timeout)
        except CommitFailedError:
            # A partition moved to another member during a rebalance; it will read these
            # records again and find them in processed_events.
            log.info("commit after rebalance refused", group=self.group_id)
            return
        self._committed.update(offsets)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.owner._stopping.wait(), seconds)

    async def _report_lag(self) -> None:
        # The local broker's end_offsets() is unreliable: lag is highwater minus committed.
        for tp in self.consumer.assignment():
            highwater = self.consumer.highwater(tp)
            if highwater is None:
                continue
            if tp not in self._committed:
                committed = await asyncio.wait_for(self.consumer.committed(tp), self._timeout)
                self._committed[tp] = committed or 0
            committed = self._committed[tp]
            metrics.CONSUMER_LAG.labels(
                self.owner.app, self.group_id, tp.topic, str(tp.partition)
            ).set(max(highwater - committed, 0))
