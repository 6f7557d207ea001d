"""The chaos suite's figures, printed at the end of the session like a Jepsen checker's."""

from __future__ import annotations

import os

import pytest

FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("chaos: what the checker counted")
        for line in FIGURES:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist the controller prints the summary (tests/conftest.py): hand the
    figures over in a file beside the workers' temporary directories."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and FIGURES:
        shared = session.config._tmp_path_factory.getbasetemp().parent  # type: ignore[attr-defined]
        (shared / f"chaos-{worker}.txt").write_text("\n".join(FIGURES), encoding="utf-8")
