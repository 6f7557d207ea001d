"""A service lives through a restart of its broker: it heals, reports, and still stops on time.

Each test runs its own broker (and S3 server where the log is durable), so stopping it does
not disturb the other tests; the database is the session's.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aptt_local.servers import LocalStack, S3Server, TansuBroker
from aptt_local.service_process import ServiceProcess

from .conftest import Pipeline, eventually


async def test_consumer_recreates_lost_topics_rejoins_and_reports_while_it_cannot_commit(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    # Memory storage: the restart loses every topic, record, group and committed offset.
    broker = TansuBroker(tmp_path)
    await asyncio.to_thread(broker.start)
    p = Pipeline(
        local_stack, kafka_bootstrap_servers=broker.bootstrap, consumer_stalled_after_seconds=2
    )
    try:
        await p.start()
        consumer = p.consumer
        assert consumer is not None
        assert consumer.ready
        before = [f"before-{i}" for i in range(5)]
        for note in before:
            await p.take_note(note)

        async def effects_are(expected: dict[str, int]) -> bool:
            return await p.effects() == expected

        await eventually(lambda: effects_are(dict.fromkeys(before, 1)), what="notes before")

        await asyncio.to_thread(broker.stop)

        async def not_ready() -> bool:
            return not consumer.ready

        await eventually(not_ready, what="the consumer to report that it cannot commit")
        await asyncio.to_thread(broker.start)

        async def ready() -> bool:
            return consumer.ready

        # Tansu on memory storage acknowledges records for a topic it no longer has and
        # drops them (docs/decisions/0016), so the notes wait for the topics to be back.
        await eventually(ready, timeout=60, what="the consumer to be ready again")
        assert p.keeper.recreated >= 1
        after = [f"after-{i}" for i in range(5)]
        for note in after:
            await p.take_note(note)
        await eventually(
            lambda: effects_are(dict.fromkeys(before + after, 1)),
            timeout=60,
            what="notes taken after the restart",
        )
    finally:
        await p.stop()
        await asyncio.to_thread(broker.stop)


async def test_events_published_before_a_broker_restart_are_consumed_after_it(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    s3 = S3Server(tmp_path)
    broker = TansuBroker(tmp_path, s3=s3)
    await asyncio.to_thread(s3.start)
    await asyncio.to_thread(broker.start)
    p = Pipeline(local_stack, kafka_bootstrap_servers=broker.bootstrap)
    try:
        await p.start()
        first = [f"first-{i}" for i in range(10)]
        for note in first:
            await p.take_note(note)

        async def effects_are(expected: dict[str, int]) -> bool:
            return await p.effects() == expected

        await eventually(lambda: effects_are(dict.fromkeys(first, 1)), what="the first notes")
        assert p.consumer is not None
        await p.consumer.stop()

        # Acknowledged by the broker, not yet consumed, when the broker goes down.
        second = [f"second-{i}" for i in range(10)]
        for note in second:
            await p.take_note(note)

        async def all_published() -> bool:
            return len(await p.read_topic(p.topic)) == len(first) + len(second)

        await eventually(all_published, what="the outbox to drain")
        await asyncio.to_thread(broker.stop)
        await asyncio.to_thread(broker.start)

        # The group's offsets survived: the consumer starts after the first notes.
        probe = AIOKafkaConsumer(
            bootstrap_servers=broker.bootstrap, group_id=f"aptt-{p.name}", enable_auto_commit=False
        )
        await probe.start()
        try:
            committed = [await probe.committed(TopicPartition(p.topic, i)) or 0 for i in range(3)]
        finally:
            await probe.stop()
        assert sum(committed) == len(first)

        await p.start_consumer()
        await eventually(
            lambda: effects_are(dict.fromkeys(first + second, 1)),
            timeout=60,
            what="the notes published before the restart",
        )
    finally:
        await p.stop()
        await asyncio.to_thread(broker.stop)
        await asyncio.to_thread(s3.stop)


def test_readyz_goes_red_without_the_broker_and_sigterm_still_ends_the_service(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    broker = TansuBroker(tmp_path)
    broker.start()
    env = {
        **local_stack.env(),
        "APTT_ENVIRONMENT": "test",
        "APTT_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "APTT_MONGO_DATABASE": f"svc_goals_{int(time.time() * 1000)}",
        "APTT_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "APTT_CONSUMER_HEARTBEAT_INTERVAL_MS": "500",
        "APTT_CONSUMER_STALLED_AFTER_SECONDS": "2",
        "APTT_SHUTDOWN_GRACE_SECONDS": "8",
    }
    process = ServiceProcess("goals", tmp_path, env=env)
    try:
        process.start()
        broker.stop()
        answer = _wait_for_readyz(process, lambda checks: checks["consumers"] is False)
        assert answer.status_code == 503

        broker.start()  # empty: the service puts its topics back and rejoins
        answer = _wait_for_readyz(process, lambda checks: all(checks.values()), timeout=90)
        assert answer.status_code == 200
        assert answer.json()["checks"] == {"mongodb": True, "kafka": True, "consumers": True}

        # A broker gone for good must not keep the service from stopping.
        broker.stop()
        _wait_for_readyz(process, lambda checks: checks["consumers"] is False)
    finally:
        # Given well over the service's 8 s grace; a SIGKILL here would show as -9.
        process.stop(timeout=25)
        broker.stop()
    assert process.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in process.log_path.read_text()


def _wait_for_readyz(
    process: ServiceProcess, wanted: Callable[[dict[str, bool]], bool], timeout: float = 60
) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(f"{process.url}/readyz", timeout=10)
        if wanted(answer.json()["checks"]):
            return answer
        assert time.monotonic() < deadline, f"/readyz still says {answer.json()}"
        time.sleep(0.2)
