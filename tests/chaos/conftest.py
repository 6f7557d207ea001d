"""The chaos suite's figures, printed at the end of the session like a Jepsen checker's."""

from __future__ import annotations

import pytest

FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("chaos: what the checker counted")
        for line in FIGURES:
            terminalreporter.write_line(line)
