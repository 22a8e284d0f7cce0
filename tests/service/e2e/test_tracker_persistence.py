"""With the tracker store of endpoints.yml, a Rasa restart in the middle of a form loses nothing, and the turn's
slots the service asks for are reported from the tracker the turn saved."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from tests.service.support.processes import REPO
from tests.service.support.stack import RasaStack, start_rasa

SENDER = "persisted-case-1"

pytestmark = pytest.mark.e2e


def say(rasa_url: str, text: str) -> str:
    answer = turn(rasa_url, text)
    return " ".join(str(message.get("text") or "") for message in answer)


def turn(rasa_url: str, text: str, slots: list[str] | None = None) -> list[dict]:
    body = {"sender": SENDER, "message": text, "metadata": {"channel": "webchat"}}
    if slots:
        body["slots"] = slots
    response = httpx.post(f"{rasa_url}/webhooks/rest/webhook", timeout=60, json=body)
    response.raise_for_status()
    answer: list[dict] = response.json()
    return answer


def reported_slots(rasa_url: str, text: str) -> tuple[str, dict, dict]:
    """The turn's answer, the slots the channel reported after it, and those slots as the tracker now has them."""
    answer = turn(rasa_url, text, ["language", "order_number", "email", "no_such_slot"])
    report = answer[-1].get("custom", {}).get("slots")
    assert isinstance(report, dict), answer
    tracker = httpx.get(f"{rasa_url}/conversations/{SENDER}/tracker", timeout=30).json()["slots"]
    said = " ".join(str(message.get("text") or "") for message in answer[:-1])
    return said, report, {name: tracker[name] for name in ("language", "order_number", "email")}


def test_a_form_continues_after_rasa_restarts(rasa_stack: RasaStack, tmp_path: Path) -> None:
    store = yaml.safe_load((REPO / "endpoints.yml").read_text())["tracker_store"]
    assert store["type"] == "bot.runtime.cached_trackers.EventCachingSQLTrackerStore"  # what `make run` uses
    store = {**store, "db": str(tmp_path / "trackers.sqlite3")}
    first, url = start_rasa(rasa_stack.action_url, tmp_path, tracker_store=store)
    try:
        asked = say(url, "quiero saber donde esta mi pedido")
        assert "número de pedido" in asked.lower(), asked  # the order form asks for the number
    finally:
        first.stop()
    second, url = start_rasa(rasa_stack.action_url, tmp_path, tracker_store=store)
    try:
        tracker = httpx.get(f"{url}/conversations/{SENDER}/tracker", timeout=30).json()
        assert tracker["active_loop"].get("name"), tracker["active_loop"]  # the form is still waiting
        # The slots asked with the turn (as the service asks them) are reported from the tracker the turn saved
        # (bot/runtime/saved_slots.py): what the tracker holds after it, the number just told included.
        answer, report, stored = reported_slots(url, "100003")
        assert "100003" in answer and "número de pedido" not in answer.lower(), answer  # answered, not asked again
        assert report == stored and report["order_number"] == "100003" and report["language"] == "es", report
    finally:
        second.stop()
