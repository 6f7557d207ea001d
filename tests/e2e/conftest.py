"""The whole system as separate processes: the four services and a dev token issuer."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from aptt_local.servers import LocalStack
from aptt_local.service_process import SERVICES, DevIssuerProcess, ServiceProcess
from aptt_platform.devissuer import DevIssuer

# Notify's short conference reminder, in minutes: a reminder two hours ahead would not fall
# due while the fall conference step runs (conference_steps.py).
CONFERENCE_REMINDER_MINUTES = 5


@dataclass
class System:
    stack: LocalStack
    issuer: DevIssuer
    urls: dict[str, str]
    processes: dict[str, ServiceProcess]

    def token(
        self, *, subject: str, district_id: str, roles: list[str], schools: list[str] | None = None
    ) -> dict[str, str]:
        token = self.issuer.mint(
            subject=subject, district_id=district_id, roles=roles, school_ids=schools or []
        )
        return {"Authorization": f"Bearer {token}"}


def _own_env(service: str) -> dict[str, str]:
    if service == "notify":
        return {"APTT_CONFERENCE_REMINDER_SOON_MINUTES": str(CONFERENCE_REMINDER_MINUTES)}
    return {}


@pytest.fixture(scope="module")
def system(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    state = tmp_path_factory.mktemp("e2e")
    key = Path(state) / "issuer.pem"
    issuer_process = DevIssuerProcess(state, key)
    issuer_process.start()
    run = "".join(random.choices(string.ascii_lowercase, k=6))
    env = {
        **local_stack.env(),
        "APTT_ENVIRONMENT": "test",
        "APTT_OIDC_ISSUER": issuer_process.url,
        "APTT_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "APTT_CONSUMER_HEARTBEAT_INTERVAL_MS": "500",
        "APTT_CONSUMER_RETRY_BACKOFF_SECONDS": "0.5",
        "APTT_LOG_LEVEL": "INFO",
    }
    processes = {
        s: ServiceProcess(
            s, state, env={**env, **_own_env(s), "APTT_MONGO_DATABASE": f"e2e_{run}_{s}"}
        )
        for s in SERVICES
    }
    try:
        with ThreadPoolExecutor(max_workers=len(processes)) as pool:
            for future in [pool.submit(p.start) for p in processes.values()]:
                future.result()
        yield System(
            stack=local_stack,
            issuer=DevIssuer(issuer_process.url, key),
            urls={s: p.url for s, p in processes.items()},
            processes=processes,
        )
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.stop()
        issuer_process.stop()
