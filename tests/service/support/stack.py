"""The real assistant (trained model + action server) and the service, as subprocesses."""
from __future__ import annotations

import functools
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from handoff.stack import ACTION_SERVER_ENV, BOT_ENV, SERVICE_WEBSOCKET_OPTIONS
from tests.service.support.processes import REPO, Process, free_port, http_ok

BOT_VENV = Path(os.environ.get("BOT_VENV", REPO / ".venv-bot")).resolve()
VENV = Path(os.environ.get("VENV", REPO / ".venv")).resolve()
MODEL = REPO / "models" / "current.tar.gz"
SQLITE = "sqlite+aiosqlite:///"


def start_action_server(orders_db: Path) -> tuple[Process, str]:
    port = free_port()
    process = Process("actions", [str(BOT_VENV / "bin" / "rasa"), "run", "actions", "--actions", "actions",
                                  "--port", str(port)],
                      env={**BOT_ENV, **ACTION_SERVER_ENV, "ORDERS_DB_PATH": str(orders_db)})
    url = f"http://127.0.0.1:{port}"
    process.wait_until(http_ok(f"{url}/health"), 120, "healthy")
    return process, url


def start_rasa(action_url: str, workdir: Path, port: int | None = None,
               tracker_store: dict | None = None) -> tuple[Process, str]:
    """Rasa with the trained model, its own endpoints file pointing at the test action server (and, if given,
    a tracker store; otherwise Rasa's in-memory one)."""
    endpoints = workdir / f"endpoints-{free_port()}.yml"
    config: dict = {"action_endpoint": {"url": f"{action_url}/webhook"}}
    if tracker_store is not None:
        config["tracker_store"] = tracker_store
    endpoints.write_text(yaml.safe_dump(config))
    port = port or free_port()
    process = Process("rasa", [str(BOT_VENV / "bin" / "rasa"), "run", "--model", str(MODEL), "--enable-api",
                               "--interface", "127.0.0.1", "--port", str(port), "--endpoints", str(endpoints),
                               "--credentials", str(REPO / "credentials.yml")], env=BOT_ENV)
    url = f"http://127.0.0.1:{port}"
    process.wait_until(lambda: bool(httpx.get(f"{url}/status", timeout=2).json().get("model_file")), 300,
                       "serving the model")
    return process, url


@dataclass
class RasaStack:
    workdir: Path
    actions: Process
    action_url: str
    rasa: Process
    rasa_url: str
    extra: list[Process] = field(default_factory=list)

    @classmethod
    def start(cls) -> RasaStack:
        if not MODEL.exists():
            raise RuntimeError(f"{MODEL} is missing: run `make train` first")
        workdir = Path(tempfile.mkdtemp(prefix="frontdoor-rasa-"))
        actions, action_url = start_action_server(workdir / "orders.sqlite3")
        rasa, rasa_url = start_rasa(action_url, workdir)
        return cls(workdir, actions, action_url, rasa, rasa_url)

    def second_rasa(self, port: int | None = None) -> tuple[Process, str]:
        """Another Rasa on the same action server, for tests that stop it."""
        process, url = start_rasa(self.action_url, self.workdir, port)
        self.extra.append(process)
        return process, url

    def stop(self) -> None:
        for process in [*self.extra, self.rasa, self.actions]:
            process.stop()


@dataclass
class Service:
    process: Process
    base_url: str
    database_url: str
    env: dict[str, str]

    def stop(self) -> None:
        self.process.stop()


def upgrade(database_url: str) -> None:
    """`python -m handoff db upgrade`, as `make migrate` runs it."""
    subprocess.run([str(VENV / "bin" / "python"), "-m", "handoff", "db", "upgrade"], cwd=REPO, check=True,
                   env={**os.environ, "DATABASE_URL": database_url}, capture_output=True)


@functools.cache
def migrated_sqlite() -> bytes:
    """An empty SQLite database at the latest schema, migrated once per test process."""
    path = Path(tempfile.mkdtemp(prefix="frontdoor-schema-")) / "schema.sqlite3"
    upgrade(f"{SQLITE}{path}")
    return path.read_bytes()


def migrate(database_url: str) -> None:
    """A new SQLite file is a copy of `migrated_sqlite()` (each migration run costs seconds); others are upgraded."""
    path = Path(database_url.removeprefix(SQLITE)) if database_url.startswith(SQLITE) else None
    if path is not None and not path.exists():
        path.write_bytes(migrated_sqlite())
    else:
        upgrade(database_url)


def always_open_operations(workdir: Path) -> Path:
    """operations.yml without business_hours (open around the clock): a service process's clock cannot be pinned,
    so unless a test gives its own OPERATIONS_FILE its handoffs do not depend on the time of day it runs."""
    path = workdir / "operations-always-open.yml"
    if not path.exists():
        operations = yaml.safe_load((REPO / "operations.yml").read_text(encoding="utf-8"))
        operations.pop("business_hours", None)
        path.write_text(yaml.safe_dump(operations, allow_unicode=True), encoding="utf-8")
    return path


def start_service(env: dict[str, str], workdir: Path, uvicorn_args: tuple[str, ...] = ()) -> Service:
    """Migrates its database, then runs uvicorn as `make run` does (open around the clock unless told)."""
    port = free_port()
    database_url = env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{workdir / f'service-{port}.sqlite3'}"
    full_env = {"PORT": str(port), "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "DATABASE_URL": database_url,
                "LOG_LEVEL": "INFO", "OPERATIONS_FILE": str(always_open_operations(workdir)), **env}
    full_env["DATABASE_URL"] = database_url
    migrate(database_url)
    process = Process("service", [str(VENV / "bin" / "uvicorn"), "handoff.app:app", "--factory", "--host",
                                  "127.0.0.1", "--port", str(port), *SERVICE_WEBSOCKET_OPTIONS, *uvicorn_args],
                      env=full_env)
    base_url = f"http://127.0.0.1:{port}"
    process.wait_until(http_ok(f"{base_url}/healthz"), 60, "healthy")
    return Service(process, base_url, database_url, full_env)
