"""`make run`: Rasa, the action server and the service under one supervisor; a crash restarts only that process."""
from __future__ import annotations

import asyncio
import os
import resource
from pathlib import Path
from typing import TypedDict
from urllib.parse import urlsplit

import httpx

from handoff.settings import REPO_ROOT, Settings
from handoff.supervisor import Program, Supervisor

# rasa-sdk has no --host option; its Sanic server reads SANIC_HOST and would otherwise listen on every interface.
ACTION_SERVER_ENV = {"SANIC_HOST": "127.0.0.1"}
BOT_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
# Every service worker's websockets (bench/idle.py measures what an open widget costs): no permessage-deflate,
# which browsers offer and uvicorn accepts with zlib's full window (~40 KB of compressor state per widget for frames
# of a few hundred bytes); wsproto, which keeps less per connection than websockets' protocol (49 KiB against 54 at
# 5,000); no websocket-level pings from uvicorn, as Engine.IO pings every 25 s and drops a socket silent for 45;
# frames bounded like Socket.IO's polling bodies (256 KiB).


class WebsocketSettings(TypedDict):
    """uvicorn's websocket settings, as `uvicorn.Config` keywords (the tests' in-process servers take them so)."""

    ws: str
    ws_per_message_deflate: bool
    ws_ping_interval: float
    ws_max_size: int


SERVICE_WEBSOCKETS: WebsocketSettings = {"ws": "wsproto", "ws_per_message_deflate": False, "ws_ping_interval": 0.0,
                                         "ws_max_size": 256 * 1024}


def uvicorn_options(settings: WebsocketSettings) -> tuple[str, ...]:
    """The same settings as uvicorn's command-line options (`make run`, `make cluster`, the tests' processes)."""
    return ("--ws", settings["ws"], "--ws-per-message-deflate", str(settings["ws_per_message_deflate"]).lower(),
            "--ws-ping-interval", f"{settings['ws_ping_interval']:g}", "--ws-max-size", str(settings["ws_max_size"]))


SERVICE_WEBSOCKET_OPTIONS = uvicorn_options(SERVICE_WEBSOCKETS)


def port_of(url: str, default: int) -> int:
    """The port of a URL the service talks to, so the process it names listens where the service looks."""
    return urlsplit(url).port or default


def stack_programs(settings: Settings, bot_venv: Path, venv: Path, tracker_db: Path) -> list[Program]:
    """The processes of the embedded stack, on the ports of PORT, RASA_URL and ACTION_SERVER_URL."""
    rasa = str(bot_venv / "bin" / "rasa")
    token = ("--auth-token", settings.rasa_token) if settings.rasa_token else ()
    action_url = settings.action_server_url.rstrip("/")
    rasa_env = {"ACTION_SERVER_URL": action_url, "RASA_TRACKER_DB": str(tracker_db)}  # read by endpoints.yml
    return [
        Program("actions", (rasa, "run", "actions", "--actions", "actions",
                            "--port", str(port_of(action_url, 5055))), ACTION_SERVER_ENV),
        Program("rasa", (rasa, "run", "--model", "models/current.tar.gz", "--enable-api", "--interface", "127.0.0.1",
                         "--port", str(port_of(settings.rasa_url, 5005)), "--endpoints", "endpoints.yml",
                         "--credentials", "credentials.yml", *token), rasa_env),
        Program("service", (str(venv / "bin" / "uvicorn"), "handoff.app:app", "--factory", *SERVICE_WEBSOCKET_OPTIONS,
                            "--host", "127.0.0.1",
                            "--port", str(settings.port)),
                {"RASA_TRACKER_DB": str(tracker_db)}),  # where an erasure deletes the assistant's conversations
    ]


async def missing_parts(client: httpx.AsyncClient, base_url: str) -> list[str]:
    """What /readyz says is missing (empty when ready), or the service itself when it does not answer."""
    try:
        body = (await client.get(f"{base_url}/readyz")).json()
        checks = body["checks"]
        return [f"{name} ({checks[name]['detail']})" for name in body["missing"]]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        return [f"service ({type(exc).__name__})"]


async def announce_readiness(supervisor: Supervisor, client: httpx.AsyncClient, base_url: str,
                             interval: float = 2.0) -> None:
    """Prints where to go once ready, then each time readiness is lost (and what is missing) or comes back."""
    ready_before: bool | None = None  # None: still starting, when nothing is worth telling
    while True:
        missing = await missing_parts(client, base_url)
        if supervisor.stopping:
            return
        if not missing and ready_before is None:
            supervisor.out.write(f"\n  Ready.\n  Demo page (widget): {base_url}/\n"
                                 f"  Inbox:              {base_url}/inbox\n"
                                 f"  Health:             {base_url}/readyz\n  Press Ctrl-C to stop.\n\n")
            supervisor.out.flush()
        elif missing and ready_before:
            supervisor.log("readyz", f"not ready, missing: {', '.join(missing)}; customers get the holding "
                                     "message and are handed to people until it is back")
        elif not missing and ready_before is False:
            supervisor.log("readyz", "ready again")
        if not missing or ready_before is not None:
            ready_before = not missing
        await asyncio.sleep(interval)


async def supervise(programs: list[Program], port: int) -> int:
    """Runs the stack until a stop signal, announcing readiness on the side."""
    supervisor = Supervisor(programs, cwd=REPO_ROOT, env={**os.environ, **BOT_ENV})
    async with httpx.AsyncClient(timeout=5.0) as client:
        watcher = asyncio.create_task(announce_readiness(supervisor, client, f"http://127.0.0.1:{port}"))
        try:
            return await supervisor.run()
        finally:
            watcher.cancel()


def raise_fd_limit() -> int:
    """The soft file-descriptor limit up to the hard one: every webchat visitor holds a socket, and the children
    inherit the limit (a default soft limit of 1024 caps a worker at about a thousand open widgets)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20  # Linux's default fs.nr_open
    if soft != target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def run_stack(settings: Settings) -> int:
    """`python -m handoff stack`: returns once Ctrl-C (or SIGTERM) has stopped every process."""
    raise_fd_limit()
    bot_venv = Path(os.environ.get("BOT_VENV", REPO_ROOT / ".venv-bot")).resolve()
    venv = Path(os.environ.get("VENV", REPO_ROOT / ".venv")).resolve()
    tracker_db = Path(os.environ.get("RASA_TRACKER_DB") or REPO_ROOT / "var" / "rasa-trackers.sqlite3").resolve()
    tracker_db.parent.mkdir(parents=True, exist_ok=True)  # SQLite makes the file, not its folder
    return asyncio.run(supervise(stack_programs(settings, bot_venv, venv, tracker_db), settings.port))
