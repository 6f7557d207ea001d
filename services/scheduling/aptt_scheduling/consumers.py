"""What the scheduling service consumes: event type -> handler."""

from __future__ import annotations

from aptt_platform.consumer import Handler

HANDLERS: dict[str, Handler] = {}
