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

from aptt_platform.consumer.core import ConsumerConfig, EventConsumer
from aptt_platform.consumer.handlers import (
    AlreadyProcessed,
    Batched,
    DependencyDown,
    EventHandler,
    Handler,
    HandlerTable,
    ManyHandler,
    RunHandler,
    adapt,
    batched,
    typed,
)
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
)

__all__ = [
    "H_ATTEMPTS",
    "H_CONSUMER",
    "H_DEAD_LETTERED_AT",
    "H_ERROR",
    "H_ERROR_TYPE",
    "H_NOT_BEFORE",
    "H_ORIGINAL_OFFSET",
    "H_ORIGINAL_PARTITION",
    "H_ORIGINAL_TOPIC",
    "PLATFORM_HEADERS",
    "AlreadyProcessed",
    "Batched",
    "ConsumerConfig",
    "DependencyDown",
    "EventConsumer",
    "EventHandler",
    "Handler",
    "HandlerTable",
    "ManyHandler",
    "RunHandler",
    "adapt",
    "batched",
    "typed",
]
