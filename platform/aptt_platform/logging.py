"""Structured JSON logs with the request, trace and event ids bound by the caller.

Never log names, contacts or free text about a child: log ids and codes. Tracebacks keep
the exception types and where they were raised, never frame variables or exception messages:
a frame holds the request body and the principal, and a message may quote an input
(docs/decisions/0015-bounded-inputs.md).
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict

from aptt_platform.tracing import current_trace


def _add_trace(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    ctx = current_trace()
    if ctx is not None:
        event_dict.setdefault("trace_id", ctx.trace_id)
        event_dict.setdefault("span_id", ctx.span_id)
    return event_dict


_TRACEBACKS = structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))
_QUOTING = ("exc_value", "exc_notes", "syntax_error", "locals")


def _strip_quotes(exceptions: Any) -> None:
    if isinstance(exceptions, list):
        for exc in exceptions:
            if isinstance(exc, dict):
                for key in _QUOTING:
                    exc.pop(key, None)
                _strip_quotes(exc.get("exceptions"))


def _private_tracebacks(logger: Any, name: str, event_dict: EventDict) -> EventDict:
    rendered = _TRACEBACKS(logger, name, event_dict)
    _strip_quotes(rendered.get("exception"))
    return rendered


def configure_logging(*, service: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """JSON lines on `stream` (standard output) for structlog and stdlib loggers alike."""
    out = stream or sys.stdout
    numeric = logging.getLevelName(level)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace,
    ]
    structlog.configure(
        processors=[
            *shared,
            _private_tracebacks,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries (uvicorn, aiokafka, pymongo) log through stdlib logging: render them as JSON too.
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _private_tracebacks,
                structlog.processors.EventRenamer("message"),
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # httpx logs every request's full URL at INFO: its query string may name a person.
    for noisy in ("aiokafka", "pymongo", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
