"""Every service starts as its own process against the real servers and stops cleanly."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest
from aptt_local.process import LOOPBACK
from aptt_local.servers import LocalStack, SecantusServer
from aptt_local.service_process import SERVICES, ServiceProcess


def service_env(stack: LocalStack, name: str) -> dict[str, str]:
    return {
        **stack.env(),
        "APTT_ENVIRONMENT": "test",
        "APTT_MONGO_DATABASE": f"svc_{name}_{int(time.time() * 1000)}",
        "APTT_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "APTT_CONSUMER_HEARTBEAT_INTERVAL_MS": "500",
    }


@pytest.mark.parametrize("service", SERVICES)
def test_service_is_ready_serves_its_docs_and_stops_on_sigterm(
    local_stack: LocalStack, tmp_path: Path, service: str
) -> None:
    process = ServiceProcess(service, tmp_path, env=service_env(local_stack, service))
    process.start()
    try:
        ready = httpx.get(f"{process.url}/readyz").json()
        assert ready["status"] == "ready"
        assert ready["checks"]["mongodb"]
        assert ready["checks"]["kafka"]
        assert httpx.get(f"{process.url}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{process.url}/docs").status_code == 200
        assert (
            httpx.get(f"{process.url}/openapi.json")
            .json()["info"]["title"]
            .endswith(f"{service} service")
        )
        metrics = httpx.get(f"{process.url}/metrics").text
        assert f'aptt_dependency_up{{app="{service}",dependency="mongodb"}} 1.0' in metrics
    finally:
        process.stop()
    # uvicorn re-raises SIGTERM after its shutdown so the exit status tells why it ended;
    # -SIGKILL here would mean the grace period ran out.
    assert process.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in process.log_path.read_text()


def test_readyz_turns_not_ready_without_the_database_and_ready_again(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    # Its own database server, so stopping it does not disturb the other tests.
    database = SecantusServer(tmp_path / "db")
    database.start()
    env = {**service_env(local_stack, "goals"), "APTT_MONGO_URL": database.url}
    process = ServiceProcess("goals", tmp_path, env=env)
    try:
        process.start()
        database.stop()
        deadline = time.monotonic() + 30
        while True:
            answer = httpx.get(f"{process.url}/readyz", timeout=10)
            if answer.status_code == 503 or time.monotonic() > deadline:
                break
        assert answer.status_code == 503
        assert answer.json()["checks"]["mongodb"] is False
        assert answer.json()["checks"]["kafka"] is True

        database.start()
        deadline = time.monotonic() + 30
        while (answer := httpx.get(f"{process.url}/readyz", timeout=10)).status_code != 200:
            assert time.monotonic() < deadline, "ready again once the database is back"
            time.sleep(0.2)
        assert answer.json()["status"] == "ready"
        assert process.host == LOOPBACK
    finally:
        process.stop()
        database.stop()
