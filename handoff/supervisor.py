"""Keeps a few processes running: a crashed one is restarted with backoff, the others are never touched.

Each child runs in its own session (process group), so Ctrl-C reaches only the supervisor, which then stops
every group: SIGTERM, and SIGKILL after a grace period. Output is prefixed with the child's name.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
COLORS = ("36", "33", "35", "32", "34", "31")


@dataclass(frozen=True)
class Program:
    """One supervised command: argv as exec'd (no shell), env on top of the supervisor's own."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    # How it is asked to stop: PostgreSQL's SIGTERM waits for every client to leave, its SIGINT does not.
    stop_signal: signal.Signals = signal.SIGTERM


@dataclass(frozen=True)
class Backoff:
    """Restart delays double from `first` up to `cap`; a run that lasted `stable_after` seconds starts over."""

    first: float = 1.0
    cap: float = 30.0
    stable_after: float = 60.0


def after_exit(policy: Backoff, failures: int, uptime: float) -> tuple[int, float]:
    """Given the crashes in a row so far and how long the last run lasted: the new count and the delay."""
    failures = 1 if uptime >= policy.stable_after else failures + 1
    return failures, min(policy.cap, policy.first * 2 ** (failures - 1))


def describe_exit(returncode: int) -> str:
    """`exit code 3` or `signal SIGKILL`, as the log says it."""
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


class Supervisor:
    """Runs its programs until it receives SIGINT, SIGTERM or SIGHUP (or `stop()`), restarting any that exits."""

    def __init__(self, programs: list[Program], *, cwd: Path, env: Mapping[str, str] | None = None,
                 policy: Backoff | None = None, grace: float = 15.0, out: TextIO | None = None,
                 pid_dir: Path | None = None, log_dir: Path | None = None) -> None:
        self.programs = list(programs)
        self.pid_dir = pid_dir  # `<name>.pid` of each running program, for operators and drills
        self.log_dir = log_dir  # `<name>.log`: each program's lines (the supervisor's own: supervisor.log)
        self._log_files: dict[str, TextIO] = {}
        self.cwd = cwd
        self.env = dict(os.environ if env is None else env)
        self.policy = policy or Backoff()
        self.grace = grace
        self.out = out or sys.stdout
        self.running: dict[str, asyncio.subprocess.Process] = {}
        self.width = max([len(p.name) for p in programs] + [len("supervisor")])
        self.colors = {p.name: COLORS[i % len(COLORS)] for i, p in enumerate(programs)}
        self._stopping: asyncio.Event | None = None
        self._keepers: list[asyncio.Task[None]] = []

    def log(self, name: str, line: str) -> None:
        """One line of output, prefixed with the time and who said it (coloured on a terminal)."""
        prefix = f"{time.strftime('%H:%M:%S')} {name:<{self.width}} |"
        if self.out.isatty():
            prefix = f"\033[{self.colors.get(name, '1')}m{prefix}\033[0m"
        self.out.write(f"{prefix} {line}\n")
        self.out.flush()
        if self.log_dir is not None:
            if name not in self._log_files:
                self._log_files[name] = open(self.log_dir / f"{name}.log", "a", encoding="utf-8")  # noqa: SIM115
            self._log_files[name].write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
            self._log_files[name].flush()

    @property
    def stopping(self) -> bool:
        """True once a stop was asked for: what is missing then is missing on purpose."""
        return self._stopping is not None and self._stopping.is_set()

    def stop(self) -> None:
        """Asks `run` to stop every program and return (what the stop signals do)."""
        if self._stopping is not None:
            self._stopping.set()

    async def run(self) -> int:
        """Starts every program and keeps them up until told to stop; returns 0 once all have stopped."""
        self._stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.stop)
        try:
            self._keepers = [asyncio.create_task(self._keep(program)) for program in self.programs]
            await self._stopping.wait()
            self.log("supervisor", "stopping every process")
            self._signal_all(None)
            _, late = await asyncio.wait(self._keepers, timeout=self.grace)
            if late:
                self.log("supervisor", f"still running after {self.grace:.0f} s: {', '.join(self.running)}; SIGKILL")
                self._signal_all(signal.SIGKILL)
                await asyncio.wait(self._keepers)
            return 0
        finally:
            for file in self._log_files.values():
                file.close()
            self._log_files.clear()
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    def add(self, program: Program) -> None:
        """Starts one more program while `run` runs (make cluster: the workers once the database is migrated)."""
        assert self._stopping is not None, "add() is for a running supervisor"
        self.programs.append(program)
        self.width = max(self.width, len(program.name))
        self.colors[program.name] = COLORS[(len(self.programs) - 1) % len(COLORS)]
        self._keepers.append(asyncio.create_task(self._keep(program)))

    def _signal_all(self, sig: signal.Signals | None) -> None:
        """`sig` to every running group; None: each program's own stop signal."""
        stop_signals = {program.name: program.stop_signal for program in self.programs}
        for name, process in self.running.items():
            _signal_group(process.pid, sig or stop_signals.get(name, signal.SIGTERM))

    async def _keep(self, program: Program) -> None:
        """Runs `program` again each time it exits, after the backoff delay, until the supervisor stops."""
        assert self._stopping is not None
        failures = 0
        while not self._stopping.is_set():
            started = time.monotonic()
            returncode = await self._run_once(program)
            if self._stopping.is_set():
                self.log("supervisor", f"{program.name} stopped ({describe_exit(returncode)})")
                return
            uptime = time.monotonic() - started
            failures, delay = after_exit(self.policy, failures, uptime)
            self.log("supervisor", f"{program.name} exited ({describe_exit(returncode)}) after {uptime:.1f} s; "
                                   f"restarting in {delay:g} s (crash {failures} in a row)")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _run_once(self, program: Program) -> int:
        """One run of `program`, its output copied line by line; returns its exit status."""
        assert self._stopping is not None
        try:
            process = await asyncio.create_subprocess_exec(
                *program.argv, cwd=self.cwd, env={**self.env, **program.env}, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        except OSError as exc:  # a missing or non-executable command: retried like a crash
            self.log("supervisor", f"{program.name} could not start: {exc}")
            return 127
        self.running[program.name] = process
        pid_file = self.pid_dir / f"{program.name}.pid" if self.pid_dir else None
        if pid_file is not None:
            pid_file.write_text(f"{process.pid}\n")
        self.log("supervisor", f"{program.name} started (pid {process.pid})")
        if self._stopping.is_set():  # the stop came while it was being started
            _signal_group(process.pid, program.stop_signal)
        assert process.stdout is not None
        copying = asyncio.create_task(self._copy_output(program.name, process.stdout))
        returncode = await process.wait()
        del self.running[program.name]
        if pid_file is not None:
            pid_file.unlink(missing_ok=True)
        _signal_group(process.pid, signal.SIGKILL)  # whatever it started dies with it
        try:
            await asyncio.wait_for(copying, 5.0)
        except asyncio.TimeoutError:
            copying.cancel()
        return returncode

    async def _copy_output(self, name: str, stream: asyncio.StreamReader) -> None:
        pending = b""
        while chunk := await stream.read(65536):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                self.log(name, line.decode(errors="replace").rstrip("\r"))
        if pending:
            self.log(name, pending.decode(errors="replace"))


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(group, sig)
