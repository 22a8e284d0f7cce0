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

Use it in endpoints.yml as `type: bot.runtime.cached_trackers.EventCachingSQLTrackerStore` with the SQL store's
settings (`dialect`, `db`, `url`, ...), and optionally `cached_events` (default 20,000 events, ~2 KB each).
"""
from __future__ import annotations

import copy
import json
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker

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

    async def save(self, tracker: DialogueStateTracker) -> None:
        """SQLTrackerStore's save; once stored, its slots go to the REST channel's watches (runtime/saved_slots.py)."""
        await super().save(tracker)
        SAVED_SLOTS.saved(tracker)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The conversation's latest session, as SQLTrackerStore.retrieve gives it."""
        return self.rebuild(sender_id, all_sessions=False)

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        """Every session of the conversation, as SQLTrackerStore.retrieve_full_tracker gives it."""
        return self.rebuild(conversation_id, all_sessions=True)

    def rebuild(self, sender_id: Text, all_sessions: bool) -> Optional[DialogueStateTracker]:
        """The tracker replayed from the rows the database holds now; None when it holds none (as Rasa's)."""
        with self.session_scope() as session:
            rows = [(row_id, data) for row_id, data in session.execute(self.event_rows_query(sender_id, all_sessions))]
        events = self.event_rows.events(sender_id, rows)  # also forgets rows no longer stored
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_events(sender_id, events, self.domain.slots)

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
