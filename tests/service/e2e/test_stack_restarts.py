"""`make run`'s stack survives a Rasa crash: the service keeps the customer and hands off, the supervisor brings
Rasa back, /readyz says so, and the assistant answers the same widget and new ones again; SIGTERM then leaves no
process behind."""
from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service.support.processes import REPO, Process, free_port
from tests.service.support.stack import MODEL, VENV, migrate
from tests.service.support.webchat_client import Visitor

pytestmark = pytest.mark.e2e


def pids(pattern: str) -> list[int]:
    """`pgrep -f`: the processes whose command line matches."""
    found = subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def started(log: str, name: str) -> list[int]:
    """The pids the supervisor says it started `name` with, in order."""
    return [int(pid) for pid in re.findall(rf"\| {name} started \(pid (\d+)\)", log)]


def readiness(base_url: str) -> tuple[int, list[str]]:
    try:
        response = httpx.get(f"{base_url}/readyz", timeout=5)
        return response.status_code, response.json()["missing"]
    except httpx.HTTPError:
        return 0, ["service"]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Process, str, list[str]]]:
    """`python -m handoff stack` on free ports, a scratch database and a scratch demo backend."""
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} is missing: run `make train` first")
    port, rasa_port, action_port = free_port(), free_port(), free_port()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'service.sqlite3'}"
    migrate(database_url)
    base_url = f"http://127.0.0.1:{port}"
    env = {"PORT": str(port), "PUBLIC_BASE_URL": base_url, "DATABASE_URL": database_url,
           "RASA_URL": f"http://127.0.0.1:{rasa_port}", "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}",
           "ORDERS_DB_PATH": str(tmp_path / "orders.sqlite3"),
           "RASA_TRACKER_DB": str(tmp_path / "trackers.sqlite3"), "MEDIA_DIR": str(tmp_path / "media"),
           "BOT_TIMEOUT_SECONDS": "5", "PYTHONPATH": str(REPO), "SECRET_KEY": "s" * 32, "LOG_JSON": "false"}
    process = Process("stack", [str(VENV / "bin" / "python"), "-m", "handoff", "stack"], env=env)
    ports = [f"--port {p}( |$)" for p in (port, rasa_port, action_port)]
    try:
        yield process, base_url, ports
    finally:
        process.stop()
        for pattern in ports:  # only if the test failed before its own check: what this stack started
            for pid in pids(pattern):
                subprocess.run(["kill", "-9", str(pid)], check=False)


async def test_a_killed_rasa_is_restarted_while_the_service_keeps_customers(stack, tmp_path: Path) -> None:
    process, base_url, ports = stack
    process.wait_until(lambda: readiness(base_url)[0] == 200, 600, "ready (/readyz 200)")
    process.wait_until(lambda: "Ready." in process.log_path.read_text(), 30, "telling the terminal it is ready")
    visitor = Visitor(base_url)
    await visitor.connect()
    assert "actor" not in (await visitor.say("hola"))[0]  # the assistant answers

    log = process.log_path.read_text()
    [rasa_pid], [service_pid], [actions_pid] = (started(log, name) for name in ("rasa", "service", "actions"))
    os.kill(rasa_pid, signal.SIGKILL)  # as a crash would
    await asyncio.to_thread(process.wait_until, lambda: readiness(base_url) == (503, ["rasa"]), 60,
                            "reporting rasa missing")

    held = await visitor.say("I need to know where my order is")
    assert len(held) == 2 and all(reply["actor"] == "system" for reply in held), held  # holding + queue notice
    assert "person" in held[0]["text"]

    # Waited for in a thread: the held widget's socket keeps answering the service's pings meanwhile.
    await asyncio.to_thread(process.wait_until, lambda: readiness(base_url)[0] == 200, 600, "ready again by itself")
    await asyncio.to_thread(process.wait_until, lambda: "ready again" in process.log_path.read_text(), 30,
                            "telling the terminal")
    back = await visitor.say("hola, donde esta mi pedido 100002?")  # no agent took it: the assistant takes it back
    answer = " ".join(reply.get("text", "") for reply in back)
    assert back and all("actor" not in reply for reply in back) and "100002" in answer, back
    newcomer = Visitor(base_url)  # and a new conversation
    await newcomer.connect()
    replies = await newcomer.say("hola, donde esta mi pedido 100002?")
    answer = " ".join(reply.get("text", "") for reply in replies)
    assert "actor" not in replies[0] and "100002" in answer and "http" in answer, replies  # through the actions
    await newcomer.close()
    await visitor.close()

    log = process.log_path.read_text()
    assert "rasa exited (signal SIGKILL)" in log and "restarting in 1 s" in log
    assert len(started(log, "rasa")) == 2  # restarted by the supervisor, no one else
    assert (started(log, "service"), started(log, "actions")) == ([service_pid], [actions_pid])  # never touched
    assert "readyz" in log and "missing: rasa" in log  # the terminal said what was missing
    assert "InMemoryTrackerStore" not in log and (tmp_path / "trackers.sqlite3").stat().st_size > 0  # endpoints.yml

    process.popen.send_signal(signal.SIGTERM)  # the supervisor alone, as `kill` would
    assert process.popen.wait(60) == 0
    assert [pids(pattern) for pattern in ports] == [[], [], []]
