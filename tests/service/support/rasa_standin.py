"""An in-process stand-in for Rasa's REST channel, for store-level tests of channel adapters.

End-to-end tests use the real trained assistant; these tests are about what a channel stores and sends,
so they need an assistant that answers instantly and records what it was asked.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class RasaStandIn:
    """Records what the assistant was asked and answers with `reply(message)`."""

    asked: list[dict[str, Any]] = field(default_factory=list)
    reply: Callable[[str], list[dict[str, Any]]] = lambda message: [{"text": f"Recibido: {message}"}]
    slots: dict[str, Any] = field(default_factory=lambda: {"language": "es"})  # what the tracker answers
    reports_slots: bool = True  # as bot/channels/rest_with_metadata.py: the slots a turn names, after it
    slot_asks: int = 0  # turns that named slots to report
    tracker_reads: int = 0

    def tracker(self) -> dict[str, Any]:
        """GET /conversations/{sender}/tracker: the slots (one conversation's, whichever sender asks)."""
        self.tracker_reads += 1
        return {"slots": dict(self.slots), "events": []}

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/tracker"):
            return httpx.Response(200, json=self.tracker())
        body = json.loads(request.content)
        self.asked.append(body)
        answers = [{"recipient_id": body["sender"], **item} for item in self.reply(body["message"])]
        if body.get("slots"):
            self.slot_asks += 1
            if self.reports_slots:
                answers.append({"recipient_id": body["sender"],
                                "custom": {"slots": {name: self.slots.get(name) for name in body["slots"]}}})
        return httpx.Response(200, json=answers)
