"""One local server as a child process: spawn, wait until it answers, stop, never leak.

Every server runs in its own session (so its own process group): a Ctrl-C in the terminal
reaches only the launcher, which then stops the servers in order instead of having them all
die at once mid-write. Because the servers no longer share the terminal's fate, three nets
catch an abandoned child: `stop()`, an atexit hook, and a watchdog process that notices when
the launcher dies without running either (SIGKILL, `os._exit`, pytest-timeout's thread mode).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import IO, ClassVar

LOOPBACK = "127.0.0.1"
_LOG_TAIL_LINES = 40


class ServerStartError(RuntimeError):
    """A server did not come up; the message carries the tail of its log."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nobody listens on right now (the kernel picks it; a race remains)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(host: str, port: int) -> bool:
    """True unless something listens on the port (connections in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Servers bind with SO_REUSEADDR, so a restart may reuse a port that still has
        # connections in TIME_WAIT; only a live listener keeps them out.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log file)"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(log is empty)"


class _Watchdog:
    """Kills our servers' process groups if this process dies without stopping them.

    The watchdog reads "+pgid"/"-pgid" lines from a pipe whose only writer is this process;
    end of file means we are gone, however we went.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None

    def _send(self, line: str) -> None:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "aptt_local.watchdog"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    start_new_session=True,
                )
            stdin = self._proc.stdin
            assert stdin is not None
            # A dead watchdog must not stop a server from starting or stopping.
            with contextlib.suppress(OSError):
                stdin.write(line.encode("ascii") + b"\n")
                stdin.flush()

    def watch(self, pgid: int) -> None:
        self._send(f"+{pgid}")

    def forget(self, pgid: int) -> None:
        self._send(f"-{pgid}")


_watchdog = _Watchdog()
_running: list[ManagedServer] = []
_running_lock = threading.Lock()


def _stop_all_at_exit() -> None:
    with _running_lock:
        servers = list(reversed(_running))
    for server in servers:
        with contextlib.suppress(Exception):
            server.stop()


atexit.register(_stop_all_at_exit)


class ManagedServer(ABC):
    """A server process on a loopback port, with its log in `<state_dir>/logs/<name>.log`.

    Subclasses say how to run it (`command`) and how to tell it is ready (`probe`).
    `start()` and `stop()` may alternate; the port stays the same once a start succeeded,
    so clients configured with it reconnect after a restart.
    """

    name: ClassVar[str]
    # Seconds between SIGTERM and SIGKILL; a database needs longer to close its files.
    stop_grace: ClassVar[float] = 5.0
    start_timeout: ClassVar[float] = 30.0

    def __init__(self, state_dir: str | Path, *, port: int | None = None) -> None:
        self.host = LOOPBACK
        self.state_dir = Path(state_dir).resolve()
        self.log_path = self.state_dir / "logs" / f"{self.name}.log"
        self._port_fixed = port is not None
        self.port = port if port is not None else free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self._terminated = False
        # Exit status of the last run, for callers that check how a process ended.
        self.returncode: int | None = None
        self._lock = threading.RLock()

    # What a subclass provides.

    @abstractmethod
    def command(self) -> Sequence[str]:
        """The argv that runs the server on `self.host:self.port`."""

    @abstractmethod
    def probe(self) -> None:
        """One quick readiness check; raises when the server does not answer yet."""

    def prepare(self) -> None:
        """Create directories or files the server needs before it starts."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)

    def extra_env(self) -> dict[str, str]:
        return {}

    # Lifecycle.

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def is_running(self) -> bool:
        return self.pid is not None

    def start(self, timeout: float | None = None) -> None:
        """Start the server and return once it answers; no-op when already running."""
        with self._lock:
            if self.is_running():
                return
            # Another process may grab a port between free_port() and the server's bind;
            # only a port we picked ourselves, and never a restart's, may be swapped.
            attempts = 1 if self._port_fixed else 3
            for attempt in range(1, attempts + 1):
                # Checked first because the readiness probe cannot tell our server from
                # another one already answering on the port.
                if not port_is_free(self.host, self.port):
                    if attempt < attempts:
                        self.port = free_port()
                        continue
                    raise ServerStartError(
                        f"{self.name}: {self.host}:{self.port} is already in use by another process"
                    )
                self._spawn()
                try:
                    self._wait_ready(timeout if timeout is not None else self.start_timeout)
                except _ExitedEarly as exc:
                    self._reap()
                    if attempt < attempts and not port_is_free(self.host, self.port):
                        self.port = free_port()
                        continue
                    raise ServerStartError(str(exc)) from None
                except BaseException:
                    self.stop()
                    raise
                else:
                    self._port_fixed = True
                    return

    def terminate(self) -> None:
        """Send SIGTERM without waiting, so several servers can shut down side by side."""
        proc = self._proc
        # Once only: a second SIGTERM would re-enter a server's own shutdown handler
        # (Secantus would close WiredTiger twice).
        if proc is not None and proc.poll() is None and not self._terminated:
            self._terminated = True
            _signal_group(proc.pid, signal.SIGTERM)

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM the process group, SIGKILL it after the grace period, reap the child."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            grace = timeout if timeout is not None else self.stop_grace
            if proc.poll() is None:
                self.terminate()
                try:
                    proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    _signal_group(proc.pid, signal.SIGKILL)
                    proc.wait()
            self._reap()

    def _spawn(self) -> None:
        self.prepare()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1", **self.extra_env()}
        argv = list(self.command())
        with self.log_path.open("ab") as log:
            _write_banner(log, f"starting on {self.host}:{self.port}: {' '.join(argv)}")
            self._proc = subprocess.Popen(  # noqa: S603 - argv built by us, no shell
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.state_dir,
                env=env,
                start_new_session=True,
            )
            self._terminated = False
        _watchdog.watch(self._proc.pid)
        with _running_lock:
            _running.append(self)

    def _wait_ready(self, timeout: float) -> None:
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + timeout
        delay = 0.02
        last_error: BaseException | None = None
        while True:
            code = proc.poll()
            if code is not None:
                raise _ExitedEarly(
                    f"{self.name} exited with code {code} before it was ready "
                    f"(port {self.port}). Last lines of {self.log_path}:\n"
                    f"{log_tail(self.log_path)}"
                )
            try:
                self.probe()
            except Exception as exc:
                last_error = exc
            else:
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        raise ServerStartError(
            f"{self.name} did not answer on {self.host}:{self.port} within {timeout:.0f}s "
            f"(last probe error: {last_error!r}). Last lines of {self.log_path}:\n"
            f"{log_tail(self.log_path)}"
        )

    def _reap(self) -> None:
        proc = self._proc
        if proc is None:
            return
        proc.wait()
        self.returncode = proc.returncode
        _watchdog.forget(proc.pid)
        with self.log_path.open("ab") as log:
            _write_banner(log, f"stopped (exit code {proc.returncode})")
        with _running_lock, contextlib.suppress(ValueError):
            _running.remove(self)
        self._proc = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.host}:{self.port} pid={self.pid}>"


class _ExitedEarly(Exception):
    pass


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _write_banner(log: IO[bytes], text: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    log.write(f"---- aptt_local {stamp} {text}\n".encode())
    log.flush()
