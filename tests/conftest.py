"""Fixtures shared by the whole test tree."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import uvicorn
from aptt_local.process import free_port
from aptt_local.querycheck import QuerySampler, scans
from aptt_local.servers import LocalStack
from aptt_platform.devissuer import DevIssuer
from pymongo import monitoring

# Registered before any client exists, so every client of the session reports its queries.
QUERIES = QuerySampler()
monitoring.register(QUERIES)
SCANS: list[str] = []


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """Broker, database, SMTP sink and SMS stand-in: real servers, started once a session."""
    stack = LocalStack(tmp_path_factory.mktemp("local-stack"))
    stack.start()
    try:
        yield stack
        SCANS.extend(scans(stack.mongo_url, list(QUERIES.samples.values())))
    finally:
        stack.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Queries the database planned as collection scans (aptt_local.querycheck)."""
    if SCANS:
        terminalreporter.section("queries planned as collection scans")
        for found in SCANS:
            terminalreporter.write_line(found)


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
