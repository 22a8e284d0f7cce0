"""Rasa's SQL tracker store that turns each stored event row back into a Rasa event once, not on every turn.

Every turn Rasa reads the conversation's events since its session start and rebuilds the tracker from them; for
each row it parses the JSON and finds the event's class by walking every subclass of `Event`, about half of a
tracker read (8 ms for a conversation of 50 events, bench/rasa_capacity.py with py-spy). Rasa never edits a
stored row (it only appends; the service's erasure deletes rows), so an event read once is kept by its row id:
each read still asks the database which rows the conversation has, in Rasa's order and session window, and only
rows not seen before are parsed. What is served is always what the database holds now, so several replicas on one
database stay consistent, and an erased row is never served again (its copy leaves memory at the conversation's
next read, or when the conversation is forgotten). Trackers get copies of the kept events, never the kept ones.

Each save also hands the saved tracker's slots to the REST channel when it waits for them (bot/runtime/saved_slots.py),
so a turn's slot report needs no second read.

The database's own work runs in a thread, off Rasa's event loop: Rasa's SQL store blocks the loop for every query
and commit, so on a server database that other processes keep busy each round trip stalled every other turn of
the replica, and a replica with its CPU a fifth used answered in seconds (`make cluster`, bench/load.py). Reading
and parsing events stays on the loop, so the kept events are only ever touched by one thread.

Use it in endpoints.yml as `type: bot.runtime.cached_trackers.EventCachingSQLTrackerStore` with the SQL store's
settings (`dialect`, `db`, `url`, ...), and optionally `cached_events` (default 20,000 events, ~2 KB each).
"""
from __future__ import annotations

import asyncio
import copy
import json
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.runtime.saved_slots import SAVED_SLOTS

DEFAULT_CACHED_EVENTS = 20_000


class EventRows:
    """Rasa events by row id, per conversation; the conversations read least recently are forgotten first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.conversations: "OrderedDict[str, Dict[int, Event]]" = OrderedDict()
        self.size = 0

    def events(self, sender_id: str, rows: Sequence[Tuple[int, str]]) -> List[Event]:
        """The conversation's events for these rows (id, JSON), in order; keeps exactly these rows for next time."""
        known = self.conversations.pop(sender_id, {})
        self.size -= len(known)
        kept: Dict[int, Event] = {}
        for row_id, data in rows:
            event = known.get(row_id)
            if event is None:
                parsed = deserialise_events([json.loads(data)])  # Rasa's own reading: unknown kinds are skipped
                if not parsed:
                    continue
                event = parsed[0]
            kept[row_id] = event
        if kept:
            self.conversations[sender_id] = kept
            self.size += len(kept)
        while self.size > self.capacity and len(self.conversations) > 1:
            _, forgotten = self.conversations.popitem(last=False)
            self.size -= len(forgotten)
        return [copy.copy(event) for event in kept.values()]


class EventCachingSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQLTrackerStore (same tables, same saves), reading each stored event once."""

    def __init__(self, domain: Optional[Domain] = None, cached_events: int = DEFAULT_CACHED_EVENTS,
                 **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        self.event_rows = EventRows(int(cached_events))
        if self.engine.dialect.name == "sqlite":
            self.keep_sqlite_connection_open()

    def keep_sqlite_connection_open(self) -> None:
        """SQLAlchemy 1.4 opens a file's SQLite connection per session and closes it after (NullPool); closing a
        write-ahead-log database's last connection checkpoints the log with an fsync, every read and every save.
        A pooled connection keeps the log until SQLite's own automatic checkpoints."""
        self.engine.dispose()
        self.engine = sa.create_engine(self.engine.url, poolclass=sa.pool.QueuePool, pool_size=1, max_overflow=4,
                                       connect_args={"check_same_thread": False})
        self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The conversation's latest session, as SQLTrackerStore.retrieve gives it."""
        return self.rebuild(sender_id, await asyncio.to_thread(self.stored_rows, sender_id, False))

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        """Every session of the conversation, as SQLTrackerStore.retrieve_full_tracker gives it."""
        return self.rebuild(conversation_id, await asyncio.to_thread(self.stored_rows, conversation_id, True))

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stores the events the database does not hold yet, as SQLTrackerStore.save does, in a thread; once stored,
        its slots go to the REST channel's watches (runtime/saved_slots.py)."""
        await self.stream_events(tracker)
        await asyncio.to_thread(self.store_new_events, tracker)
        SAVED_SLOTS.saved(tracker)

    def stored_rows(self, sender_id: Text, all_sessions: bool) -> List[Tuple[int, str]]:
        """The conversation's rows (id, JSON) in Rasa's window and order (blocking: run in a thread)."""
        with self.session_scope() as session:
            return [(row_id, data) for row_id, data in session.execute(self.event_rows_query(sender_id, all_sessions))]

    def rebuild(self, sender_id: Text, rows: List[Tuple[int, str]]) -> Optional[DialogueStateTracker]:
        """The tracker replayed from these rows; None when there are none (as Rasa's)."""
        events = self.event_rows.events(sender_id, rows)  # also forgets rows no longer stored
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_events(sender_id, events, self.domain.slots)

    def store_new_events(self, tracker: DialogueStateTracker) -> None:
        """Appends the tracker's events past the ones its latest session has stored, in Rasa's row format
        (blocking: run in a thread)."""
        window = self.event_rows_query(tracker.sender_id, False).order_by(None).subquery()
        stored = sa.select(sa.func.count()).select_from(window)
        with self.session_scope() as session:
            for event in list(tracker.events)[session.execute(stored).scalar_one():]:
                data = event.as_dict()
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
                    intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    action_name=data.get("name"), data=json.dumps(data)))
            session.commit()

    def event_rows_query(self, sender_id: Text, all_sessions: bool) -> Any:
        """Rasa's window: rows from the latest `session_started` on (by timestamp, every row if none), by id."""
        events = self.SQLEvent.__table__
        query = sa.select(events.c.id, events.c.data).where(events.c.sender_id == sender_id)
        if not all_sessions:
            session_start = (sa.select(sa.func.max(events.c.timestamp))
                             .where(events.c.sender_id == sender_id, events.c.type_name == SessionStarted.type_name)
                             .scalar_subquery())
            query = query.where(sa.or_(events.c.timestamp >= session_start, session_start.is_(None)))
        return query.order_by(events.c.id)
