"""`make bench`: every benchmark against freshly started local servers, in one run.

Raw server rates come first, then each platform figure as a ratio to the raw rate it is
bounded by (docs/capacity.md reads them).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from aptt_local.servers import LocalStack

from bench import booking_rush, event_path, fanout, raw, roster_import
from bench.figures import Figures


async def run(stack: LocalStack, state: Path) -> Figures:
    figures = Figures()
    print(f"APTT benchmarks on Tansu + SecantusDB, {os.cpu_count()} cores", flush=True)
    await raw.measure(stack, figures)
    await event_path.run(stack, figures)
    await booking_rush.run(stack, figures, state)
    await roster_import.run(stack, figures, state)
    await fanout.run(stack, figures, state)
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="aptt-bench-") as state:
        stack = LocalStack(state)
        stack.start()
        try:
            asyncio.run(run(stack, Path(state)))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
