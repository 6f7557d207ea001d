"""Background loops of the goals service (ServiceDefinition.background)."""

from __future__ import annotations

import asyncio

from aptt_platform.logging import get_logger
from aptt_platform.runtime import Runtime

from aptt_goals import service
from aptt_goals.settings import Config

log = get_logger(__name__)


async def close_due_goals_forever(runtime: Runtime) -> None:
    """Every `close_interval_seconds`, close the goals whose end date has passed."""
    config = runtime.config
    if not isinstance(config, Config):
        raise TypeError("the goals service was built without its Config")
    while True:
        try:
            closed = await service.close_due_goals(runtime.mongo, now=config.now())
            if closed:
                log.info("goals closed at their end date", count=closed)
        except Exception as exc:
            # The next round tries again; a database outage must not end the loop.
            log.warning("closing due goals failed", error=type(exc).__name__)
        await asyncio.sleep(config.close_interval_seconds)
