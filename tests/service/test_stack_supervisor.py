"""`make run`'s supervisor: a crashed process is restarted with backoff and the others never notice; a stop signal
ends every process (SIGTERM, then SIGKILL) and leaves none behind."""
from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import httpx
import yaml
from uvicorn.main import main as uvicorn_command

from handoff.settings import Settings
from handoff.stack import (
    SERVICE_WEBSOCKET_OPTIONS,
    SERVICE_WEBSOCKETS,
    announce_readiness,
    missing_parts,
    stack_programs,
)
from handoff.supervisor import Backoff, Program, Supervisor, after_exit, describe_exit
from tests.service.support.polling import until, until_sync
from tests.service.support.processes import REPO

FAST = Backoff(first=0.05, cap=0.2, stable_after=60)


def survivors(marker: str) -> list[str]:
    """Processes whose command line holds `marker` (the test's own unique token), as `pgrep -f` lists them."""
    found = subprocess.run(["pgrep", "-a", "-f", "--", marker], capture_output=True, text=True).stdout
    return found.splitlines()


def python(marker: str, script: str) -> tuple[str, ...]:
    """A `python -c` child whose command line carries `marker`."""
    return (sys.executable, "-c", f"# {marker}\n{textwrap.dedent(script)}")


def test_the_workers_command_line_says_what_the_in_process_servers_are_given() -> None:
    """uvicorn parses the options into the same settings the tests' in-process servers take as keywords."""
    parsed = uvicorn_command.make_context("uvicorn", ["handoff.app:app", *SERVICE_WEBSOCKET_OPTIONS]).params
    assert {name: parsed[name] for name in SERVICE_WEBSOCKETS} == SERVICE_WEBSOCKETS
    assert parsed["ws_ping_interval"] == 0  # Engine.IO pings; uvicorn's own would be a second timer a socket


def test_restart_delays_double_up_to_the_cap_and_start_over_after_a_stable_run() -> None:
    policy = Backoff(first=1, cap=30, stable_after=60)
    failures, delays = 0, []
    for _ in range(7):
        failures, delay = after_exit(policy, failures, uptime=2.0)
        delays.append(delay)
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert after_exit(policy, failures, uptime=61.0) == (1, 1)
    assert after_exit(policy, 3, uptime=59.0) == (4, 8)


def test_exits_are_told_by_code_or_signal() -> None:
    assert (describe_exit(3), describe_exit(-9), describe_exit(-15)) == (
        "exit code 3", "signal SIGKILL", "signal SIGTERM")


async def test_a_crashing_process_is_restarted_and_the_others_keep_running(tmp_path: Path) -> None:
    marker = f"supervised-{uuid.uuid4().hex}"
    starts, steady_pid = tmp_path / "starts", tmp_path / "steady.pid"
    crasher = python(marker, f"""
        open({str(starts)!r}, "a").write("x")
        print("crashing now", flush=True)
        raise SystemExit(3)
        """)
    steady = python(marker, f"""
        import os, time
        open({str(steady_pid)!r}, "w").write(str(os.getpid()))
        time.sleep(600)
        """)
    out = io.StringIO()
    supervisor = Supervisor([Program("crasher", crasher), Program("steady", steady)], cwd=tmp_path, policy=FAST,
                            out=out)
    running = asyncio.create_task(supervisor.run())

    async def started_four_times() -> bool:
        return starts.exists() and len(starts.read_text()) >= 4 and steady_pid.exists()
    await until(started_four_times, "the crasher restarted three times", explain=out.getvalue)
    first_pid = int(steady_pid.read_text())
    steady_process = supervisor.running["steady"]
    steady_process.send_signal(signal.SIGKILL)

    async def steady_is_back() -> bool:
        return steady_pid.exists() and int(steady_pid.read_text()) != first_pid
    await until(steady_is_back, "the killed process restarted", explain=out.getvalue)
    supervisor.stop()
    assert await running == 0

    log = out.getvalue()
    assert re.search(r"^\S+ crasher +\| crashing now$", log, re.M)  # its output, prefixed with its name
    assert "crasher exited (exit code 3)" in log and "restarting in 0.05 s" in log and "restarting in 0.1 s" in log
    assert "steady exited (signal SIGKILL)" in log
    assert log.count("steady started") == 2  # once, and once after its own crash: never for the crasher's
    assert survivors(marker) == []


def test_a_stop_signal_ends_every_process_group_with_sigkill_after_the_grace(tmp_path: Path) -> None:
    marker = f"supervised-{uuid.uuid4().hex}"
    stubborn = python(marker, """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ignoring SIGTERM", flush=True)
        time.sleep(600)
        """)
    parent = python(marker, f"""
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "# {marker} grandchild\\nimport time; time.sleep(600)"])
        print("started a grandchild", flush=True)
        time.sleep(600)
        """)
    programs = [Program("stubborn", stubborn), Program("parent", parent)]
    script = textwrap.dedent(f"""
        import asyncio, sys
        from pathlib import Path
        from handoff.supervisor import Program, Supervisor
        programs = [Program(name, tuple(argv)) for name, argv in {[(p.name, list(p.argv)) for p in programs]!r}]
        sys.exit(asyncio.run(Supervisor(programs, cwd=Path({str(tmp_path)!r}), grace=1.0).run()))
        """)
    log = tmp_path / "supervisor.log"
    with log.open("wb") as output:
        supervisor = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=output,
                                      stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)})
        try:
            until_sync(lambda: "ignoring SIGTERM" in log.read_text() and "started a grandchild" in log.read_text()
                       and len(survivors(marker)) == 4, "every process started", explain=log.read_text)
            supervisor.send_signal(signal.SIGTERM)
            assert supervisor.wait(30) == 0, log.read_text()
        finally:
            if supervisor.poll() is None:
                supervisor.kill()
    text = log.read_text()
    assert "stopping every process" in text and "still running after 1 s: stubborn; SIGKILL" in text
    assert "stubborn stopped (signal SIGKILL)" in text and "parent stopped (signal SIGTERM)" in text
    assert survivors(marker) == []


