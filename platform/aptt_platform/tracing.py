"""W3C trace context: one trace id follows a request through the outbox and Kafka headers."""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    span_id: str
    flags: str = "01"

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    def child(self) -> TraceContext:
        return TraceContext(self.trace_id, secrets.token_hex(8), self.flags)


_current: ContextVar[TraceContext | None] = ContextVar("aptt_trace", default=None)


def parse_traceparent(value: str | None) -> TraceContext | None:
    if not value:
        return None
    match = _TRACEPARENT.match(value.strip().lower())
    if match is None or set(match[1]) == {"0"} or set(match[2]) == {"0"}:
        return None
    return TraceContext(match[1], match[2], match[3])


def new_trace() -> TraceContext:
    return TraceContext(secrets.token_hex(16), secrets.token_hex(8))


def continue_trace(traceparent: str | None) -> TraceContext:
    """Start a span under the incoming context, or a new trace when there is none."""
    parent = parse_traceparent(traceparent)
    ctx = parent.child() if parent else new_trace()
    _current.set(ctx)
    return ctx


def current_trace() -> TraceContext | None:
    return _current.get()


def current_traceparent() -> str:
    ctx = _current.get() or new_trace()
    return ctx.traceparent
