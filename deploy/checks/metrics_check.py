"""Scrape the four running services and the web: their /metrics pass `promtool check
metrics`, and every metric a dashboard or alert queries is one that some of them exports.

    uv run --frozen python deploy/checks/metrics_check.py --promtool PATH

Starts the local servers (aptt_local.servers.LocalStack: broker, database, mail and SMS
stand-ins), then each component as `python -m aptt_<name>` on a free port (the web pointed
at the services), waits for /readyz, makes a few requests, scrapes /metrics, and finally
stops each with SIGTERM and checks that it exits cleanly within its grace period.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import promql

SERVICES = ("scheduling", "data", "goals", "notify")
# The edge: no Kafka; a database for its sessions; the services over HTTP.
EDGES = ("web",)
READY_TIMEOUT = 180.0
SHUTDOWN_GRACE_SECONDS = 20
# The service must be gone within its grace period plus a margin for the interpreter's exit.
EXIT_TIMEOUT = SHUTDOWN_GRACE_SECONDS + 10


@dataclass
class Running:
    service: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]
    problems: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, lines: int = 25) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(f"      {line}" for line in text[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_service(service: str, env: dict[str, str], workdir: Path) -> Running:
    port = free_port()
    log_path = workdir / f"{service}.log"
    log = log_path.open("wb")
    process_env = {
        **os.environ,
        **env,
        "APTT_HTTP_HOST": "127.0.0.1",
        "APTT_HTTP_PORT": str(port),
        "APTT_SHUTDOWN_GRACE_SECONDS": str(SHUTDOWN_GRACE_SECONDS),
    }
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", f"aptt_{service}"],
        env=process_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    return Running(service, port, process, log_path, log)


def wait_ready(running: list[Running]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    pending = {r.service: r for r in running}
    with httpx.Client(timeout=3.0) as client:
        while pending and time.monotonic() < deadline:
            for name, r in list(pending.items()):
                if r.process.poll() is not None:
                    r.problems.append(f"exited with {r.process.returncode} before ready")
                    del pending[name]
                    continue
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{r.url}/readyz").status_code == 200:
                        del pending[name]
            time.sleep(0.5)
    for r in pending.values():
        r.problems.append(f"/readyz not 200 within {READY_TIMEOUT:.0f}s")


def exercise(r: Running, client: httpx.Client) -> None:
    """A few requests so HTTP metrics have samples: health, the OpenAPI document, one API
    route without a token (a 401 is fine: it is counted like any other answer); for the web,
    which has no OpenAPI document, its home page."""
    client.get(f"{r.url}/healthz")
    spec = client.get(f"{r.url}/openapi.json")
    if spec.status_code != 200:
        client.get(f"{r.url}/")
        return
    for path, operations in spec.json().get("paths", {}).items():
        if "get" in operations and "{" not in path and path not in ("/healthz", "/readyz"):
            client.get(f"{r.url}{path}")
            break


def promtool_check(promtool: str, exposition: str) -> str | None:
    result = subprocess.run(  # noqa: S603
        [promtool, "check", "metrics"],
        input=exposition.encode(),
        capture_output=True,
        check=False,
    )
    if result.returncode == 0:
        return None
    return (result.stdout + result.stderr).decode().strip() or "promtool failed"


def stop(r: Running) -> None:
    if r.process.poll() is not None:
        return
    r.process.send_signal(signal.SIGTERM)
    try:
        code = r.process.wait(timeout=EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        r.problems.append(f"still running {EXIT_TIMEOUT}s after SIGTERM")
        r.process.kill()
        r.process.wait()
        return
    if code not in (0, -signal.SIGTERM):
        r.problems.append(f"exit code {code} after SIGTERM")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--promtool", default=shutil.which("promtool") or "promtool")
    parser.add_argument("--keep", action="store_true", help="keep the state directory")
    args = parser.parse_args(argv)

    from aptt_local.servers import LocalStack

    workdir = Path(tempfile.mkdtemp(prefix="aptt-metrics-check-"))
    stack = LocalStack(workdir / "stack")
    running: list[Running] = []
    exported: dict[str, set[str]] = {}
    failed = False
    try:
        stack.start()
        env = stack.env()
        running = [start_service(s, env, workdir) for s in SERVICES]
        edge_env = {**env, **{f"APTT_{r.service.upper()}_URL": r.url for r in running}}
        running += [start_service(e, edge_env, workdir) for e in EDGES]
        wait_ready(running)
        with httpx.Client(timeout=10.0) as client:
            for r in running:
                if r.problems:
                    continue
                exercise(r, client)
                response = client.get(f"{r.url}/metrics")
                if response.status_code != 200:
                    r.problems.append(f"/metrics answered {response.status_code}")
                    continue
                text = response.text
                (workdir / f"{r.service}.prom").write_text(text)
                families = promql.families_from_exposition(text)
                exported[r.service] = promql.exported_series(families)
                lint = promtool_check(args.promtool, text)
                if lint:
                    r.problems.append(f"promtool check metrics:\n{lint}")
                print(f"  {r.service}: /metrics has {len(families)} metric families")
    finally:
        for r in running:
            stop(r)
            r.log.close()
        stack.stop()

    for r in running:
        if r.problems:
            failed = True
            print(f"  FAIL {r.service}: " + "; ".join(r.problems), file=sys.stderr)
            print(r.tail(), file=sys.stderr)
        else:
            print(f"  {r.service}: ready, promtool check metrics clean, clean exit on SIGTERM")

    if exported:
        union = set().union(*exported.values()) | promql.SYNTHETIC
        for name, where in sorted(promql.queried_metrics().items()):
            if name not in union:
                failed = True
                places = ", ".join(sorted(set(where))[:3])
                print(
                    f"  FAIL {name} is queried ({places}) but nothing running exports it",
                    file=sys.stderr,
                )
    else:
        failed = True

    if failed:
        print(f"  logs and scrapes kept in {workdir}", file=sys.stderr)
        return 1
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"every metric queried by the dashboards and alerts is exported "
        f"({len(promql.queried_metrics())} names, {len(exported)} components scraped)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
