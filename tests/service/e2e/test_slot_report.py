"""The assistant's channel reports the slots a turn names in the turn's own answer, as its tracker holds them.

The service learns a turn's language and facts from this report (handoff.core.conversation) instead of a second
request for the tracker, which waits behind every queued turn when Rasa is busy.
"""
from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from handoff.core.learnt import TAUGHT_SLOTS
from tests.service.support.stack import RasaStack

pytestmark = pytest.mark.e2e

METADATA = {"channel": "webchat", "language": None, "case": {"id": "case", "status": "bot"},
            "customer": {"id": "c-1", "name": None, "language": None, "identities": []}, "known": {},
            "commitments": [], "notification": None}


def say(stack: RasaStack, sender: str, text: str, **extra: Any) -> list[dict[str, Any]]:
    response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", timeout=60,
                          json={"sender": sender, "message": text, "metadata": METADATA, **extra})
    response.raise_for_status()
    return response.json()


def test_the_slots_named_come_after_the_answer_as_the_tracker_holds_them(rasa_stack: RasaStack) -> None:
    sender = f"visitor-{uuid.uuid4().hex[:8]}"
    plain = say(rasa_stack, sender, "hola")
    assert plain and all("slots" not in (item.get("custom") or {}) for item in plain)  # not asked: not reported
    *answer, report = say(rasa_stack, sender, "donde esta mi pedido 100002", slots=[*TAUGHT_SLOTS, "nonexistent"])
    assert answer and all(item.get("text") or item.get("custom") for item in answer)
    tracker = httpx.get(f"{rasa_stack.rasa_url}/conversations/{sender}/tracker", timeout=30).json()["slots"]
    assert report == {"recipient_id": sender, "custom": {"slots": {name: tracker[name] for name in TAUGHT_SLOTS}}}
    assert report["custom"]["slots"]["language"] == "es" and report["custom"]["slots"]["order_number"] == "100002"
