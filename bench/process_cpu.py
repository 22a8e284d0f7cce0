"""Where a benchmark's CPU went: processes' user plus system time from /proc, a cluster's processes by pid file."""
from __future__ import annotations

import os
from pathlib import Path


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time the processes have used so far (Linux /proc); a process gone counts 0."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = _stat(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy so far, all cores (/proc/stat: everything but idle and iowait)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # guest time is in user already


def children_by_parent() -> dict[int, list[int]]:
    """Every running process's children, from one pass over /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
    return parents


def with_children(pid: int, parents: dict[int, list[int]]) -> list[int]:
    """The process and all its descendants (PostgreSQL's backends under `runuser`, uvicorn's or Sanic's workers)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(parents.get(current, []))
    return found


def cluster_pids(directory: Path) -> dict[str, int]:
    """The processes of a running `make cluster`, by name, from the pid files it keeps (CLUSTER_DIR/pids/)."""
    return {path.stem: int(path.read_text().split()[0]) for path in sorted((directory / "pids").glob("*.pid"))}


MACHINE = "machine"


class CpuMeter:
    """CPU seconds each named process (with its children, read at each reading) used between start() and stop(),
    and the whole machine's under `MACHINE`: what else ran on the same cores."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.started: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        parents = children_by_parent()
        return {**{name: cpu_seconds(with_children(pid, parents)) for name, pid in self.pids.items()},
                MACHINE: machine_busy_seconds()}

    def start(self) -> None:
        self.started = self._now()

    def stop(self) -> dict[str, float]:
        now = self._now()
        return {name: now[name] - self.started.get(name, now[name]) for name in now}
