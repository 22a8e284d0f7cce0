"""Verification codes, the assistant's side: the phone question, the form's end, the payload, a refused code."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.events import SlotSet

from actions.verification import (
    ActionAskPhone,
    ActionSendVerification,
    ActionVerificationDeclined,
    ValidateVerificationForm,
    declined_outcome,
    missing_identity,
    verification_target,
)

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = {
    "forms": {"verification_form": {"required_slots": ["phone", "email"]}},
    "slots": {name: {"type": "text"} for name in ("phone", "email", "language", "verified", "verifying_for")},
}


def test_the_phone_wins_then_the_email_then_nothing() -> None:
    assert verification_target("+52 55 1234 5678", "ana@example.com") == {"phone": "+52 55 1234 5678"}
    assert verification_target(None, "ana@example.com") == {"email": "ana@example.com"}
    assert verification_target(" ", "") is None
    assert missing_identity(None, None) == ["phone"]
    assert missing_identity(None, "ana@example.com") == []
    assert missing_identity("5512345678", None) == []
    assert declined_outcome("account") == "handoff"
    assert declined_outcome("claim") == "anonymous"
    assert declined_outcome(None) == "anonymous"


@pytest.mark.parametrize(
    "language,start",
    [("es", "Para confirmar que eres tú, ¿me compartes el número de teléfono"),
     ("en", "To confirm it's you, what's the phone number")],
)
def test_the_phone_question_is_marked_as_asking_for_the_phone(dispatcher, make_tracker, run_action,
                                                               language: str, start: str) -> None:
    run_action(ActionAskPhone(), dispatcher, make_tracker({"language": language}))
    [message] = dispatcher.messages
    assert message["text"].startswith(start)
    assert message["custom"] == {"asked": "phone"}


def _form(dispatcher: Any, make_tracker: Any, slots: dict[str, Any], **latest: Any) -> list[dict[str, Any]]:
    tracker = make_tracker(slots, active_loop="verification_form", **latest)
    return asyncio.run(ValidateVerificationForm().run(dispatcher, tracker, DOMAIN))


def test_the_form_asks_for_the_phone_only_when_neither_is_known(dispatcher, make_tracker) -> None:
    assert _form(dispatcher, make_tracker, {"language": "es"}) == [SlotSet("requested_slot", "phone")]
    assert _form(dispatcher, make_tracker, {"phone": "+525512345678"}) == [SlotSet("requested_slot", None)]
    assert _form(dispatcher, make_tracker, {"email": "ana@example.com"}) == [SlotSet("requested_slot", None)]
    answered = _form(dispatcher, make_tracker, {"requested_slot": "phone", "email": "kim.ng@gmail.com"},
                     text="my email is kim.ng@gmail.com", intent="claim_identity",
                     entities=[{"entity": "email", "value": "kim.ng@gmail.com"}])
    assert answered == [SlotSet("requested_slot", None)]  # an email instead of the phone is enough
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "slots,payload",
    [({"phone": "+52 55 1234 5678", "email": "ana@example.com"}, {"phone": "+52 55 1234 5678"}),
     ({"email": "ana@example.com"}, {"email": "ana@example.com"}),
     ({"phone": "33 2211 4455"}, {"phone": "33 2211 4455"})],
)
def test_an_accepted_code_is_one_payload_and_no_text(dispatcher, make_tracker, run_action,
                                                     slots: dict[str, Any], payload: dict[str, str]) -> None:
    events = run_action(ActionSendVerification(), dispatcher, make_tracker({"language": "es", **slots}, "sí", "affirm"))
    assert events == []
    [message] = dispatcher.messages
    assert message["custom"] == {"verification": payload}
    assert not message["text"] and not message["buttons"]


def test_nothing_to_send_a_code_to_asks_for_the_phone(dispatcher, make_tracker, run_action) -> None:
    run_action(ActionSendVerification(), dispatcher, make_tracker({"language": "en"}, "yes", "affirm"))
    [message] = dispatcher.messages
    assert message["custom"] == {"asked": "phone"} and message["text"].startswith("To confirm it's you")


def test_a_refused_code_for_an_account_update_goes_to_people(dispatcher, make_tracker, run_action) -> None:
    tracker = make_tracker({"language": "es", "verified": False, "channel": "webchat", "verifying_for": "account",
                            "phone": "55 1234 5678"}, "no", "deny", 0.98)
    run_action(ActionVerificationDeclined(), dispatcher, tracker)
    text, custom = dispatcher.messages
    assert text["text"].startswith("Por seguridad, para cambiar datos de tu cuenta")
    handoff = custom["custom"]["handoff"]
    assert handoff["reason"] == "verification_required" and handoff["team"] == "accounts"
    assert handoff["intent"] == "update_account" and handoff["confidence"] == 0.98
    assert "quiere actualizar datos de su cuenta" in handoff["summary"]


@pytest.mark.parametrize(
    "language,text",
    [("es", "De acuerdo, seguimos sin verificar. ¿En qué te puedo ayudar?"),
     ("en", "All right, we'll carry on without verifying. How can I help you?")],
)
def test_a_refused_code_for_a_claim_carries_on(dispatcher, make_tracker, run_action, language: str, text: str) -> None:
    tracker = make_tracker({"language": language, "verified": False, "verifying_for": "claim"}, "no", "deny")
    run_action(ActionVerificationDeclined(), dispatcher, tracker)
    assert [m["text"] for m in dispatcher.messages] == [text]
    assert all(not m["custom"] for m in dispatcher.messages)


def _response(name: str, language: str | None) -> dict[str, Any]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for variation in domain["responses"][name]:
        told = {c["value"] for c in variation.get("condition") or [] if c["name"] == "language"}
        if told == ({language} if language else set()):
            return variation
    raise AssertionError(f"{name} has no variation for {language}")


def test_the_offer_in_each_language_with_yes_and_no() -> None:
    es, en = _response("utter_offer_verification", "es"), _response("utter_offer_verification", "en")
    assert es["text"] == "¿Te envío un código de verificación por WhatsApp para confirmar que eres tú?"
    assert [(b["title"], b["payload"]) for b in es["buttons"]] == [("Sí", "/affirm"), ("No", "/deny")]
    assert en["text"] == "Shall I send you a verification code on WhatsApp to confirm it's you?"
    assert [(b["title"], b["payload"]) for b in en["buttons"]] == [("Yes", "/affirm"), ("No", "/deny")]
    assert _response("utter_identity_known", "es")["text"].startswith("¡Gracias! Ya confirmamos quién eres")
