"""The assistant's side of verification codes, over the REST contract with the trained model and the action server.

The offer, the `{"verification": …}` payload the service acts on, and after a code: a merged case's tracker
written to from the web chat asks nothing it knew, and a visitor verified mid-session is not offered a code again.
"""
from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.service.support.stack import RasaStack

pytestmark = pytest.mark.e2e

OFFER = {
    "es": "¿Te envío un código de verificación por WhatsApp para confirmar que eres tú?",
    "en": "Shall I send you a verification code on WhatsApp to confirm it's you?",
}


def metadata(channel: str, *identities: dict[str, Any], **known: str) -> dict[str, Any]:
    """What the service sends with a turn (handoff.core.bot_client.build_metadata)."""
    return {"channel": channel, "language": None, "case": {"id": "case", "status": "bot"},
            "customer": {"id": "c-1", "name": None, "language": None, "identities": list(identities)},
            "known": known}


def say(stack: RasaStack, sender: str, text: str, meta: dict[str, Any]) -> list[dict[str, Any]]:
    response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", timeout=60,
                          json={"sender": sender, "message": text, "metadata": meta})
    response.raise_for_status()
    return [{k: v for k, v in item.items() if k != "recipient_id"} for item in response.json()]


def slots(stack: RasaStack, sender: str) -> dict[str, Any]:
    return httpx.get(f"{stack.rasa_url}/conversations/{sender}/tracker", timeout=30).json()["slots"]


@pytest.mark.parametrize(
    "language,claim,yes,payload",
    [("es", "te escribí por whatsapp, mi número es +52 55 1234 5678", "Sí", {"phone": "+52 55 1234 5678"}),
     ("en", "I'm a customer, my email is peter.hall@outlook.com", "yes", {"email": "peter.hall@outlook.com"})],
)
def test_a_claim_is_offered_a_code_and_yes_is_one_payload(rasa_stack: RasaStack, language: str, claim: str,
                                                          yes: str, payload: dict[str, str]) -> None:
    sender = f"visitor-{uuid.uuid4().hex[:8]}"
    anonymous = metadata("webchat")
    [offer] = say(rasa_stack, sender, claim, anonymous)
    assert offer["text"] == OFFER[language]
    titles = [b["title"] for b in offer["buttons"]]
    assert titles == (["Sí", "No"] if language == "es" else ["Yes", "No"])
    assert say(rasa_stack, sender, yes, anonymous) == [{"custom": {"verification": payload}}]


def test_an_account_update_asks_the_phone_once_then_offers(rasa_stack: RasaStack) -> None:
    sender = f"visitor-{uuid.uuid4().hex[:8]}"
    anonymous = metadata("webchat")
    asked = say(rasa_stack, sender, "quiero cambiar mi correo", anonymous)
    assert {"custom": {"asked": "phone"}} in asked and "número de teléfono" in asked[0]["text"]
    [offer] = say(rasa_stack, sender, "55 8765 4321", anonymous)
    assert offer["text"] == OFFER["es"]
    no = say(rasa_stack, sender, "no", anonymous)
    assert no[0]["text"].startswith("Por seguridad") and no[1]["custom"]["handoff"]["reason"] == "verification_required"

    known = f"visitor-{uuid.uuid4().hex[:8]}"  # a phone told on an earlier turn is known: no question
    [offer] = say(rasa_stack, known, "quiero cambiar mi correo", metadata("webchat", phone="+525587654321"))
    assert offer["text"] == OFFER["es"]


def test_after_a_code_nothing_known_is_asked_again(rasa_stack: RasaStack) -> None:
    case = f"case-{uuid.uuid4().hex[:8]}"
    whatsapp = metadata("whatsapp", {"kind": "whatsapp", "value": "+525512345678", "verified": True},
                        phone="+525512345678")
    first = say(rasa_stack, case, "hola, mi pedido 100002 donde esta?", whatsapp)
    assert any("100002" in (m.get("text") or "") for m in first)
    # The visitor proved the phone with a code: the service merged the cases and writes this tracker from the web.
    merged = metadata("webchat", {"kind": "whatsapp", "value": "+525512345678", "verified": True},
                      {"kind": "phone", "value": "+525512345678", "verified": True},
                      order_number="100002", phone="+525512345678")
    again = say(rasa_stack, case, "y mi pedido cuando llega?", merged)
    assert any("100002" in (m.get("text") or "") for m in again), again
    assert not any("asked" in (m.get("custom") or {}) for m in again)
    assert slots(rasa_stack, case)["channel"] == "webchat"
    claim = say(rasa_stack, case, "ya les escribí por whatsapp, mi número es 55 1234 5678", merged)
    assert claim[0]["text"].startswith("¡Gracias! Ya confirmamos quién eres")


def test_a_visitor_verified_mid_session_is_not_offered_again(rasa_stack: RasaStack) -> None:
    sender = f"visitor-{uuid.uuid4().hex[:8]}"
    say(rasa_stack, sender, "hi", metadata("webchat"))
    assert slots(rasa_stack, sender)["verified"] is False
    proved = metadata("webchat", {"kind": "phone", "value": "+14155550123", "verified": True}, phone="+14155550123")
    [ack] = say(rasa_stack, sender, "I already wrote to you on WhatsApp, my number is +1 415 555 0123", proved)
    assert ack["text"].startswith("Thanks! We already know it's you")
    assert slots(rasa_stack, sender)["verified"] is True


def test_a_caller_who_withheld_their_number_is_offered_a_code(rasa_stack: RasaStack) -> None:
    call = f"call-{uuid.uuid4().hex[:8]}"
    withheld = metadata("voice", {"kind": "call", "value": "CA123", "verified": False})
    [offer] = say(rasa_stack, call, "soy cliente, mi número es 55 2468 1357", withheld)
    assert offer["text"] == OFFER["es"] and [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    assert say(rasa_stack, call, "sí", withheld) == [{"custom": {"verification": {"phone": "55 2468 1357"}}}]
    caller_id = metadata("voice", {"kind": "phone", "value": "+525524681357", "verified": True})
    [ack] = say(rasa_stack, f"call-{uuid.uuid4().hex[:8]}", "soy cliente, mi número es 55 2468 1357", caller_id)
    assert ack["text"].startswith("¡Gracias! Ya confirmamos quién eres")

