"""`make bench`: run every benchmark against freshly started local servers."""

from __future__ import annotations

import asyncio
import tempfile

from aptt_local.servers import LocalStack

from bench import event_path


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="aptt-bench-") as state:
        stack = LocalStack(state, smtp=False, sms=False)
        stack.start()
        try:
            asyncio.run(event_path.run(stack))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
