"""Figures of one benchmark run, each printed beside the raw rate it is compared with.

The machine is shared and noisy, so an absolute rate means little; the ratio of a platform
figure to the raw rate of the same server, measured minutes apart in the same run, is what
the benchmarks report and what docs/capacity.md reasons from.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Figures:
    raw: dict[str, float] = field(default_factory=dict)
    rows: list[tuple[str, str]] = field(default_factory=list)

    def raw_rate(self, name: str, rate: float, unit: str) -> None:
        self.raw[name] = rate
        self._print(f"raw {name}", f"{rate:10,.0f} {unit}")

    def rate(
        self, name: str, rate: float, unit: str, *, against: str, aim: float | None = None
    ) -> None:
        base = self.raw[against]
        ratio = rate / base if base else float("nan")
        aimed = f"; aim >= {aim:.2f}" if aim is not None else ""
        mark = "" if aim is None else ("  ok" if ratio >= aim else "  BELOW AIM")
        self._print(name, f"{rate:10,.0f} {unit}  = {ratio:5.2f} x raw {against}{aimed}{mark}")

    def note(self, name: str, text: str) -> None:
        self._print(name, text)

    def _print(self, name: str, text: str) -> None:
        self.rows.append((name, text))
        print(f"  {name:<44} {text}", flush=True)


@contextmanager
def timed() -> Iterator[list[float]]:
    """`with timed() as t: ...` then `t[0]` is the elapsed seconds."""
    elapsed: list[float] = [0.0]
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed[0] = time.perf_counter() - started