async def test_a_program_added_later_runs_with_a_pid_file_a_log_and_its_own_stop_signal(tmp_path: Path) -> None:
    marker = f"supervised-{uuid.uuid4().hex}"
    told = tmp_path / "told"
    store = python(marker, f"""
        import signal, sys, time
        signal.signal(signal.SIGINT, lambda *_: (open({str(told)!r}, "w").write("SIGINT"), sys.exit(0)))
        print("store up", flush=True)
        time.sleep(600)
        """)
    worker = python(marker, """
        import time
        print("worker up", flush=True)
        time.sleep(600)
        """)
    (tmp_path / "pids").mkdir()
    (tmp_path / "logs").mkdir()
    supervisor = Supervisor([Program("store", store, stop_signal=signal.SIGINT)], cwd=tmp_path, out=io.StringIO(),
                            pid_dir=tmp_path / "pids", log_dir=tmp_path / "logs")
    running = asyncio.create_task(supervisor.run())
    await asyncio.sleep(0)
    supervisor.add(Program("worker", worker))  # make cluster: once the database is migrated

    async def both_up() -> bool:
        return all((tmp_path / "pids" / f"{name}.pid").exists() for name in ("store", "worker"))
    await until(both_up, "both pid files written")
    assert int((tmp_path / "pids" / "worker.pid").read_text()) == supervisor.running["worker"].pid

    async def worker_logged() -> bool:
        log = tmp_path / "logs" / "worker.log"
        return log.exists() and "worker up" in log.read_text()
    await until(worker_logged, "the worker's line in logs/worker.log")
    supervisor.stop()
    assert await running == 0
    assert told.read_text() == "SIGINT"  # PostgreSQL's fast shutdown, not SIGTERM's wait for every client
    assert list((tmp_path / "pids").iterdir()) == []  # a stopped program leaves no pid file
    assert survivors(marker) == []


def test_the_stack_runs_each_process_on_the_port_the_service_talks_to() -> None:
    settings = Settings(port=18000, rasa_url="http://127.0.0.1:18005", action_server_url="http://127.0.0.1:18055/")
    programs = {program.name: program
                for program in stack_programs(settings, Path(".venv-bot"), Path(".venv"), Path("/t/trackers.db"))}
    assert programs["service"].argv[-2:] == ("--port", "18000")
    options = programs["service"].argv[3:3 + len(SERVICE_WEBSOCKET_OPTIONS)]
    assert options == SERVICE_WEBSOCKET_OPTIONS  # wsproto, no per-connection zlib state (bench/idle.py)
    assert programs["service"].env == {"RASA_TRACKER_DB": "/t/trackers.db"}  # an erasure forgets trackers there
    assert programs["rasa"].argv[programs["rasa"].argv.index("--port") + 1] == "18005"
    assert programs["actions"].argv[-2:] == ("--port", "18055")
    assert programs["actions"].env == {"SANIC_HOST": "127.0.0.1"}  # rasa-sdk would listen on every interface
    # Rasa finds the action server (the same setting) and its tracker store through endpoints.yml.
    assert programs["rasa"].env == {"ACTION_SERVER_URL": "http://127.0.0.1:18055", "RASA_TRACKER_DB": "/t/trackers.db"}
    endpoints = yaml.safe_load((REPO / "endpoints.yml").read_text())
    assert endpoints["action_endpoint"]["url"] == "${ACTION_SERVER_URL}/webhook"
    assert endpoints["tracker_store"]["db"] == "${RASA_TRACKER_DB}"


async def test_the_terminal_is_told_what_readyz_says_is_missing() -> None:
    def readyz(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"ready": False, "missing": ["rasa"], "checks": {
            "database": {"ok": True, "detail": "ok"}, "rasa": {"ok": False, "detail": "ConnectError"},
            "action_server": {"ok": True, "detail": "HTTP 200"}}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(readyz)) as client:
        assert await missing_parts(client, "http://service") == ["rasa (ConnectError)"]
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(502, text="no"))) as client:
        assert await missing_parts(client, "http://service") == ["service (JSONDecodeError)"]


async def test_the_terminal_hears_when_readiness_is_lost_and_when_it_comes_back() -> None:
    def answer(missing: list[str]) -> httpx.Response:
        checks = {name: {"ok": name not in missing, "detail": "ConnectError" if name in missing else "ok"}
                  for name in ("database", "rasa", "action_server")}
        return httpx.Response(503 if missing else 200, json={"ready": not missing, "missing": missing,
                                                             "checks": checks})
    answers = iter([answer(["rasa", "action_server"]), answer([]), answer([]), answer(["rasa"]), answer(["rasa"]),
                    answer([])])
    out = io.StringIO()
    supervisor = Supervisor([], cwd=REPO, out=out)
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _: next(answers, answer([])))) as client:
        watching = asyncio.create_task(announce_readiness(supervisor, client, "http://service", interval=0))

        async def back() -> bool:
            return "ready again" in out.getvalue()
        await until(back, "told it is ready again", explain=out.getvalue)
        watching.cancel()
    lines = re.findall(r"^\d\d:\d\d:\d\d (.*)$", out.getvalue(), re.M)  # the supervisor's lines, not the banner
    assert lines == ["readyz     | not ready, missing: rasa (ConnectError); customers get the holding message and "
                     "are handed to people until it is back", "readyz     | ready again"]
    assert out.getvalue().count("Ready.") == 1 and "Demo page (widget): http://service/" in out.getvalue()
