"""The assistant over Rasa's REST channel: one request per customer turn, never trusted to stay up."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from handoff.core.callback_windows import CHOICES as CALLBACK_WINDOWS
from handoff.core.handoffs import HandoffRequest
from handoff.core.messages import OutboundMessage, QuickReply
from handoff.core.rasa_replicas import RESENDABLE_STATUSES, replica_order, replica_urls, resendable

log = structlog.get_logger(__name__)

FALLBACK_INTENT = "nlu_fallback"  # what Rasa's FallbackClassifier predicts when no intent is confident enough


class BotUnavailable(Exception):
    """Rasa did not answer in time or answered with an error; the turn goes to people."""


@dataclass(frozen=True)
class CodeRequest:
    """The assistant's `{"verification": {"phone": …}}` (or `"email"`): send a code to that phone, or to the phone
    of the customer owning that email, as the customer told it (the service normalizes it)."""

    phone: str | None = None
    email: str | None = None

    @classmethod
    def from_payload(cls, payload: Any) -> CodeRequest | None:
        """A phone or an email as text, else None (nothing to send to: the turn goes on without it)."""
        if not isinstance(payload, dict):
            return None
        phone, email = payload.get("phone"), payload.get("email")
        if isinstance(phone, str) and phone.strip():
            return cls(phone=phone.strip()[:64])
        if isinstance(email, str) and email.strip():
            return cls(email=email.strip()[:320])
        return None


@dataclass(frozen=True)
class CallbackAsk:
    """The assistant's `{"callback": {"window": "asap" | "afternoon" | "tomorrow_morning", "phone": …}}`: the customer
    wants a call in that window, at the number they told (none: their own)."""

    window: str
    phone: str | None = None

    @classmethod
    def from_payload(cls, payload: Any) -> CallbackAsk | None:
        """A known window (and the phone as text), else None (nothing to book: the turn goes on without it)."""
        if not isinstance(payload, dict) or payload.get("window") not in CALLBACK_WINDOWS:
            return None
        phone = payload.get("phone")
        return cls(str(payload["window"]), phone.strip()[:64] if isinstance(phone, str) and phone.strip() else None)


@dataclass(frozen=True)
class BotTurn:
    messages: tuple[OutboundMessage, ...]
    handoff: HandoffRequest | None
    asked: tuple[str, ...] = ()  # the facts the assistant asked for (`{"asked": "order_number"}` payloads)
    verification: CodeRequest | None = None  # send a verification code (`{"verification": {...}}`)
    callback: CallbackAsk | None = None  # book a call (`{"callback": {...}}`)
    slots: dict[str, Any] | None = None  # the slots asked for, after the turn (`{"slots": {...}}`), if reported


def parse_rest_response(items: Any) -> BotTurn:
    """Rasa REST replies → messages plus at most one handoff, the facts asked for, at most one code to send, one
    call to book and the slots reported after the turn; unknown shapes are kept as custom. The service's own
    payloads (handoff, asked, verification, callback, slots) are signals, never shown to the customer."""
    if not isinstance(items, list):
        raise BotUnavailable(f"unexpected reply from Rasa: {type(items).__name__}")
    messages: list[OutboundMessage] = []
    handoff: HandoffRequest | None = None
    asked: list[str] = []
    verification: CodeRequest | None = None
    callback: CallbackAsk | None = None
    slots: dict[str, Any] | None = None
    for item in items:
        if not isinstance(item, dict):
            continue
        custom = item.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("handoff"), dict):
            handoff = handoff or HandoffRequest.from_payload(custom["handoff"])
            continue
        if isinstance(custom, dict) and set(custom) == {"asked"}:
            if isinstance(custom["asked"], str) and custom["asked"] not in asked:
                asked.append(custom["asked"][:64])
            continue
        if isinstance(custom, dict) and set(custom) == {"verification"}:
            verification = verification or CodeRequest.from_payload(custom["verification"])
            continue
        if isinstance(custom, dict) and set(custom) == {"callback"}:
            callback = callback or CallbackAsk.from_payload(custom["callback"])
            continue
        if isinstance(custom, dict) and set(custom) == {"slots"}:
            slots = custom["slots"] if isinstance(custom["slots"], dict) else slots
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
    return BotTurn(tuple(messages), handoff, tuple(asked), verification, callback, slots)


def said_nothing(turn: BotTurn) -> bool:
    """Rasa's REST channel answers 200 with no reply when its turn failed inside (its tracker store on a database
    that is away, its lock store): no message and no signal leaves the customer unanswered, so it is a failure."""
    return not turn.messages and turn.handoff is None and not turn.asked and turn.verification is None \
        and turn.callback is None


@dataclass(frozen=True)
class UserTurn:
    """One customer message as Rasa parsed it."""

    text: str
    intent: str | None
    confidence: float | None
    guess: str | None = None  # the best intent other than the fallback, what the model would have said
    guess_confidence: float | None = None


def _object_or_empty(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def user_turns(events: list[Any]) -> list[UserTurn]:
    """Every `user` event of a tracker, in order, with its intent and the best non-fallback guess."""
    turns: list[UserTurn] = []
    for event in events:
        if not isinstance(event, dict) or event.get("event") != "user":
            continue
        parse = _object_or_empty(event.get("parse_data"))
        intent = _object_or_empty(parse.get("intent"))
        ranking = [item for item in parse.get("intent_ranking") or []
                   if isinstance(item, dict) and item.get("name") and item.get("name") != FALLBACK_INTENT]
        best = max(ranking, key=lambda item: float(item.get("confidence") or 0.0), default=None)
        turns.append(UserTurn(
            text=str(event.get("text") or ""),
            intent=intent.get("name"),
            confidence=_number(intent.get("confidence")),
            guess=best.get("name") if best else None,
            guess_confidence=_number(best.get("confidence")) if best else None,
        ))
    return turns


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def build_metadata(
    *,
    channel: str,
    customer: dict[str, Any],
    case: dict[str, Any],
    known: dict[str, Any],
    language: str | None,
    commitments: list[dict[str, Any]] | None = None,
    notification: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The assistant contract of DESIGN.md: who is writing, on which door, what we already know and promised,
    and the last notification the business sent on the case (core.notification_content: template and values)."""
    return {"channel": channel, "language": language, "customer": customer, "case": case, "known": known,
            "commitments": list(commitments or []), "notification": notification}


