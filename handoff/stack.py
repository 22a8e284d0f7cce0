"""`make run`: Rasa, the action server and the service in one terminal; Ctrl-C stops all three."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import httpx
from honcho.manager import Manager
from honcho.printer import Printer

from handoff.settings import REPO_ROOT, Settings

# rasa-sdk has no --host option; its Sanic server reads SANIC_HOST and would otherwise listen on every interface.
ACTION_SERVER_ENV = {"SANIC_HOST": "127.0.0.1"}


def stack_commands(settings: Settings, bot_venv: Path, venv: Path) -> dict[str, str]:
    """The processes of the embedded stack, by name."""
    rasa = f"{bot_venv}/bin/rasa"
    token = f" --auth-token {settings.rasa_token}" if settings.rasa_token else ""
    return {
        "actions": " ".join(f"{k}={v}" for k, v in ACTION_SERVER_ENV.items())
                   + f" {rasa} run actions --actions actions --port 5055",
        "rasa": (f"{rasa} run --model models/current.tar.gz --enable-api --interface 127.0.0.1 --port 5005 "
                 f"--endpoints endpoints.yml --credentials credentials.yml{token}"),
        "service": f"{venv}/bin/uvicorn handoff.app:app --factory --host 127.0.0.1 --port {settings.port}",
        "ready": f"{venv}/bin/python -m handoff wait-ready",
    }


def run_stack(settings: Settings) -> int:
    """Starts every process with prefixed logs and returns when any of them stops."""
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    manager = Manager(Printer(sys.stdout))
    bot_venv = Path(os.environ.get("BOT_VENV", REPO_ROOT / ".venv-bot"))
    venv = Path(os.environ.get("VENV", REPO_ROOT / ".venv"))
    for name, command in stack_commands(settings, bot_venv.resolve(), venv.resolve()).items():
        manager.add_process(name, command, env=env, cwd=str(REPO_ROOT))
    manager.loop()
    return manager.returncode or 0


def wait_ready(settings: Settings, timeout: float = 600.0) -> int:
    """Polls /readyz, prints where to go, then stays up so the stack keeps running."""
    base = f"http://127.0.0.1:{settings.port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2.0).status_code == 200:
                print(f"\n  Ready.\n  Demo page (widget): {base}/\n  Inbox:              {base}/inbox\n"
                      f"  Health:             {base}/readyz\n  Press Ctrl-C to stop.\n", flush=True)
                while True:
                    time.sleep(3600)
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    print(f"the stack did not become ready within {timeout:.0f}s; see the logs above", file=sys.stderr)
    return 1
