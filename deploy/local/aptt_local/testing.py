"""Helpers for tests that run services against the real local servers."""

from __future__ import annotations

import asyncio
import contextlib
import random
import string
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI

from aptt_local.process import LOOPBACK, free_port
from aptt_local.servers import LocalStack


def random_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def random_name(length: int = 10) -> str:
    return "".join(random.choices(string.ascii_lowercase, k=length))


def zone_at_local_hour(hour: int) -> str:
    """A fixed-offset zone where it is now about `hour` o'clock: a test whose messages must go
    out at once is not deferred by quiet hours when it runs at night (Etc/GMT-5 is UTC+5, POSIX
    signs)."""
    offset = (hour - datetime.now(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def service_settings(
    stack: LocalStack, service: str, issuer_url: str, **extra: Any
) -> dict[str, Any]:
    """Settings values for a service under test: the stack's servers, its own database."""
    values: dict[str, Any] = {
        "service_name": service,
        "environment": "test",
        "kafka_bootstrap_servers": stack.kafka_bootstrap,
        "mongo_url": stack.mongo_url,
        "mongo_database": f"test_{service}_{random_name(6)}",
        "oidc_issuer": issuer_url,
        # The local broker forms a group after session_timeout/2: keep it short.
        "consumer_session_timeout_ms": 6000,
        "consumer_heartbeat_interval_ms": 500,
        "consumer_retry_backoff_seconds": 0.2,
        "consumer_retry_backoff_max_seconds": 1.0,
        "relay_poll_interval_seconds": 0.05,
    }
    values.update(extra)
    return values


@contextlib.asynccontextmanager
async def running_app(app: FastAPI, *, ready_timeout: float = 60.0) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port in this event loop; yield its base URL once ready."""
    import httpx

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host=LOOPBACK, port=port, log_config=None, access_log=False)
    )
    task = asyncio.create_task(server.serve())
    url = f"http://{LOOPBACK}:{port}"
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=url) as client:

            async def ready() -> bool:
                try:
                    return (await client.get("/readyz")).status_code == 200
                except httpx.TimeoutException:
                    # A loaded machine can answer the first probes late: not ready yet.
                    return False

            await eventually(ready, timeout=ready_timeout, what=f"{app.title} to be ready")
        yield url
    finally:
        server.should_exit = True
        await task


async def eventually(
    check: Callable[[], Awaitable[bool]],
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 - a poll deadline, not a cancel scope
    what: str = "condition",
    explain: Callable[[], str] | None = None,
) -> None:
    """Poll `check` until it is true; fail with `what` after `timeout` seconds, and with what
    `explain` says of the state then, for a failure seen once in many runs."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            detail = f"\n{explain()}" if explain is not None else ""
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        await asyncio.sleep(0.1)
