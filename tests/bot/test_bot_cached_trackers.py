"""The event-caching SQL tracker store serves exactly what Rasa's SQLTrackerStore would, from the rows stored now."""
from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Awaitable
from pathlib import Path

import sqlalchemy as sa
import yaml
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.runtime.cached_trackers import EventCachingSQLTrackerStore

REPO = Path(__file__).resolve().parents[2]
DOMAIN = Domain.from_dict({"intents": ["greet"],
                           "slots": {"language": {"type": "text", "mappings": [{"type": "custom"}]}},
                           "responses": {"utter_greet": [{"text": "hola"}]}})


def turn(text: str, language: str, at: float) -> list:
    """One user turn as Rasa stores it, with timestamps so sessions are ordered."""
    return [UserUttered(text, {"name": "greet", "confidence": 0.9}, timestamp=at),
            SlotSet("language", language, timestamp=at + 0.1), ActionExecuted("utter_greet", timestamp=at + 0.2),
            BotUttered("hola", timestamp=at + 0.3), ActionExecuted("action_listen", timestamp=at + 0.4)]


def two_sessions(sender: str) -> DialogueStateTracker:
    first = [ActionExecuted("action_session_start", timestamp=1.0), SessionStarted(timestamp=1.1),
             ActionExecuted("action_listen", timestamp=1.2), *turn("hola", "es", 2.0)]
    second = [ActionExecuted("action_session_start", timestamp=10.0), SessionStarted(timestamp=10.1),
              ActionExecuted("action_listen", timestamp=10.2), *turn("hi", "en", 11.0), *turn("thanks", "en", 12.0)]
    return DialogueStateTracker.from_events(sender, first + second, DOMAIN.slots)


def read(store: TrackerStore, sender: str, full: bool = False) -> DialogueStateTracker | None:
    return asyncio.run(store.retrieve_full_tracker(sender) if full else store.retrieve(sender))


def test_it_serves_what_rasas_store_serves_for_the_latest_session_and_all_sessions(tmp_path: Path) -> None:
    db = str(tmp_path / "trackers.sqlite3")
    rasa = SQLTrackerStore(DOMAIN, dialect="sqlite", db=db)
    asyncio.run(rasa.save(two_sessions("c1")))
    cached = EventCachingSQLTrackerStore(DOMAIN, dialect="sqlite", db=db)
    for full in (False, True, False):  # the second latest-session read comes from kept events
        ours, theirs = read(cached, "c1", full), read(rasa, "c1", full)
        assert ours is not None and theirs is not None
        assert list(ours.events) == list(theirs.events)
        assert ours.current_slot_values() == theirs.current_slot_values()
    assert len(read(cached, "c1").events) == 12 and read(cached, "c1").get_slot("language") == "en"
    assert read(cached, "nobody") is None


def test_rows_another_replica_adds_or_an_erasure_deletes_are_seen_at_the_next_read(tmp_path: Path) -> None:
    db = tmp_path / "trackers.sqlite3"
    cached = EventCachingSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    other_replica = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    asyncio.run(cached.save(two_sessions("c1")))
    tracker = read(cached, "c1")
    assert tracker is not None
    for event in turn("obrigado", "pt", 13.0):
        tracker.update(event)
    asyncio.run(other_replica.save(tracker))
    again = read(cached, "c1")
    assert again is not None and again.get_slot("language") == "pt" and again.latest_message.text == "obrigado"
    with sqlite3.connect(db) as erasure:  # the service's erasure deletes the conversation's rows
        erasure.execute("DELETE FROM events WHERE sender_id = 'c1'")
    assert read(cached, "c1") is None
    assert cached.event_rows.size == 0


def stored(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
                                  "FROM events ORDER BY id").fetchall()


def test_its_saves_store_the_rows_rasas_store_stores_turn_after_turn(tmp_path: Path) -> None:
    ours_db, theirs_db = tmp_path / "ours.sqlite3", tmp_path / "theirs.sqlite3"
    ours = EventCachingSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(ours_db))
    theirs = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(theirs_db))
    for store in (ours, theirs):
        asyncio.run(store.save(two_sessions("c1")))
        tracker = read(store, "c1")  # as Rasa reads it for the next turn: the latest session
        assert tracker is not None
        for event in turn("obrigado", "pt", 13.0):  # only the next turn's events are new
            tracker.update(event)
        asyncio.run(store.save(tracker))
        asyncio.run(store.save(tracker))  # nothing new: nothing stored twice
    assert stored(ours_db) == stored(theirs_db) and len(stored(ours_db)) == 26


def test_other_turns_go_on_while_it_waits_for_the_database(tmp_path: Path) -> None:
    cached = EventCachingSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "trackers.sqlite3"))
    asyncio.run(cached.save(two_sessions("c1")))

    def slow_database(*_args: object) -> None:
        time.sleep(0.05)  # a server database busy with other processes' work: each statement waits

    sa.event.listen(cached.engine, "before_cursor_execute", slow_database)

    async def ticks_while(work: Awaitable[object]) -> int:
        waiting, ticks = asyncio.ensure_future(work), 0
        while not waiting.done():  # the event loop serves other turns meanwhile
            ticks += 1
            await asyncio.sleep(0.005)
        await waiting
        return ticks

    tracker = read(cached, "c1")
    assert tracker is not None
    for event in turn("obrigado", "pt", 13.0):
        tracker.update(event)
    assert asyncio.run(ticks_while(cached.retrieve("c1"))) >= 5
    assert asyncio.run(ticks_while(cached.save(tracker))) >= 5
    again = read(cached, "c1")
    assert again is not None and again.get_slot("language") == "pt"


def test_trackers_get_copies_and_the_kept_events_stay_within_their_bound(tmp_path: Path) -> None:
    cached = EventCachingSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.sqlite3"), cached_events=20)
    for sender in ("c1", "c2", "c3"):
        asyncio.run(cached.save(two_sessions(sender)))
    first = read(cached, "c1")
    assert first is not None
    first.latest_message.text = "changed by a turn"
    second = read(cached, "c1")
    assert second is not None and second.latest_message.text == "thanks"
    for sender in ("c2", "c3"):
        assert read(cached, sender) is not None
    assert cached.event_rows.size <= 20 and list(cached.event_rows.conversations) == ["c3"]


def test_the_repositorys_endpoints_name_it_and_rasa_builds_it_from_them(tmp_path: Path) -> None:
    for endpoints in (REPO / "endpoints.yml", REPO / "deploy" / "endpoints.cluster.yml"):
        assert yaml.safe_load(re.sub(r"\$\{\w+\}", "0", endpoints.read_text()))["tracker_store"]["type"] == (
            "bot.runtime.cached_trackers.EventCachingSQLTrackerStore")
    config = tmp_path / "endpoints.yml"
    config.write_text(yaml.safe_dump({"tracker_store": {
        "type": "bot.runtime.cached_trackers.EventCachingSQLTrackerStore", "dialect": "sqlite",
        "db": str(tmp_path / "trackers.sqlite3"), "cached_events": 500}}))
    store = TrackerStore.create(read_endpoint_config(str(config), "tracker_store"), DOMAIN)
    assert isinstance(store, EventCachingSQLTrackerStore) and store.event_rows.capacity == 500
