"""The assistant over Rasa's REST channel: one request per customer turn, never trusted to stay up."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from handoff.handoffs import HandoffRequest
from handoff.messages import OutboundMessage, QuickReply

log = structlog.get_logger(__name__)


class BotUnavailable(Exception):
    """Rasa did not answer in time or answered with an error; the turn goes to people."""


@dataclass(frozen=True)
class BotTurn:
    messages: tuple[OutboundMessage, ...]
    handoff: HandoffRequest | None


def parse_rest_response(items: Any) -> BotTurn:
    """Rasa REST replies → messages plus at most one handoff; unknown shapes are kept as custom."""
    if not isinstance(items, list):
        raise BotUnavailable(f"unexpected reply from Rasa: {type(items).__name__}")
    messages: list[OutboundMessage] = []
    handoff: HandoffRequest | None = None
    for item in items:
        if not isinstance(item, dict):
            continue
        custom = item.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("handoff"), dict):
            handoff = handoff or HandoffRequest.from_payload(custom["handoff"])
            continue
        buttons = item.get("buttons") or []
        replies = tuple(
            QuickReply(title=str(button.get("title", "")), payload=str(button.get("payload", "")))
            for button in buttons if isinstance(button, dict)
        )
        message = OutboundMessage(
            actor="bot",
            text=item.get("text"),
            quick_replies=replies,
            image=item.get("image"),
            custom=custom if isinstance(custom, dict) else {},
        )
        if message.text or message.image or message.custom:
            messages.append(message)
    return BotTurn(tuple(messages), handoff)


def build_metadata(
    *,
    channel: str,
    customer: dict[str, Any],
    case: dict[str, Any],
    known: dict[str, Any],
    language: str | None,
) -> dict[str, Any]:
    """The assistant contract of DESIGN.md: who is writing, on which door, and what we already know."""
    return {"channel": channel, "language": language, "customer": customer, "case": case, "known": known}


class RasaClient:
    """Posts turns to Rasa with a timeout and a short retry on connection errors only.

    A timed-out turn is not retried: Rasa may still be processing it, and a second copy would
    answer the customer twice.
    """

    def __init__(self, base_url: str, *, timeout: float, retries: int, backoff: float,
                 token: str | None = None, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.retries = retries
        self.backoff = backoff
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)))

    async def turn(self, sender: str, message: str, metadata: dict[str, Any]) -> BotTurn:
        """One customer turn; raises BotUnavailable when Rasa cannot answer."""
        body = {"sender": sender, "message": message, "metadata": metadata}
        for attempt in range(self.retries + 1):
            try:
                response = await self._client.post(f"{self.base_url}/webhooks/rest/webhook", json=body)
            except httpx.TimeoutException as exc:
                raise BotUnavailable("Rasa timed out") from exc
            except httpx.TransportError as exc:
                log.warning("rasa_unreachable", attempt=attempt + 1, error=str(exc))
                if attempt < self.retries:
                    await asyncio.sleep(self.backoff * (attempt + 1))
                    continue
                raise BotUnavailable(f"Rasa unreachable: {exc}") from exc
            if response.status_code in (502, 503, 504) and attempt < self.retries:
                await asyncio.sleep(self.backoff * (attempt + 1))
                continue
            if response.status_code != 200:
                raise BotUnavailable(f"Rasa answered HTTP {response.status_code}")
            try:
                return parse_rest_response(response.json())
            except ValueError as exc:
                raise BotUnavailable("Rasa answered with invalid JSON") from exc
        raise BotUnavailable("Rasa unavailable")

    async def slot(self, sender: str, name: str) -> Any:
        """A slot of the conversation (the language the assistant settled on); None if Rasa can't say."""
        params = {"include_events": "NONE", **({"token": self.token} if self.token else {})}
        try:
            response = await self._client.get(f"{self.base_url}/conversations/{sender}/tracker", params=params)
            return response.json().get("slots", {}).get(name) if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    async def tracker(self, sender: str) -> dict[str, Any] | None:
        """Every event of a conversation as Rasa saw it, for the designers' harvester; None if Rasa can't say."""
        params = {"include_events": "ALL", **({"token": self.token} if self.token else {})}
        try:
            response = await self._client.get(f"{self.base_url}/conversations/{sender}/tracker", params=params)
            body = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        return body if isinstance(body, dict) else None

    async def aclose(self) -> None:
        await self._client.aclose()
