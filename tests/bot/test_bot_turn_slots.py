"""One action server call a turn fills the language and the metadata's slots, as the two calls did."""
from __future__ import annotations

from pathlib import Path

import yaml
from rasa_sdk.events import SlotSet

from actions.language import ActionDetectLanguage
from actions.session import ActionRefreshFromMetadata
from actions.turn_slots import ActionReadTurn

ROOT = Path(__file__).resolve().parents[2]


def test_every_custom_mapping_names_the_one_action() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    named = {mapping.get("action") for slot in domain["slots"].values() for mapping in slot["mappings"]
             if mapping["type"] == "custom" and mapping.get("action")}
    assert named == {"action_read_turn"}
    assert "action_read_turn" in domain["actions"]


def test_a_new_visitor_gets_language_and_metadata_in_one_call(dispatcher, make_tracker, run_action) -> None:
    metadata = {"channel": "webchat", "language": None, "case": {"id": "case-1", "status": "bot"},
                "customer": {"id": "c-1", "name": "Ana", "identities": []}, "known": {"order_number": "100002"}}
    tracker = make_tracker({}, "where is my order", "order_status", metadata=metadata)
    events = run_action(ActionReadTurn(), dispatcher, tracker)
    separately = [*run_action(ActionDetectLanguage(), dispatcher, tracker),
                  *run_action(ActionRefreshFromMetadata(), dispatcher, tracker)]
    assert events == separately
    assert SlotSet("language", "en") in events and SlotSet("channel", "webchat") in events
    assert SlotSet("order_number", "100002") in events
    assert dispatcher.messages == []


def test_nothing_new_sets_nothing(dispatcher, make_tracker, run_action) -> None:
    slots = {"language": "es", "channel": "webchat", "customer_id": "c-1", "verified": False}
    metadata = {"channel": "webchat", "customer": {"id": "c-1", "identities": []}}
    assert run_action(ActionReadTurn(), dispatcher, make_tracker(slots, "gracias", "thanks", metadata=metadata)) == []
