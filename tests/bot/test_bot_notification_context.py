"""The last notification the business sent on the case, as the service's metadata carries it: the assistant
remembers it, and "¿cuándo llega?" after "tu pedido 100002 salió" is answered for that order without asking.

Before: the assistant knew nothing of what was sent and asked the customer for the number they had just been given.
"""
from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet

from actions.order_status import ActionOrderStatus
from actions.session import ActionSessionStart, refreshed_slots, slots_from_metadata

SHIPPED = {"id": "n-1", "template": "order_shipped", "sent_as": "template", "sent_at": "2026-12-01T15:00:00+00:00",
           "values": {"customer_name": "Ana", "order_number": "100002", "tracking_url": "https://t.example/2"}}
REMEMBERED = {"id": "n-1", "template": "order_shipped", "sent_as": "template", "values": SHIPPED["values"]}


def whatsapp(notification: dict[str, Any] | None, **known: str) -> dict[str, Any]:
    """The service's metadata for a WhatsApp turn of customer c-1 on a case with this last notification."""
    return {"channel": "whatsapp", "language": "es", "case": {"id": "case-1", "status": "bot"},
            "customer": {"id": "c-1", "name": "Ana", "identities": []}, "known": known,
            "notification": notification}


def test_a_new_conversation_starts_knowing_the_notification_and_its_order() -> None:
    slots = slots_from_metadata(whatsapp(SHIPPED, order_number="100004"))
    assert slots["notification"] == REMEMBERED
    assert slots["order_number"] == "100002"  # what was just sent, not an older order the customer told
    assert "notification" not in slots_from_metadata(whatsapp(None))
    assert slots_from_metadata(whatsapp(None, order_number="100004"))["order_number"] == "100004"


def test_a_notification_on_a_running_conversation_names_the_order_once(read_turn) -> None:
    current = {"channel": "whatsapp", "customer_id": "c-1", "customer_name": "Ana", "verified": True,
               "order_number": "100004"}
    assert read_turn({**current, "language": "es"}, "y cuando llega?", "order_status", metadata=whatsapp(SHIPPED),
                     earlier=[({}, "hola")]) == {"notification": REMEMBERED, "order_number": "100002"}
    # Seen already: the customer's later talk of another order is not overwritten on every turn.
    seen = {**current, "notification": REMEMBERED, "order_number": "100003"}
    assert refreshed_slots(seen, whatsapp(SHIPPED)) == {}
    # The customer names an order in this very message: theirs wins.
    told = refreshed_slots(current, whatsapp(SHIPPED), told={"order_number"})
    assert told == {"notification": REMEMBERED}
    # A free-text notification without an order number changes no order.
    free = {"id": "n-2", "template": None, "sent_as": "text", "values": {}}
    assert refreshed_slots(seen, whatsapp(free)) == {"notification": free}


def test_the_session_start_takes_it(dispatcher, make_tracker, run_action) -> None:
    tracker = make_tracker({"session_started_metadata": whatsapp(SHIPPED)})
    events = run_action(ActionSessionStart(), dispatcher, tracker)
    assert SlotSet("notification", REMEMBERED) in events and SlotSet("order_number", "100002") in events


def test_the_order_status_answers_for_the_notified_order_when_none_was_given(dispatcher, make_tracker,
                                                                           run_action) -> None:
    remembered = make_tracker({"language": "es", "notification": REMEMBERED}, "¿cuándo llega?", "order_status")
    assert SlotSet("order_lookup", "found") in run_action(ActionOrderStatus(), dispatcher, remembered)
    assert dispatcher.messages[-1]["text"].startswith("Tu pedido 100002 ya fue enviado")
    # Only in this message's metadata (a model whose domain lacks the slot): the same order.
    metadata_only = make_tracker({"language": "en"}, "when will it arrive?", "order_status",
                                 metadata=whatsapp(SHIPPED))
    run_action(ActionOrderStatus(), dispatcher, metadata_only)
    assert dispatcher.messages[-1]["text"].startswith("Your order 100002 has shipped")
    # An order the customer gave wins over the notified one.
    told = make_tracker({"language": "es", "order_number": "100003", "notification": REMEMBERED},
                        "y el 100003?", "order_status")
    run_action(ActionOrderStatus(), dispatcher, told)
    assert dispatcher.messages[-1]["text"].startswith("Tu pedido 100003 fue entregado")
