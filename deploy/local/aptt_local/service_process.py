"""An APTT service as a child process (`python -m aptt_<service>`), ready when /readyz is 200."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

import httpx
from aptt_platform.devissuer import DevUser, write_users

from aptt_local.process import ManagedServer

SERVICES = ("data", "scheduling", "goals", "notify")


class ServiceProcess(ManagedServer):
    name: ClassVar[str] = "service"
    # Longer than the service's own shutdown grace, so SIGTERM gets to finish the batch.
    stop_grace: ClassVar[float] = 30.0
    start_timeout: ClassVar[float] = 90.0

    def __init__(
        self,
        service: str,
        state_dir: str | Path,
        *,
        env: Mapping[str, str],
        port: int | None = None,
    ) -> None:
        super().__init__(state_dir, port=port)
        self.service = service
        self.env = dict(env)
        self.log_path = self.state_dir / "logs" / f"{service}.log"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> Sequence[str]:
        return [sys.executable, "-m", f"aptt_{self.service}"]

    def extra_env(self) -> dict[str, str]:
        return {
            **self.env,
            "APTT_SERVICE_NAME": self.service,
            "APTT_HTTP_HOST": self.host,
            "APTT_HTTP_PORT": str(self.port),
        }

    def probe(self) -> None:
        httpx.get(f"{self.url}/readyz", timeout=2.0).raise_for_status()


class WebProcess(ServiceProcess):
    """The web pages (`python -m aptt_web`), calling the services at `service_urls`."""

    def __init__(
        self,
        state_dir: str | Path,
        *,
        env: Mapping[str, str],
        service_urls: Mapping[str, str],
        port: int | None = None,
    ) -> None:
        urls = {f"APTT_{name.upper()}_URL": url for name, url in service_urls.items()}
        super().__init__("web", state_dir, env={**env, **urls}, port=port)

    def extra_env(self) -> dict[str, str]:
        # Served over http:// on this machine, so the session cookie cannot be Secure here.
        return {
            **super().extra_env(),
            "APTT_WEB_PUBLIC_URL": self.url,
            "APTT_COOKIE_SECURE": "false",
        }


class DevIssuerProcess(ManagedServer):
    name: ClassVar[str] = "dev-issuer"

    def __init__(
        self,
        state_dir: Path,
        key_file: Path,
        port: int | None = None,
        users_file: Path | None = None,
    ) -> None:
        super().__init__(state_dir, port=port)
        self.key_file = key_file
        self.users_file = users_file or state_dir / "dev-users.json"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> Sequence[str]:
        return [
            sys.executable,
            "-m",
            "aptt_platform.devissuer",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--key-file",
            str(self.key_file),
            "--users-file",
            str(self.users_file),
        ]

    def probe(self) -> None:
        httpx.get(f"{self.url}/.well-known/jwks.json", timeout=1.0).raise_for_status()


# Short consumer timeouts: a test's service that was stopped leaves its group in seconds.
TEST_ENV = {
    "APTT_ENVIRONMENT": "test",
    "APTT_CONSUMER_SESSION_TIMEOUT_MS": "6000",
    "APTT_CONSUMER_HEARTBEAT_INTERVAL_MS": "500",
    "APTT_CONSUMER_RETRY_BACKOFF_SECONDS": "0.5",
}


@contextlib.contextmanager
def running_services(
    state: Path,
    stack_env: Mapping[str, str],
    *,
    database_prefix: str,
    users: Sequence[DevUser] = (),
    env: Mapping[str, str] | None = None,
    own_env: Mapping[str, Mapping[str, str]] | None = None,
) -> Iterator[tuple[DevIssuerProcess, dict[str, ServiceProcess]]]:
    """A dev issuer and the four services as processes, each service on its own database
    (`<prefix>_<service>`), started together; stopped (SIGTERM to all, then waited) on exit."""
    issuer = DevIssuerProcess(state, state / "issuer.pem")
    if users:
        write_users(issuer.users_file, list(users))
    issuer.start()
    shared = {**stack_env, **TEST_ENV, "APTT_OIDC_ISSUER": issuer.url, **(env or {})}
    processes = {
        s: ServiceProcess(
            s,
            state,
            env={
                **shared,
                **(own_env or {}).get(s, {}),
                "APTT_MONGO_DATABASE": f"{database_prefix}_{s}",
            },
        )
        for s in SERVICES
    }
    try:
        with ThreadPoolExecutor(max_workers=len(processes)) as pool:
            for future in [pool.submit(p.start) for p in processes.values()]:
                future.result()
        yield issuer, processes
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.stop()
        issuer.stop()
