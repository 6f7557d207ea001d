"""Fixtures shared by the whole test tree."""

from __future__ import annotations

import asyncio
import os
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
    """Broker, database, SMTP sink and SMS stand-in: real servers, started once a session.

    The session's broker keeps its log in memory: nothing here restarts it, and the S3
    log makes every produce ~17 times slower (docs/decisions/0016). Tests of restarts run
    their own durable broker.
    """
    stack = LocalStack(tmp_path_factory.mktemp("local-stack"), broker_storage="memory")
    stack.start()
    try:
        yield stack
        found = scans(stack.mongo_url, list(QUERIES.samples.values()))
        SCANS.extend(found)
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker:
            # Under pytest-xdist the summary is printed by the controller: hand it over.
            shared = tmp_path_factory.getbasetemp().parent
            (shared / f"scans-{worker}.txt").write_text("\n".join(found), encoding="utf-8")
    finally:
        stack.stop()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Queries the database planned as collection scans (aptt_local.querycheck)."""
    found = set(SCANS)
    if hasattr(config, "workerinput") is False and config.pluginmanager.has_plugin("xdist"):
        base = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
        for path in base.glob("scans-*.txt"):
            found |= {line for line in path.read_text(encoding="utf-8").splitlines() if line}
    if found:
        terminalreporter.section("queries planned as collection scans")
        for line in sorted(found):
            terminalreporter.write_line(line)
    if hasattr(config, "workerinput") is False and config.pluginmanager.has_plugin("xdist"):
        # The chaos suite's figures from the workers (tests/chaos/conftest.py).
        base = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
        figures = [p.read_text(encoding="utf-8") for p in sorted(base.glob("chaos-*.txt"))]
        if figures:
            terminalreporter.section("chaos: what the checker counted")
            for text in figures:
                for line in text.splitlines():
                    terminalreporter.write_line(line)


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
