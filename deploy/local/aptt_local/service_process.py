"""An APTT service as a child process (`python -m aptt_<service>`), ready when /readyz is 200."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import httpx

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


class DevIssuerProcess(ManagedServer):
    name: ClassVar[str] = "dev-issuer"

    def __init__(self, state_dir: Path, key_file: Path, port: int | None = None) -> None:
        super().__init__(state_dir, port=port)
        self.key_file = key_file

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
        ]

    def probe(self) -> None:
        httpx.get(f"{self.url}/.well-known/jwks.json", timeout=1.0).raise_for_status()
