"""The REST connector that forwards metadata, registered in credentials.yml by module path."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import yaml
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import SlotSet
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import class_from_module_path

from bot.channels.rest_with_metadata import RestWithMetadataInput, slot_names, slot_report
from bot.runtime.saved_slots import tracker_slots

ROOT = Path(__file__).resolve().parents[2]


def test_credentials_register_the_connector_as_rest() -> None:
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text())
    assert list(credentials) == ["bot.channels.rest_with_metadata.RestWithMetadataInput"]
    cls = class_from_module_path(next(iter(credentials)))
    assert cls is RestWithMetadataInput and issubclass(cls, RestInput)
    assert cls.name() == "rest"  # URL stays POST /webhooks/rest/webhook


def test_metadata_is_passed_on() -> None:
    channel = RestWithMetadataInput()
    meta = {"channel": "whatsapp", "customer": {"id": "c1"}}
    assert channel.get_metadata(SimpleNamespace(json={"sender": "s", "message": "hi", "metadata": meta})) == meta
    assert channel.get_metadata(SimpleNamespace(json={"sender": "s", "message": "hi"})) is None
    assert channel.get_metadata(SimpleNamespace(json={"metadata": "nope"})) is None
    assert channel.get_metadata(SimpleNamespace(json=None)) is None


def test_the_slots_a_turn_names_are_reported_from_its_tracker() -> None:
    tracker = DialogueStateTracker("s", [TextSlot("language", mappings=[]), TextSlot("order_number", mappings=[])])
    tracker.update(SlotSet("language", "es"))
    assert slot_names(["language", "order_number", "other", 3]) == ["language", "order_number", "other"]
    assert slot_names("language") == [] and slot_names(None) == [] and len(slot_names(["x"] * 99)) == 16
    assert slot_report(tracker_slots(tracker), ["language", "order_number", "other"]) == {
        "slots": {"language": "es", "order_number": None}}  # a slot the domain lacks is left out
    assert slot_report(tracker_slots(None), ["language"]) is None  # no tracker (the turn failed before saving it)
