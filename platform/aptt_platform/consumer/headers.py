"""Headers this platform adds to retried and dead-lettered records."""

from __future__ import annotations

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


def header_text(value: bytes | None) -> str | None:
    return value.decode() if value is not None else None
