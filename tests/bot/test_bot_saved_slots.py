"""A turn's saved slots reach the REST channel's watch, so its slot report needs no second tracker read."""
from __future__ import annotations

import asyncio
import socket
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import AwaitableTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic
from sqlalchemy import event

from bot.channels.rest_with_metadata import RestWithMetadataInput, slot_report
from bot.runtime.cached_trackers import EventCachingSQLTrackerStore
from bot.runtime.saved_slots import SAVED_SLOTS, SavedSlots, tracker_slots

DOMAIN = Domain.from_dict({"intents": ["greet"],
                           "slots": {"language": {"type": "text", "mappings": [{"type": "custom"}]},
                                     "order_number": {"type": "text", "mappings": [{"type": "custom"}]}}})


def tracker(sender: str, language: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen"), SlotSet("language", language)],
                                            DOMAIN.slots)


def test_a_save_reaches_the_watches_open_on_its_conversation_only() -> None:
    saved = SavedSlots()
    saved.saved(tracker("c1", "es"))  # before any watch: not kept for a later one
    with saved.watching("c1") as first, saved.watching("c1") as second, saved.watching("c2") as other:
        assert first.slots is None
        saved.saved(tracker("c1", "en"))
        assert first.slots is not None and first.slots == second.slots
        assert first.slots["language"] == "en" and first.slots["order_number"] is None
        assert other.slots is None
        saved.saved(tracker("c1", "pt"))  # the latest save wins, as a read after it would give
        assert first.slots is not None and first.slots["language"] == "pt"
    assert saved.watches == {}  # nothing kept once nobody watches
    saved.saved(tracker("c1", "es"))
    assert saved.watches == {}


def test_a_watch_is_closed_when_its_turn_fails() -> None:
    saved = SavedSlots()
    with pytest.raises(RuntimeError), saved.watching("c1"):
        raise RuntimeError("the turn failed")
    assert saved.watches == {}


def test_the_store_hands_over_the_slots_once_the_database_has_them(tmp_path: Path) -> None:
    store = EventCachingSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.sqlite3"))
    with SAVED_SLOTS.watching("c1") as watch:
        asyncio.run(store.save(tracker("c1", "es")))
        stored = asyncio.run(store.retrieve("c1"))
    assert watch.slots is not None and watch.slots == tracker_slots(stored) and watch.slots["language"] == "es"
    assert slot_report(watch.slots, ["order_number", "language", "unknown"]) == {
        "slots": {"order_number": None, "language": "es"}}
    assert tracker_slots(None) is None and slot_report(None, ["language"]) is None


def test_a_failed_save_hands_over_nothing(tmp_path: Path) -> None:
    store = EventCachingSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.sqlite3"))

    def refuse(*_args: Any) -> None:
        raise OSError("disk full")

    event.listen(store.engine, "before_cursor_execute", refuse)
    with SAVED_SLOTS.watching("c1") as watch, pytest.raises(Exception, match="disk full"):
        asyncio.run(store.save(tracker("c1", "es")))
    assert watch.slots is None  # the channel reads the tracker instead (Rasa's fail-safe store may hold it)


def use_store(agent: Any, store: SQLTrackerStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The agent on this store, wrapped as Rasa wraps a custom one; the SQL statements it runs from now on."""
    wrapped = AwaitableTrackerStore(store)
    monkeypatch.setattr(agent, "tracker_store", wrapped)
    monkeypatch.setattr(agent.processor, "tracker_store", wrapped)
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2].lstrip().upper()))
    return statements


def started(agent: Any, store: SQLTrackerStore) -> str:
    """A new conversation whose session has started (as the service's first turn finds it)."""
    sender = f"t-{uuid.uuid4().hex}"
    events = [ActionExecuted("action_session_start"), SessionStarted(), SlotSet("tone", "tuteo"),
              ActionExecuted("action_listen")]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, slots=agent.domain.slots)))
    return sender


METADATA = {"channel": "webchat", "known": {"order_number": "100002"},
            "customer": {"id": "c-9", "name": "Ana", "identities": []}}


def test_a_turn_of_the_trained_model_hands_its_saved_slots_to_the_watch(
        trained_agent: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = EventCachingSQLTrackerStore(trained_agent.domain, dialect="sqlite", db=str(tmp_path / "t.sqlite3"))
    sender = started(trained_agent, store)
    statements = use_store(trained_agent, store, monkeypatch)
    with SAVED_SLOTS.watching(sender) as watch:
        asyncio.run(trained_agent.handle_message(UserMessage("hola", sender_id=sender, metadata=METADATA)))
    assert statements and statements[-1].startswith("INSERT")  # the turn's save came last
    assert watch.slots is not None and watch.slots == tracker_slots(asyncio.run(store.retrieve(sender)))
    assert watch.slots["language"] == "es" and watch.slots["customer_name"] == "Ana"
    assert watch.slots["order_number"] == "100002"


async def post_turn(agent: Any, body: dict[str, Any]) -> list[dict[str, Any]]:
    """POST /webhooks/rest/webhook to the channel served by Sanic on loopback, as `rasa run` serves it."""
    Sanic.test_mode = True  # as sanic-testing sets it: each app's start-up rewrites Sanic's methods afresh
    app = Sanic(f"channel-{uuid.uuid4().hex}")
    app.ctx.agent = agent
    app.blueprint(RestWithMetadataInput().blueprint(agent.handle_message), url_prefix="/webhooks/rest")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    try:
        async with aiohttp.ClientSession() as http, http.post(
                f"http://127.0.0.1:{port}/webhooks/rest/webhook", json=body) as response:
            assert response.status == 200
            answer: list[dict[str, Any]] = await response.json()
            return answer
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("ours", [True, False], ids=["event-caching store", "Rasa's SQL store"])
def test_the_channel_reports_the_turns_slots_reading_the_tracker_only_without_our_store(
        trained_agent: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ours: bool) -> None:
    db = str(tmp_path / "t.sqlite3")
    store = (EventCachingSQLTrackerStore if ours else SQLTrackerStore)(trained_agent.domain, dialect="sqlite", db=db)
    sender = started(trained_agent, store)
    statements = use_store(trained_agent, store, monkeypatch)
    answer = asyncio.run(post_turn(trained_agent, {"sender": sender, "message": "hola", "metadata": METADATA,
                                                   "slots": ["language", "order_number", "nonexistent"]}))
    assert answer[-1]["custom"] == {"slots": {"language": "es", "order_number": "100002"}}
    assert any(message.get("text") for message in answer[:-1])  # the assistant's answer comes first
    after_save = statements[max(i for i, sql in enumerate(statements) if sql.startswith("INSERT")) + 1:]
    reads = [sql for sql in after_save if sql.startswith("SELECT")]
    assert (reads == []) if ours else reads  # Rasa's own store: the tracker read again after the turn
    assert SAVED_SLOTS.watches == {}
