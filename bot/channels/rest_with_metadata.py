"""REST channel that forwards request metadata, which the stock RestInput drops."""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.channels.rest import RestInput
from sanic.request import Request

from bot.runtime import sqlite_trackers

# `rasa run` imports this channel (credentials.yml) before it serves: the one place our code runs in the server.
sqlite_trackers.install()


class RestWithMetadataInput(RestInput):
    """Same URL and reply shape as `rest` (POST /webhooks/rest/webhook), plus `metadata` passed on."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        """The JSON body's `metadata` object (channel, customer, case, known facts)."""
        body = request.json or {}
        metadata = body.get("metadata") if isinstance(body, dict) else None
        return metadata if isinstance(metadata, dict) else None