class RasaClient:
    """Posts turns to one Rasa or spreads them over several replicas, a case always to the same one first.

    A turn is sent again (to the case's next replica, or after a backoff to the same ones) only when it certainly
    never reached Rasa: no connection, or a 502/503. A timeout or a connection lost after sending is not retried:
    Rasa may still be processing the turn, and a second copy would answer the customer twice.
    """

    RESTING_SECONDS = 10.0  # a replica that failed goes last in every order for this long

    def __init__(self, base_url: str | Sequence[str], *, timeout: float, retries: int, backoff: float,
                 token: str | None = None, client: httpx.AsyncClient | None = None) -> None:
        self.replicas = replica_urls([base_url] if isinstance(base_url, str) else base_url)
        if not self.replicas:
            raise ValueError("RasaClient needs at least one Rasa URL")
        self.base_url = self.replicas[0]
        self.token = token
        self.retries = retries
        self.backoff = backoff
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)))
        self._failed_at: dict[str, float] = {}

    def _order(self, sender: str) -> tuple[str, ...]:
        """The conversation's replicas to try, the ones that failed in the last seconds last."""
        if len(self.replicas) == 1:
            return self.replicas
        now = time.monotonic()
        resting = {url for url, at in self._failed_at.items() if now - at < self.RESTING_SECONDS}
        return replica_order(sender, self.replicas, resting)

    def _failed(self, url: str) -> None:
        self._failed_at[url] = time.monotonic()

    async def turn(self, sender: str, message: str, metadata: dict[str, Any],
                   slots: Sequence[str] = ()) -> BotTurn:
        """One customer turn; raises BotUnavailable when no replica can answer. `slots`: names whose values after
        the turn the assistant's channel (bot/channels/rest_with_metadata.py) reports in the same answer."""
        body: dict[str, Any] = {"sender": sender, "message": message, "metadata": metadata}
        if slots:
            body["slots"] = list(slots)
        order, reason = self._order(sender), "Rasa unavailable"
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * attempt)
            for url in order:
                try:
                    response = await self._client.post(f"{url}/webhooks/rest/webhook", json=body)
                except httpx.HTTPError as exc:
                    if not resendable(exc):  # sent, maybe processed: never to a second replica
                        timed_out = isinstance(exc, httpx.TimeoutException)
                        raise BotUnavailable("Rasa timed out" if timed_out else f"Rasa failed: {exc!r}") from exc
                    log.warning("rasa_unreachable", attempt=attempt + 1, replica=url, error=str(exc))
                    self._failed(url)
                    reason = f"Rasa unreachable: {exc}"
                    continue
                if response.status_code in RESENDABLE_STATUSES:
                    log.warning("rasa_refused", attempt=attempt + 1, replica=url, status=response.status_code)
                    self._failed(url)
                    reason = f"Rasa answered HTTP {response.status_code}"
                    continue
                if response.status_code != 200:
                    raise BotUnavailable(f"Rasa answered HTTP {response.status_code}")
                try:
                    answer = parse_rest_response(response.json())
                except ValueError as exc:
                    raise BotUnavailable("Rasa answered with invalid JSON") from exc
                if said_nothing(answer):  # processed, maybe partly: never sent to a second replica
                    raise BotUnavailable("Rasa answered nothing (its turn failed inside: tracker or lock store)")
                return answer
        raise BotUnavailable(reason)

    async def _tracker(self, sender: str, include_events: str) -> dict[str, Any] | None:
        """GET /conversations/{sender}/tracker from the conversation's replicas in turn (reading is safe to
        repeat; the tracker store is shared); None if none can say."""
        params = {"include_events": include_events, **({"token": self.token} if self.token else {})}
        for url in self._order(sender):
            try:
                response = await self._client.get(f"{url}/conversations/{sender}/tracker", params=params)
                body = response.json() if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                body = None
            if isinstance(body, dict):
                return body
        return None

    async def slots(self, sender: str) -> dict[str, Any]:
        """The conversation's slots (its language, the facts it learnt); empty if Rasa can't say."""
        tracker = await self._tracker(sender, "NONE")
        slots = tracker.get("slots") if tracker else None
        return slots if isinstance(slots, dict) else {}

    async def slot(self, sender: str, name: str) -> Any:
        """A slot of the conversation (the language the assistant settled on); None if Rasa can't say."""
        return (await self.slots(sender)).get(name)

    async def user_turns(self, sender: str) -> list[UserTurn] | None:
        """Every customer message of a conversation as Rasa parsed it, for the designers' harvester."""
        tracker = await self._tracker(sender, "ALL")
        return user_turns(tracker.get("events") or []) if tracker is not None else None

    async def aclose(self) -> None:
        await self._client.aclose()
