"""The slots of the tracker a turn has just saved, for the REST channel to report without reading the tracker again.

The service asks for some slots after a turn (bot/channels/rest_with_metadata.py). Reading them back with the
tracker store's `retrieve` costs a second query and a replay of the session's events; on the SQL store that blocks
Rasa's event loop (SQLAlchemy is synchronous here), on most of the service's turns. Instead the channel watches the
conversation while its turn runs, and our tracker store (bot/runtime/cached_trackers.py) hands each saved tracker's
slot values to the conversation's watches once the database has it. Rasa gives the channel no handle on its tracker
store (it wraps ours in its AwaitableTrackerStore), hence one watch list per process, shared by module.

Only watched conversations are kept, and only while watched: nothing grows with traffic. A watch that saw no save
(another tracker store is configured, the save failed, the turn never reached the processor) has no slots, and the
channel reads the tracker as before.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Text

from rasa.shared.core.trackers import DialogueStateTracker


def tracker_slots(tracker: Optional[DialogueStateTracker]) -> Optional[Dict[Text, Any]]:
    """The tracker's slot values by name; None without a tracker."""
    return None if tracker is None else {name: slot.value for name, slot in tracker.slots.items()}


class Watch:
    """One request's view of its conversation: the slot values of the latest save since it began, if any."""

    def __init__(self) -> None:
        self.slots: Optional[Dict[Text, Any]] = None


class SavedSlots:
    """Watches by conversation; a save reaches every watch of its conversation open at that moment."""

    def __init__(self) -> None:
        self.watches: Dict[Text, List[Watch]] = {}

    @contextmanager
    def watching(self, sender_id: Text) -> Iterator[Watch]:
        """Watches the conversation's saves while the block runs (a turn, then its report)."""
        watch = Watch()
        self.watches.setdefault(sender_id, []).append(watch)
        try:
            yield watch
        finally:
            watches = self.watches.get(sender_id, [])
            if watch in watches:
                watches.remove(watch)
            if not watches:
                self.watches.pop(sender_id, None)

    def saved(self, tracker: DialogueStateTracker) -> None:
        """Called by the tracker store once a tracker is stored: its slot values, for the conversation's watches."""
        watches = self.watches.get(tracker.sender_id)
        if not watches:
            return
        values = tracker_slots(tracker)
        for watch in watches:
            watch.slots = values


SAVED_SLOTS = SavedSlots()
