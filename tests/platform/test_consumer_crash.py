"""A consumer process killed mid-batch loses nothing and repeats no effect after a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aptt_local.servers import LocalStack

from .conftest import Pipeline, eventually

WORKER = Path(__file__).with_name("consumer_worker.py")


def start_worker(stack: LocalStack, p: Pipeline, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), stack.kafka_bootstrap, stack.mongo_url, p.name, p.topic],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


@pytest.mark.chaos
async def test_consumer_killed_mid_batch_loses_nothing_and_duplicates_nothing(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    p = Pipeline(local_stack)
    await p.start(consume=False)
    notes = [f"n{i:03d}" for i in range(60)]
    try:
        for note in notes:
            await p.take_note(note)

        async def all_published() -> bool:
            return len(await p.read_topic(p.topic)) == len(notes)

        await eventually(all_published, what="the outbox to drain")
        worker = start_worker(local_stack, p, tmp_path / "worker.log")
        try:

            async def some_done() -> bool:
                return len(await p.effects()) >= 10

            await eventually(some_done, timeout=60, what="the worker to be mid-batch")
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
        done_at_kill = len(await p.effects())
        assert done_at_kill < len(notes), "the kill must land mid-batch"
        await asyncio.sleep(0.5)

        worker = start_worker(local_stack, p, tmp_path / "worker.log")
        try:

            async def all_done() -> bool:
                return len(await p.effects()) == len(notes)

            await eventually(all_done, timeout=90, what="every note after the restart")
        finally:
            worker.terminate()
            worker.wait(timeout=20)
        assert await p.effects() == {note: 1 for note in notes}
        processed = await p.mongo.db["processed_events"].count_documents({})
        assert processed == len(notes)
    finally:
        await p.stop()
