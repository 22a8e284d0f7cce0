"""Handoff: the customer text, the payload contract, reasons, teams and the agent-facing summary."""
from __future__ import annotations

from pathlib import Path

import pytest

from actions.handoff import ActionHandoff, handoff_reason
from actions.summary import build_summary


@pytest.mark.parametrize(
    "intent,verified,reason",
    [
        ("request_human", None, "explicit_request"),
        ("return_request", True, "complex_intent"),
        ("report_fraud", None, "complex_intent"),
        ("complaint", False, "complex_intent"),
        ("nlu_fallback", None, "repeated_fallback"),
        ("update_account", False, "verification_required"),
        ("update_account", None, "verification_required"),
        ("affirm", None, "explicit_request"),
    ],
)
def test_reason_vocabulary(intent, verified, reason) -> None:
    assert handoff_reason(intent, verified) == reason


def test_handoff_payload_for_a_return(dispatcher, make_tracker, run_action) -> None:
    slots = {
        "language": "es", "channel": "webchat", "order_number": "100002", "customer_name": None,
        "email": "", "verified": False, "session_started_metadata": {"x": 1}, "requested_slot": None,
    }
    tracker = make_tracker(slots, "quiero devolver un producto", "return_request", 0.934567)
    assert run_action(ActionHandoff(), dispatcher, tracker) == []
    text, payload = dispatcher.messages
    assert text["text"].startswith("Te comunico con una persona del equipo de Devoluciones")
    assert "no tienes que repetir nada" in text["text"]
    assert payload["custom"] == {
        "handoff": {
            "reason": "complex_intent",
            "intent": "return_request",
            "confidence": 0.9346,
            "summary": "Cliente (es, webchat) quiere devolver un producto; pedido 100002 conocido; "
            "dijo: 'quiero devolver un producto'",
            "slots": {"language": "es", "channel": "webchat", "verified": False, "order_number": "100002"},
            "team": "returns",
        }
    }


@pytest.mark.parametrize(
    "intent,team,text_start",
    [
        ("request_human", "care", "I'm passing you to a person from our Customer care team."),
        ("report_fraud", "fraud", "I'm passing you to a person from our Fraud prevention team."),
        ("complaint", "care", "I'm passing you to a person from our Customer care team."),
        ("nlu_fallback", "care", "I'm passing you to a person from our Customer care team."),
        ("update_account", "accounts", "For your security, changing account details needs an identity check."),
    ],
)
def test_handoff_in_english(dispatcher, make_tracker, run_action, intent, team, text_start) -> None:
    run_action(ActionHandoff(), dispatcher, make_tracker({"language": "en"}, "some text", intent, 0.5))
    assert dispatcher.messages[0]["text"].startswith(text_start)
    assert "won't need to repeat" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[1]["custom"]["handoff"]["team"] == team


def test_team_falls_back_to_default(dispatcher, make_tracker, run_action, isolated_env: Path) -> None:
    ops = isolated_env / "operations.yml"
    ops.write_text(ops.read_text().replace("  default: care", "  default: accounts"))
    run_action(ActionHandoff(), dispatcher, make_tracker({"language": "en"}, "yes", "affirm"))
    assert dispatcher.messages[1]["custom"]["handoff"]["team"] == "accounts"


def test_summary_in_english_with_everything_known() -> None:
    slots = {"customer_name": "Ana Lopez", "language": "es", "channel": "whatsapp", "order_number": "100004",
             "email": "ana@example.com", "phone": "+5215512345678", "verified": True}
    assert build_summary("complaint", slots, "  llevo   semanas esperando ", "en") == (
        "Ana Lopez (es, whatsapp) has a complaint; order 100004 known; email ana@example.com; "
        "phone +5215512345678; identity verified; said: 'llevo semanas esperando'"
    )


def test_summary_for_repeated_fallback_truncates_long_text() -> None:
    summary = build_summary("nlu_fallback", {}, "x" * 500, "es", reason="repeated_fallback")
    assert summary.startswith("Cliente no fue entendido dos veces seguidas; dijo: 'xxx")
    assert len(summary) < 230 and summary.endswith("…'")


def test_summary_mentions_failed_order_lookup() -> None:
    slots = {"language": "en", "channel": "webchat", "order_lookup": "not_found"}
    assert build_summary("affirm", slots, "yes", "en") == (
        "Customer (en, webchat) accepted to be helped by a person; order not found; said: 'yes'"
    )
    assert "el sistema de pedidos no respondió" in build_summary("affirm", {"order_lookup": "unavailable"}, "si", "es")
