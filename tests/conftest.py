"""Fixtures shared by the whole test tree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aptt_local.servers import LocalStack


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """Broker, database, SMTP sink and SMS stand-in: real servers, started once a session."""
    stack = LocalStack(tmp_path_factory.mktemp("local-stack"))
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
