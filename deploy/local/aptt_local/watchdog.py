"""Reaps the local servers of a launcher that died without stopping them.

Run by `aptt_local.process`, never by hand: stdin carries "+pgid" when a server starts and
"-pgid" when it stopped cleanly. End of file means the launcher is gone (even by SIGKILL, which
no atexit hook survives), so every process group still listed gets SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

_GRACE_SECONDS = 10.0


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _kill_groups(pgids: set[int]) -> None:
    for pgid in pgids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + _GRACE_SECONDS
    remaining = set(pgids)
    while remaining and time.monotonic() < deadline:
        remaining = {pgid for pgid in remaining if _alive(pgid)}
        time.sleep(0.1)
    for pgid in remaining:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


def main() -> int:
    # The launcher decides when servers stop; a stray Ctrl-C must not kill the safety net.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pgids: set[int] = set()
    for raw in sys.stdin.buffer:
        line = raw.strip().decode("ascii", errors="replace")
        if len(line) < 2 or not line[1:].isdigit():
            continue
        if line[0] == "+":
            pgids.add(int(line[1:]))
        elif line[0] == "-":
            pgids.discard(int(line[1:]))
    _kill_groups(pgids)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
