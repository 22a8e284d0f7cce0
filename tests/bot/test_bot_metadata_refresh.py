"""Mid-session refresh from each message's metadata: a case merged after a code keeps its tracker, asks nothing."""
from __future__ import annotations

from typing import Any

from actions.session import refreshed_slots

VERIFIED_PHONE = {"kind": "phone", "value": "+525512345678", "verified": True}


def webchat(*identities: dict[str, Any], **known: str) -> dict[str, Any]:
    """The service's metadata for a web chat turn of customer c-1."""
    return {"channel": "webchat", "language": "es", "case": {"id": "case-1", "status": "bot"},
            "customer": {"id": "c-1", "name": "Ana", "identities": list(identities)}, "known": known}


def test_the_merged_case_gets_the_new_door_and_keeps_what_it_knew(read_turn) -> None:
    # The WhatsApp case's tracker, now written to from the web chat after the visitor proved the phone.
    slots = {"channel": "whatsapp", "customer_id": "c-1", "customer_name": "Ana", "verified": True,
             "order_number": "100002", "phone": "+525512345678"}
    metadata = webchat(VERIFIED_PHONE, order_number="100002", phone="+525512345678")
    assert read_turn({**slots, "language": "es"}, "donde esta mi pedido", "order_status", metadata=metadata,
                     earlier=[({}, "hola")]) == {"channel": "webchat"}


def test_a_verification_in_the_metadata_is_taken_and_never_taken_back() -> None:
    visitor = {"channel": "webchat", "verified": False, "customer_id": "c-9"}
    proved = refreshed_slots(visitor, webchat(VERIFIED_PHONE, phone="+525512345678"))
    assert proved == {"customer_id": "c-1", "customer_name": "Ana", "verified": True, "phone": "+525512345678"}
    unproved = webchat({"kind": "phone", "value": "+525512345678", "verified": False})
    assert "verified" not in refreshed_slots({"channel": "webchat", "verified": True, "customer_id": "c-1",
                                              "customer_name": "Ana"}, unproved)
    assert refreshed_slots({}, {"channel": "webchat"}) == {"channel": "webchat", "verified": False}


def test_known_facts_fill_only_what_the_conversation_lacks() -> None:
    metadata = webchat(order_number="100002", email="ana@example.com", phone="+525512345678")
    current = {"channel": "webchat", "customer_id": "c-1", "customer_name": "Ana", "verified": False,
               "email": "otra@example.com"}
    assert refreshed_slots(current, metadata) == {"order_number": "100002", "phone": "+525512345678"}
    told = refreshed_slots(current, metadata, told={"phone"})  # the customer tells a phone in this message
    assert told == {"order_number": "100002"}


def test_a_told_phone_is_not_overwritten_by_the_known_one(read_turn) -> None:
    slots = {"channel": "webchat", "customer_id": "c-1", "customer_name": "Ana", "verified": False, "language": "es"}
    assert read_turn(slots, "mi numero es 55 8765 4321", "claim_identity",
                     entities=[{"entity": "phone", "value": "55 8765 4321"}],
                     metadata=webchat(phone="+525512345678"), earlier=[({}, "hola")]) == {}


def test_no_metadata_changes_nothing(read_turn) -> None:
    assert read_turn({"language": "es"}, "hola", "greet", earlier=[({}, "buenas")]) == {}
    assert refreshed_slots({"verified": None}, None) == {}
    assert refreshed_slots({}, "garbage") == {}  # type: ignore[arg-type]
