"""The website chat over Socket.IO, speaking Rasa's socketio protocol so rasa-webchat works unchanged."""
from __future__ import annotations

import hashlib
from typing import Any

import socketio
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.channels.webchat.identified import Joined, OtherCustomer, join_site_customer
from handoff.channels.webchat.identity_token import IdentityTokens, Refused
from handoff.channels.webchat.labels import offered_label
from handoff.channels.webchat.limits import WebchatLimits, client_address
from handoff.core.conversation import Conversations
from handoff.core.customers import find_by_identity
from handoff.core.events import CaseChanged
from handoff.core.hashchain import utc_iso
from handoff.core.json_values import nul_at
from handoff.core.messages import InboundMessage, OutboundMessage
from handoff.core.signing import issue_token, verify_token
from handoff.core.texts import text as service_text
from handoff.store.models import TimelineEvent

log = structlog.get_logger(__name__)
CHANNEL = "webchat"
HISTORY_LIMIT = 200
LANGUAGES = ("es", "en", "pt")


def room(session_id: str) -> str:
    """Every socket of one visitor, on any worker, shares this room."""
    return f"webchat:{session_id}"


def render(message: OutboundMessage) -> list[dict[str, Any]]:
    """Rasa's socketio `bot_uttered` shapes; an image travels as its own message, as in Rasa."""
    shapes: list[dict[str, Any]] = []
    if message.text:
        shape: dict[str, Any] = {"text": message.text}
        if message.quick_replies:
            shape["quick_replies"] = [{"content_type": "text", "title": reply.title, "payload": reply.payload}
                                      for reply in message.quick_replies]
        shapes.append(shape)
    if message.image:
        shapes.append({"attachment": {"type": "image", "payload": {"src": message.image}}})
    if message.actor != "bot":
        for shape in shapes:
            shape["actor"] = message.actor
            if message.agent_name:
                shape["agent_name"] = message.agent_name
    return shapes


def history_item(event: TimelineEvent) -> dict[str, Any]:
    """A stored message as the widget shows it after a reconnect."""
    actor = "agent" if event.actor.startswith("agent:") else event.actor
    item: dict[str, Any] = {"id": str(event.id), "direction": event.direction, "actor": actor, "text": event.text,
                            "at": utc_iso(event.created_at)}
    payload = event.payload or {}
    if payload.get("quick_replies"):
        item["quick_replies"] = [{"content_type": "text", **reply} for reply in payload["quick_replies"]]
    if payload.get("image"):
        item["attachment"] = {"type": "image", "payload": {"src": payload["image"]}}
    return item


def identity_token_in(data: dict[str, Any]) -> object:
    """A site's signed identity: on session_request, or in rasa-webchat's customData / our widget's metadata."""
    if "identity_token" in data:
        return data["identity_token"]
    for key in ("customData", "metadata"):
        extra = data.get(key)
        if isinstance(extra, dict) and "identity_token" in extra:
            return extra["identity_token"]
    return None


def token_digest(token: object) -> str:
    """What a socket remembers of a token it already applied (not the token itself)."""
    return hashlib.sha256(str(token).encode("utf-8", "surrogatepass")).hexdigest()


def language_hint(data: dict[str, Any]) -> str | None:
    """The page's declared language, from rasa-webchat's customData or our widget's metadata."""
    for key in ("customData", "metadata"):
        extra = data.get(key)
        if isinstance(extra, dict) and extra.get("language") in LANGUAGES:
            return str(extra["language"])
    return None


class WebchatDeliverer:
    """Reaches a visitor by emitting to their room, whichever worker holds the socket."""

    staged_status: str | None = None  # pushed live after the commit

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio

    def address_for(self, identity_kind: str, value: str) -> str | None:
        """A visitor's id is their session: the widget that reconnects with it joins the room."""
        return value if identity_kind == CHANNEL else None

    async def stage(self, session: AsyncSession, event: TimelineEvent, address: str,
                    message: OutboundMessage) -> None:
        """Nothing to stage: a visitor who missed the push gets the message from the history."""

    async def deliver(self, address: str, message: OutboundMessage) -> None:
        if message.custom.get("agent_joined"):  # the widget shows its own localized "joined" line
            await self.sio.emit("agent_joined", {"name": str(message.custom["agent_joined"])}, room=room(address))
            return
        for shape in render(message):
            await self.sio.emit("bot_uttered", shape, room=room(address))

    async def typing(self, address: str, actor: str, on: bool) -> None:
        await self.sio.emit("typing", {"actor": actor, "on": on}, room=room(address))


