"""Fixtures for the assistant's action tests: real SQLite, a real loopback HTTP server, real Trackers."""
from __future__ import annotations

import functools
import json
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own demo database and a copy of the real operations file."""
    ops = tmp_path / "operations.yml"
    shutil.copy(ROOT / "operations.yml", ops)
    monkeypatch.setenv("OPERATIONS_FILE", str(ops))
    monkeypatch.setenv("ORDERS_DB_PATH", str(tmp_path / "demo_backend.sqlite3"))
    for name in ("ORDER_BACKEND_URL", "ORDER_BACKEND_TIMEOUT", "ACCOUNT_BACKEND_URL", "ACCOUNT_BACKEND_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _make_tracker(
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str | None = None,
    confidence: float = 0.99,
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    """A real rasa_sdk Tracker whose latest message is `text` with the given intent and entities."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "entities": entities or [],
        "metadata": metadata or {},
    }
    return Tracker(
        sender_id="test-case",
        slots={"tone": "tuteo", **(slots or {})},  # as action_session_start sets it from operations.yml
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def new_turn_policy(storage: Path) -> Any:
    """Rasa's TurnSlotsPolicy as Rasa creates it for a model, with its model storage in `storage`."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from bot.components.turn_slots import TurnSlotsPolicy

    return TurnSlotsPolicy.create(TurnSlotsPolicy.get_default_config(), LocalModelStorage(storage),
                                  Resource("turn_slots"), ExecutionContext(GraphSchema({}), "test"))


def _read_turn(
    storage: Path,
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    earlier: list[tuple[dict[str, Any] | None, str]] | None = None,
) -> dict[str, Any]:
    """The slots Rasa's TurnSlotsPolicy sets on a real tracker whose latest message is `text` (earlier: the
    session's previous user messages, metadata and text), by name, in the order it sets them."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(str(ROOT / "domain.yml"))
    events = [SlotSet(name, value) for name, value in {"tone": "tuteo", **(slots or {})}.items()]
    events += [UserUttered(said, {"name": "greet"}, metadata=told) for told, said in earlier or []]
    events.append(UserUttered(text, {"name": intent} if intent else {}, entities or [], metadata=metadata or {}))
    tracker = DialogueStateTracker.from_events("test-case", events, slots=domain.slots)
    prediction = new_turn_policy(storage).predict_action_probabilities(tracker, domain)
    assert not any(prediction.probabilities)  # it never predicts an action
    return {event.key: event.value for event in prediction.events}


@pytest.fixture
def read_turn(tmp_path: Path) -> Any:
    """The slots one user turn sets inside Rasa (see _read_turn)."""
    return functools.partial(_read_turn, tmp_path / "model-storage")


@pytest.fixture
def turn_policy(tmp_path: Path) -> Any:
    """A TurnSlotsPolicy as Rasa creates it (see new_turn_policy)."""
    return new_turn_policy(tmp_path / "model-storage")


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    """Collects what actions say."""
    return CollectingDispatcher()


class Backend(BaseHTTPRequestHandler):
    """A tiny order/account service: known orders, 404, 500, a slow order, and recorded PATCHes."""

    orders: dict[str, dict[str, Any]] = {
        "100002": {"status": "shipped", "tracking_url": "https://t.example/100002"},
        "100004": {"status": "delayed", "eta": "2026-03-01"},
    }
    patches: list[dict[str, Any]] = []

    def _send(self, status: int, body: Any = None) -> None:
        raw = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        number = self.path.rsplit("/", 1)[-1]
        if number == "500500":
            return self._send(500, {"error": "boom"})
        if number == "777777":
            time.sleep(1.5)
            return self._send(200, {"status": "processing"})
        if number in self.orders:
            return self._send(200, {"number": number, **self.orders[number]})
        return self._send(404, {"error": "not found"})

    def do_PATCH(self) -> None:  # noqa: N802 - http.server API
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        customer = self.path.rsplit("/", 1)[-1]
        if customer == "down":
            return self._send(503, {"error": "maintenance"})
        Backend.patches.append({"path": self.path, "body": body})
        return self._send(200, {"id": customer, **body})

    def log_message(self, *args: Any) -> None:
        """Keeps test output quiet."""


@pytest.fixture
def backend_url() -> Iterator[str]:
    """Base URL of a real HTTP server on 127.0.0.1, running in a thread for the test."""
    Backend.patches = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


def _run_action(action: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Runs an action's async `run` to completion and returns its events."""
    import asyncio

    return asyncio.run(action.run(dispatcher, tracker, {}))


@pytest.fixture
def make_tracker() -> Any:
    """Factory for real Trackers (see _make_tracker)."""
    return _make_tracker


@pytest.fixture
def run_action() -> Any:
    """Runs an action and returns its events (see _run_action)."""
    return _run_action


@pytest.fixture
def backend_patches(backend_url: str) -> list[dict[str, Any]]:
    """PATCH requests the loopback backend received (path and JSON body)."""
    return Backend.patches


@pytest.fixture(scope="session")
def trained_agent() -> Any:
    """The trained model (models/current.tar.gz) loaded once for every test that reads it."""
    from rasa.core.agent import Agent

    return Agent.load(str(ROOT / "models" / "current.tar.gz"))
