"""Starting and stopping real server processes on free loopback ports."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.service.support.polling import until_sync

REPO = Path(__file__).resolve().parents[3]
# Process groups started by test runs, one line each: "<group id> <leader start> <owner pid> <owner start>".
REGISTRY = Path(os.environ.get("TEST_PROCESS_REGISTRY", f"/tmp/frontdoor-test-processes-{os.getuid()}"))


def _start_time(pid: int) -> str | None:
    """The kernel's start tick of a process: tells a live owner from a reused pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _register(group: int) -> None:
    with REGISTRY.open("a") as registry:
        registry.write(f"{group} {_start_time(group)} {os.getpid()} {_start_time(os.getpid())}\n")


def reap_orphans(registry: Path | None = None) -> int:
    """Kills the servers of test runs that were killed before they could stop them; returns how many groups."""
    registry = registry or REGISTRY
    if not registry.exists():
        return 0
    kept, reaped = [], 0
    for line in registry.read_text().splitlines():
        try:
            group, leader_started, owner, started = line.split()
            group_id = int(group)
        except ValueError:
            continue
        if _start_time(int(owner)) == started:
            kept.append(line)  # its test run is still going
            continue
        if _start_time(group_id) != leader_started:
            continue  # the group is gone (its id may belong to someone else now)
        try:
            os.killpg(group_id, signal.SIGKILL)
            reaped += 1
        except (ProcessLookupError, PermissionError):
            pass
    registry.write_text("".join(f"{line}\n" for line in kept))
    return reaped


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """A child process with its output in a log file, stopped with its whole process group."""

    def __init__(self, name: str, command: list[str], env: dict[str, str] | None = None,
                 cwd: Path = REPO, log_dir: Path | None = None) -> None:
        self.name = name
        self.command = command
        log_dir = log_dir or Path(os.environ.get("TEST_LOG_DIR", "/tmp"))
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}-{os.getpid()}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - open as long as the child writes to it
        self.popen = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})}, stdout=self._log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        _register(self.popen.pid)  # its own session: the group id is the pid

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """Polls `check` until true; fails with the process's last log lines otherwise."""
        def ready() -> bool:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.popen.returncode}) before {what}:\n{self.log_tail()}")
            try:
                return bool(check())
            except (httpx.HTTPError, OSError):
                return False
        until_sync(ready, f"{self.name} {what}", timeout, interval=0.1, explain=self.log_tail)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
            except ProcessLookupError:
                pass
        self._log.close()


def http_ok(url: str) -> Callable[[], bool]:
    return lambda: httpx.get(url, timeout=2).status_code == 200