class WebchatChannel:
    """Socket.IO event handlers for visitors: sessions, messages, limits."""

    def __init__(self, sio: socketio.AsyncServer, conversations: Conversations,
                 sessions: async_sessionmaker[AsyncSession], secret: bytes, *, max_chars: int,
                 limits: WebchatLimits, default_language: str, identities: IdentityTokens,
                 tone: str = "tuteo") -> None:
        self.sio = sio
        self.conversations = conversations
        self.sessions = sessions
        self.secret = secret
        self.max_chars = max_chars
        self.limits = limits
        self.default_language = default_language
        self.tone = tone  # operations.yml assistant.tone
        self.identities = identities
        sio.on("connect", self.on_connect)
        sio.on("session_request", self.on_session_request)
        sio.on("user_uttered", self.on_user_uttered)
        sio.on("disconnect", self.on_disconnect)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        return True

    async def on_disconnect(self, sid: str, *args: Any) -> None:
        return None

    async def on_session_request(self, sid: str, data: Any = None) -> None:
        """Confirms the visitor's own session id if we issued it, else issues a new one."""
        requested = data.get("session_id") if isinstance(data, dict) else data
        known = verify_token(self.secret, requested)
        language = (language_hint(data) if isinstance(data, dict) else None) or self.default_language
        if not known and not await self.limits.allow_new_session(sid, self.address(sid)):
            await self.error(sid, "rate_limited", language)
            return
        session_id = str(requested) if known else issue_token(self.secret)
        token = identity_token_in(data) if isinstance(data, dict) else None
        joined = await self.join(session_id, token, language) if token is not None else None
        if isinstance(joined, OtherCustomer):  # this browser's session is another customer's: a fresh one
            session_id, known = issue_token(self.secret), False
            joined = await self.join(session_id, token, language)
        await self.sio.save_session(sid, {"session_id": session_id,
                                          "identity": token_digest(token) if isinstance(joined, Joined) else None})
        await self.sio.enter_room(sid, room(session_id))
        await self.sio.emit("session_confirm", {"session_id": session_id}, to=sid)
        if known or isinstance(joined, Joined):
            messages = await self.history(session_id)
            await self.sio.emit("history", {"session_id": session_id, "messages": messages}, to=sid)
        if isinstance(joined, (Refused, OtherCustomer)):  # after the history, which a widget redraws
            await self.error(sid, "invalid_identity", language)

    def address(self, sid: str) -> str:
        """The client address this socket connected from (per-address limits)."""
        return client_address(self.sio.get_environ(sid) or {})

    async def join(self, session_id: str, token: object, language: str) -> Joined | Refused | OtherCustomer | None:
        """The session joins the customer a valid site token names; a refused token changes and stores nothing."""
        identity = self.identities.verify(token)
        if isinstance(identity, Refused):
            log.info("site_identity_refused", reason=identity.reason)
            return identity
        joined = await join_site_customer(self.sessions, CHANNEL, session_id, identity, language)
        if isinstance(joined, Joined) and joined.case_id:
            await self.conversations.events.publish(CaseChanged(joined.case_id))
        return joined

    async def history(self, session_id: str) -> list[dict[str, Any]]:
        """The visitor's conversation, oldest first, across their cases."""
        async with self.sessions() as session:
            customer = await find_by_identity(session, CHANNEL, session_id)
            if customer is None:
                return []
            events = list(await session.scalars(
                select(TimelineEvent)
                .where(TimelineEvent.customer_id == customer.id, TimelineEvent.kind == "message")
                .order_by(TimelineEvent.created_at.desc(), TimelineEvent.id.desc())
                .limit(HISTORY_LIMIT)
            ))
        return [history_item(event) for event in reversed(events)]

    async def error(self, sid: str, code: str, language: str, **values: object) -> None:
        message = service_text(code, language, self.tone, **values)
        await self.sio.emit("error", {"code": code, "message": message}, to=sid)

    async def on_user_uttered(self, sid: str, data: Any = None) -> None:
        """Validates, stores, then runs the assistant's turn; refused input stores nothing."""
        session = await self.sio.get_session(sid)
        session_id = session.get("session_id")
        language = (language_hint(data) if isinstance(data, dict) else None) or self.default_language
        if not session_id or (isinstance(data, dict) and data.get("session_id") not in (None, session_id)):
            await self.sio.emit("error", {"code": "unknown_session",
                                          "message": "Send session_request before user_uttered."}, to=sid)
            return
        message = data.get("message") if isinstance(data, dict) else None
        if isinstance(data, dict) and "message" not in data:
            return  # rasa-webchat sends a bare user_uttered when opened without an initPayload
        client_id = data.get("message_id")
        if not isinstance(message, str) or not message.strip() or nul_at([message, data.get("title"), client_id]):
            await self.error(sid, "invalid_message", language)  # NUL: PostgreSQL's text cannot hold it
            return
        if len(message) > self.max_chars:
            await self.error(sid, "message_too_large", language, limit=self.max_chars)
            return
        title = data.get("title")
        if isinstance(title, str) and len(title) > self.max_chars:
            await self.error(sid, "message_too_large", language, limit=self.max_chars)
            return
        if not await self.limits.allow_message(session_id, sid, self.address(sid)):
            await self.error(sid, "rate_limited", language)
            return
        token = identity_token_in(data)
        if token is not None and token_digest(token) != session.get("identity"):  # rasa-webchat: every message
            joined = await self.join(session_id, token, language)
            if isinstance(joined, Joined):
                await self.sio.save_session(sid, {**session, "identity": token_digest(token)})
            elif isinstance(joined, (Refused, OtherCustomer)):
                await self.error(sid, "invalid_identity", language)
        inbound = InboundMessage(
            channel=CHANNEL,
            identity_kind=CHANNEL,
            identity_value=session_id,
            address=session_id,
            text=await self.shown_text(session_id, message.strip()),
            bot_input=message.strip(),
            provider_id=f"{session_id}:{client_id}"[:255] if isinstance(client_id, str) and client_id else None,
            language=language_hint(data),
        )
        received = await self.conversations.receive(inbound)
        if received.to_bot and received.event_id is not None:
            await self.conversations.process(received.event_id, received.turn)

    async def shown_text(self, session_id: str, message: str) -> str:
        """What agents read: a clicked payload as the label we offered for it; anything else as sent.

        The client's `title` is never trusted: it could say the opposite of the payload the assistant acts on.
        """
        if not message.startswith("/"):
            return message
        async with self.sessions() as session:
            return await offered_label(session, CHANNEL, session_id, message) or message
