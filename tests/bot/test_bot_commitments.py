"""What an agent promised, quoted back from the service's metadata: the soonest open promise and its local date,
an overdue one with an apology, none on record; the slot refreshed every turn; the trained model's intent."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rasa_sdk.events import SlotSet

from actions.commitments import ActionCommitmentStatus, commitment_answer
from actions.session import refreshed_slots, slots_from_metadata

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 15, tzinfo=timezone.utc)
ZONE = "America/Mexico_City"
REFUND = {"id": 7, "text": "Reembolso de $450 a tu tarjeta", "due_at": "2026-12-05T18:00:00.000000Z",
          "case_id": "case-0"}
CALL = {"id": 9, "text": "Llamarte para confirmar la entrega", "due_at": "2026-12-02T03:00:00.000000Z",
        "case_id": "case-1"}  # 21:00 on December 1st in Mexico City


def test_the_soonest_promise_is_quoted_with_its_local_day() -> None:
    assert commitment_answer([REFUND], "es", ZONE, NOW) == (
        ["Tu asesor se comprometió a: «Reembolso de $450 a tu tarjeta» para el 5 de diciembre."], "found")
    assert commitment_answer([REFUND], "en", ZONE, NOW) == (
        ["Your agent committed to: “Reembolso de $450 a tu tarjeta” by December 5."], "found")
    messages, found = commitment_answer([REFUND, CALL], "es", ZONE, NOW)
    assert found == "found" and messages == [
        "Tu asesor se comprometió a: «Llamarte para confirmar la entrega» para el 1 de diciembre.",  # local day
        "Tienes 1 compromiso más pendiente."]
    assert commitment_answer([REFUND, CALL, REFUND], "en", ZONE, NOW)[0][1] == "You have 2 more pending commitments."
    later = {**REFUND, "due_at": "2027-01-10T18:00:00Z"}
    assert commitment_answer([later], "es", ZONE, NOW)[0] == [
        "Tu asesor se comprometió a: «Reembolso de $450 a tu tarjeta» para el 10 de enero de 2027."]


def test_a_promise_past_its_date_apologises_and_none_on_record_says_so() -> None:
    assert commitment_answer([REFUND], "es", ZONE, datetime(2026, 12, 6, tzinfo=timezone.utc)) == (
        ["Tu asesor se comprometió a: «Reembolso de $450 a tu tarjeta» para el 5 de diciembre. "
         "Esa fecha ya pasó, lo siento mucho 😕"], "overdue")
    for nothing in (None, [], [{"text": "", "due_at": "2026-12-05T18:00:00Z"}, {"text": "x", "due_at": "mañana"}]):
        assert commitment_answer(nothing, "es", ZONE, NOW) == (
            ["No veo ningún compromiso pendiente a tu nombre."], "none")


def test_the_action_reads_the_slot_and_sets_what_it_found(dispatcher, make_tracker, run_action) -> None:
    tracker = make_tracker({"language": "en", "commitments": [REFUND]}, "what about my refund?", "ask_commitment")
    assert run_action(ActionCommitmentStatus(), dispatcher, tracker) == [SlotSet("commitment_lookup", "found")]
    assert [m["text"] for m in dispatcher.messages][0].startswith("Your agent committed to: “Reembolso de $450")
    empty = make_tracker({"language": "es"}, "y mi reembolso?", "ask_commitment")
    assert run_action(ActionCommitmentStatus(), dispatcher, empty) == [SlotSet("commitment_lookup", "none")]


def webchat(**extra: Any) -> dict[str, Any]:
    return {"channel": "webchat", "language": "es", "case": {"id": "case-1", "status": "bot"},
            "customer": {"id": "c-1", "name": "Ana", "identities": []}, "known": {}, **extra}


def test_the_promises_come_with_every_turn_and_follow_the_service(read_turn) -> None:
    assert slots_from_metadata(webchat(commitments=[REFUND]))["commitments"] == [REFUND]
    assert "commitments" not in slots_from_metadata(webchat())  # an older service sends none: nothing changes
    current = {"channel": "webchat", "customer_id": "c-1", "customer_name": "Ana", "verified": False}
    assert refreshed_slots({**current, "commitments": [REFUND]}, webchat(commitments=[])) == {"commitments": []}
    assert refreshed_slots({**current, "commitments": [REFUND]}, webchat(commitments=[REFUND])) == {}
    assert read_turn({**current, "language": "es"}, "y mi reembolso?", "ask_commitment",
                     metadata=webchat(commitments=[CALL]), earlier=[({}, "hola")]) == {"commitments": [CALL]}


def test_the_trained_model_tells_a_promise_from_an_order_and_a_refund_request(trained_agent: Any) -> None:
    async def parse(texts: list[str]) -> list[str]:
        return [(await trained_agent.parse_message(text))["intent"]["name"] for text in texts]

    asked = ["¿y mi reembolso?", "what about my refund?", "¿dónde está mi pedido?", "where is my order?",
             "quiero un reembolso", "i want a refund"]
    assert asyncio.run(parse(asked)) == ["ask_commitment", "ask_commitment", "order_status", "order_status",
                                         "return_request", "return_request"]
