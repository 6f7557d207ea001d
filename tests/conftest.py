"""Fixtures shared by the whole test tree."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import uvicorn
from aptt_local.process import free_port
from aptt_local.servers import LocalStack
from aptt_platform.devissuer import DevIssuer


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """Broker, database, SMTP sink and SMS stand-in: real servers, started once a session."""
    stack = LocalStack(tmp_path_factory.mktemp("local-stack"))
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
async def dev_issuer(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevIssuer]:
    """The development OIDC issuer, serving its JWKS over HTTP; `dev_issuer.mint(...)` tokens."""
    port = free_port()
    issuer = DevIssuer(f"http://127.0.0.1:{port}", tmp_path_factory.mktemp("issuer") / "key.pem")
    server = uvicorn.Server(
        uvicorn.Config(issuer.app(), host="127.0.0.1", port=port, log_config=None)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield issuer
    server.should_exit = True
    await task
