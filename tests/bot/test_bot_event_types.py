"""Events are read back as the same classes Rasa's own lookup finds, from a table filled once."""
from __future__ import annotations

import pytest
import rasa.shared.utils.common
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

from bot.channels import rest_with_metadata  # noqa: F401  (importing the channel installs the table)
from bot.runtime import event_types


def rasas_lookup(type_name: str) -> type[Event] | None:
    """Rasa 3.6's own Event.resolve_by_type: the first subclass with that name."""
    return next((cls for cls in rasa.shared.utils.common.all_subclasses(Event) if cls.type_name == type_name), None)


def test_every_event_name_resolves_to_rasas_class() -> None:
    assert Event.resolve_by_type is event_types.resolve_by_type
    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)}
    assert {"user", "action", "slot", "session_started", "active_loop"} <= names
    for name in names:
        assert Event.resolve_by_type(name) is rasas_lookup(name)


def test_events_read_back_from_dicts() -> None:
    events = [UserUttered("hola", {"name": "greet", "confidence": 0.9}), SlotSet("language", "es"),
              ActionExecuted("utter_greet")]
    assert [Event.from_parameters(event.as_dict()) for event in events] == events


def test_unknown_names_behave_as_before() -> None:
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")
