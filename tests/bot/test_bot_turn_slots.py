"""The turn's slots are set inside Rasa, without an action server call: the policy's decisions on real trackers, and
the trained model answering with no action server at all."""
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_no_slot_mapping_calls_the_action_server() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    named = {mapping.get("action") for slot in domain["slots"].values() for mapping in slot["mappings"]
             if mapping["type"] == "custom" and mapping.get("action")}
    assert named == set()
    assert domain["slots"]["verified"]["mappings"] == [{"type": "from_entity", "entity": "verified"}]
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    assert "bot.components.turn_slots.TurnSlotsPolicy" in [policy["name"] for policy in config["policies"]]
    assert "bot.components.verified_entity.VerifiedFromMetadata" in [step["name"] for step in config["pipeline"]]


def test_a_new_visitor_gets_language_and_metadata_in_one_prediction(read_turn) -> None:
    metadata = {"channel": "webchat", "language": None, "case": {"id": "case-1", "status": "bot"},
                "customer": {"id": "c-1", "name": "Ana", "identities": []}, "known": {"order_number": "100002"}}
    assert read_turn({}, "where is my order", "order_status", metadata=metadata) == {
        "language": "en", "channel": "webchat", "customer_id": "c-1", "customer_name": "Ana", "verified": False,
        "order_number": "100002"}


def test_nothing_new_sets_nothing(read_turn) -> None:
    slots = {"language": "es", "channel": "webchat", "customer_id": "c-1", "verified": False}
    metadata = {"channel": "webchat", "customer": {"id": "c-1", "identities": []}}
    assert read_turn(slots, "gracias", "thanks", metadata=metadata, earlier=[({}, "hola")]) == {}


def test_only_the_first_prediction_after_the_message_sets_slots(turn_policy: Any) -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(str(ROOT / "domain.yml"))
    policy = turn_policy
    message = UserUttered("donde esta mi pedido", {"name": "order_status"},
                          metadata={"channel": "webchat", "known": {"order_number": "100002"}})

    def slots_after(*events: Any) -> dict[str, Any]:
        tracker = DialogueStateTracker.from_events("s", [SlotSet("tone", "tuteo"), *events], slots=domain.slots)
        return {e.key: e.value for e in policy.predict_action_probabilities(tracker, domain).events}

    first = slots_after(message)
    assert first["order_number"] == "100002" and first["language"] == "es"
    # An action ran (the form asked, a validation cleared the number): the known number is not put back.
    assert slots_after(message, ActionExecuted("order_form"), SlotSet("order_number", None)) == {}
    # A rejected action took nothing: the next prediction sets the slots again.
    assert slots_after(message, ActionExecutionRejected("order_form")) == first
    assert slots_after() == {}  # no message yet


def test_the_verified_entity_comes_only_from_proving_metadata() -> None:
    from bot.components.verified_entity import verified_entity

    phone = {"kind": "phone", "value": "+525512345678"}
    assert verified_entity({"channel": "whatsapp", "customer": {"identities": []}})[0]["value"] is True
    assert verified_entity({"channel": "webchat", "customer": {"identities": [{**phone, "verified": True}]}})
    assert verified_entity({"channel": "webchat", "customer": {"identities": [{**phone, "verified": False}]}}) == []
    assert verified_entity({"channel": "voice", "customer": {"identities": [{"kind": "call", "value": "x"}]}}) == []
    assert verified_entity({}) == [] and verified_entity(None) == [] and verified_entity("garbage") == []


def test_the_trained_model_fills_the_turn_with_no_action_server(trained_agent: Any) -> None:
    """No action endpoint: every slot below was set in Rasa's process, and `verified` before the prediction (the
    rule for a verified customer's account update starts the account form, not the verification form)."""
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    def turn(metadata: dict[str, Any]) -> Any:
        sender = f"t-{uuid.uuid4().hex}"
        started = [ActionExecuted("action_session_start"), SessionStarted(), SlotSet("channel", "webchat"),
                   SlotSet("verified", False), SlotSet("tone", "tuteo"), ActionExecuted("action_listen")]
        store = trained_agent.tracker_store
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, started, slots=trained_agent.domain.slots)))
        message = UserMessage("quiero cambiar mi correo electronico", sender_id=sender, metadata=metadata)
        asyncio.run(trained_agent.handle_message(message))
        return asyncio.run(store.retrieve(sender))

    # A web visitor who has just proved their phone with a code: the service's metadata says so.
    proved = {"channel": "webchat", "known": {},
              "customer": {"id": "c-7", "name": "Ana", "identities": [
                  {"kind": "phone", "value": "+525512345678", "verified": True}]}}
    tracker = turn(proved)
    assert tracker.get_slot("verified") is True and tracker.get_slot("phone") == "+525512345678"
    assert tracker.get_slot("language") == "es" and tracker.get_slot("customer_name") == "Ana"
    actions = [event.action_name for event in tracker.events if isinstance(event, ActionExecuted)]
    assert "account_form" in actions and "verification_form" not in actions

    unproved = {**proved, "customer": {"id": "c-8", "identities": []}}
    tracker = turn(unproved)
    assert tracker.get_slot("verified") is False and tracker.get_slot("customer_id") == "c-8"
    actions = [event.action_name for event in tracker.events if isinstance(event, ActionExecuted)]
    assert "verification_form" in actions and "account_form" not in actions


FIRST_DETECTION = """
import resource, sys, tempfile
from pathlib import Path
from actions.language import clearly_written_in
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
if sys.argv[1] == "loaded":  # as Rasa loads the model's policies
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from bot.components.turn_slots import TurnSlotsPolicy
    TurnSlotsPolicy.load(TurnSlotsPolicy.get_default_config(), LocalModelStorage(Path(tempfile.mkdtemp())),
                         Resource("turn_slots"), ExecutionContext(GraphSchema({}), "test"))
start = cpu()
clearly_written_in("a que hora abren hoy?")
print(cpu() - start)
"""


def test_loading_the_policy_loads_the_language_models_before_the_first_turn() -> None:
    """A fresh process's first detection loads lingua's models (~0.6 s of CPU here); inside a turn that stalls every
    turn Rasa is serving, so the policy loads them when Rasa loads the model."""
    import os
    import subprocess
    import sys

    def first_detection(mode: str) -> float:
        done = subprocess.run([sys.executable, "-c", FIRST_DETECTION, mode], capture_output=True, text=True,
                              check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
        return float(done.stdout.strip().splitlines()[-1])

    cold, loaded = first_detection("cold"), first_detection("loaded")
    assert cold > 0.1 and loaded < cold / 10, (cold, loaded)
