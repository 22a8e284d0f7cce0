"""With the tracker store of endpoints.yml, a Rasa restart in the middle of a form loses nothing."""
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
    response = httpx.post(f"{rasa_url}/webhooks/rest/webhook", timeout=60,
                          json={"sender": SENDER, "message": text, "metadata": {"channel": "webchat"}})
    response.raise_for_status()
    return " ".join(str(message.get("text") or "") for message in response.json())


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
        answer = say(url, "100003")
        assert "100003" in answer and "número de pedido" not in answer.lower(), answer  # answered, not asked again
    finally:
        second.stop()
