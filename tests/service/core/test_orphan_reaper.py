"""A test run killed with SIGKILL leaves its servers behind; the next run's reaper stops them, and only them."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.service.support.polling import until_sync
from tests.service.support.processes import REPO, reap_orphans

OWNER = """
import sys, time
from tests.service.support.processes import Process
server = Process("sleeper", ["sleep", "300"])
print(server.popen.pid, flush=True)
time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _gone(pid: int, timeout: float = 5) -> bool:
    return until_sync(lambda: not _alive(pid), f"process {pid} gone", timeout)


def _start_owner(registry: Path) -> tuple[subprocess.Popen[str], int]:
    owner = subprocess.Popen([sys.executable, "-c", OWNER], cwd=REPO, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "TEST_PROCESS_REGISTRY": str(registry)})
    return owner, int(owner.stdout.readline())  # type: ignore[union-attr]


def test_servers_of_a_killed_run_are_reaped_and_live_runs_are_left_alone(tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    killed, orphan = _start_owner(registry)
    living, kept = _start_owner(registry)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(5)
        assert _alive(orphan)  # SIGKILL gave the owner no chance to stop its server
        assert reap_orphans(registry) == 1
        assert _gone(orphan)
        assert _alive(kept)
        assert len(registry.read_text().splitlines()) == 1  # the live run's line stays
    finally:
        living.kill()
        living.wait(5)
    assert reap_orphans(registry) == 1  # once its owner is gone, the other run's server goes too
    assert _gone(kept)
