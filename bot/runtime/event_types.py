"""Event classes found by type name from a table, not by walking every subclass of Event for each event read.

Rasa 3.6 rebuilds the list of all Event subclasses (recursively, with an abstractness check each) for every event
it deserialises: reading a tracker from the tracker store, once a turn, and every action server answer. A
conversation of 100 events cost 100 walks, ~4 % of a turn's CPU (py-spy). The table keeps the first class
per name in Rasa's own order, and is refilled when a name is missing (a class imported later).
"""
from __future__ import annotations

from typing import Optional

import rasa.shared.utils.common
from rasa.shared.core.events import Event

_BY_NAME: dict[str, type[Event]] = {}


def resolve_by_type(type_name: str, default: Optional[type[Event]] = None) -> Optional[type[Event]]:
    """Event.resolve_by_type with the table: the same class, the same None for `topic`, the same ValueError."""
    found = _BY_NAME.get(type_name)
    if found is None:
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            _BY_NAME.setdefault(cls.type_name, cls)
        found = _BY_NAME.get(type_name)
    if found is not None:
        return found
    if type_name == "topic":
        return None  # Rasa's backwards compatibility with old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def install() -> None:
    """Every deserialisation (tracker store, action server answers, the HTTP API) uses the table."""
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]
