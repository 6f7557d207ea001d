"""The whole system as separate processes: the four services and a dev token issuer."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aptt_local.servers import LocalStack
from aptt_local.service_process import ServiceProcess, running_services
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


@pytest.fixture(scope="module")
def system(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    run = "".join(random.choices(string.ascii_lowercase, k=6))
    with running_services(
        tmp_path_factory.mktemp("e2e"),
        local_stack.env(),
        database_prefix=f"e2e_{run}",
        env={"APTT_LOG_LEVEL": "INFO"},
        own_env={
            "notify": {"APTT_CONFERENCE_REMINDER_SOON_MINUTES": str(CONFERENCE_REMINDER_MINUTES)}
        },
    ) as (issuer, processes):
        yield System(
            stack=local_stack,
            issuer=DevIssuer(issuer.url, issuer.key_file),
            urls={s: p.url for s, p in processes.items()},
            processes=processes,
        )
