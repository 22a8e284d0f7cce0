"""REST channel that forwards request metadata, which the stock RestInput drops, and reports slots after the turn."""
from __future__ import annotations

import logging
from asyncio import CancelledError
from contextlib import nullcontext
from typing import Any, Awaitable, Callable, ContextManager, Dict, List, Mapping, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.runtime import sqlite_trackers
from bot.runtime.saved_slots import SAVED_SLOTS, Watch, tracker_slots

# `rasa run` imports this channel (credentials.yml) before it serves: the one place our code runs in the server.
sqlite_trackers.install()

logger = logging.getLogger(__name__)
MAX_REPORTED_SLOTS = 16


def slot_names(value: Any) -> List[Text]:
    """The request's `slots`: the names of the slots to report after the turn (none when not a list of names)."""
    if not isinstance(value, list):
        return []
    return [name for name in value if isinstance(name, str)][:MAX_REPORTED_SLOTS]


def slot_report(slots: Optional[Mapping[Text, Any]], names: List[Text]) -> Optional[Dict[Text, Any]]:
    """The custom payload `{"slots": {name: value}}` for the named slots the domain has; None without slots."""
    if slots is None:
        return None
    return {"slots": {name: slots[name] for name in names if name in slots}}


class RestWithMetadataInput(RestInput):
    """Same URL and reply shape as `rest` (POST /webhooks/rest/webhook), plus `metadata` passed on, and, when the
    body names `slots`, their values after the turn as one last reply `{"custom": {"slots": {…}}}`: the service
    learns the language and facts a turn taught in the turn's own request, instead of a second request for the
    tracker that waits behind every queued turn when Rasa is busy."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        """The JSON body's `metadata` object (channel, customer, case, known facts)."""
        body = request.json or {}
        metadata = body.get("metadata") if isinstance(body, dict) else None
        return metadata if isinstance(metadata, dict) else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The stock routes (GET /, POST /webhook) without streaming, which the service never asks for."""
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            sender = body.get("sender")  # the stock channel's body, read here: its readers are private methods
            names = slot_names(body.get("slots"))
            collector = CollectingOutputChannel()
            # The turn's own save hands over its slots (bot/runtime/saved_slots.py): no second tracker read.
            watching: ContextManager[Optional[Watch]] = (
                SAVED_SLOTS.watching(sender) if names and isinstance(sender, str) else nullcontext())
            with watching as watch:
                try:
                    await on_new_message(UserMessage(body.get("message"), collector, sender,
                                                     input_channel=body.get("input_channel") or self.name(),
                                                     metadata=self.get_metadata(request)))
                except CancelledError:
                    logger.error("rest turn cancelled (timeout)")  # never the customer's text
                    return response.json(collector.messages)
                except Exception:  # as the stock channel: what was said so far (nothing: the service hands off)
                    logger.exception("rest turn failed")
                    return response.json(collector.messages)
                if names:
                    slots = watch.slots if watch is not None else None
                    if slots is None:  # no save seen (another tracker store, or it failed): read the tracker
                        slots = tracker_slots(await request.app.ctx.agent.tracker_store.retrieve(sender))
                    report = slot_report(slots, names)
                    if report is not None:
                        await collector.send_custom_json(sender, report)
            return response.json(collector.messages)

        return webhook
