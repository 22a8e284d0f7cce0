"""The service's own message shapes: what channels turn provider formats into, and render back."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class QuickReply:
    title: str
    payload: str


@dataclass(frozen=True)
class InboundMessage:
    """A customer message as any channel adapter hands it to the service."""

    channel: str
    identity_kind: str
    identity_value: str  # normalized
    address: str  # where answers go on this channel (webchat session, WhatsApp number, call id)
    text: str  # readable rendering for agents
    bot_input: str  # what the assistant gets: the text, or a button payload like "/affirm"
    provider_id: str | None = None
    verified: bool = False
    verified_by: str | None = None
    display_name: str | None = None
    language: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    for_bot: bool = True  # False for what the assistant cannot answer (a reaction): kept, shown, not a turn
    linked_identities: tuple[tuple[str, str], ...] = ()  # more (kind, value) of the same person, same verification
    handle: str | None = None  # a username the channel shows instead of a number (WhatsApp)


@dataclass(frozen=True)
class OutboundMessage:
    """Something said to the customer by the assistant, an agent or the service itself."""

    actor: str  # bot, agent, system
    text: str | None = None
    quick_replies: tuple[QuickReply, ...] = ()
    image: str | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    agent_name: str | None = None

    def as_payload(self) -> dict[str, Any]:
        """Stored on the timeline event so any channel can render it again (history, another door)."""
        body: dict[str, Any] = {}
        if self.quick_replies:
            body["quick_replies"] = [{"title": reply.title, "payload": reply.payload} for reply in self.quick_replies]
        if self.image:
            body["image"] = self.image
        if self.custom:
            body["custom"] = self.custom
        if self.agent_name:
            body["agent_name"] = self.agent_name
        return body

    @classmethod
    def from_payload(cls, actor: str, text: str | None, payload: dict[str, Any]) -> OutboundMessage:
        """The inverse of as_payload, for replaying stored messages."""
        return cls(
            actor=actor,
            text=text,
            quick_replies=tuple(QuickReply(str(r.get("title", "")), str(r.get("payload", "")))
                                for r in payload.get("quick_replies", [])),
            image=payload.get("image"),
            custom=payload.get("custom") or {},
            agent_name=payload.get("agent_name"),
        )


class Deliverer(Protocol):
    """A channel's way of reaching a customer at an address.

    `address_for` says which of a customer's identities the channel can write to, and at what address
    (only the channel knows its providers' address formats); `stage` runs inside the transaction that stores
    the outbound event (store-and-forward channels put it in the outbox there, so a crash cannot lose it) and
    raises ChannelRefused for a message the channel cannot carry now;
    `deliver` runs after the commit (live pushes). `staged_status` is the delivery status a staged message's event
    starts with: a store-and-forward channel's "pending", stored with the event (no second write); None for a
    live channel.
    """

    @property
    def staged_status(self) -> str | None: ...

    def address_for(self, identity_kind: str, value: str) -> str | None: ...

    async def stage(self, session: Any, event: Any, address: str, message: OutboundMessage) -> None: ...

    async def deliver(self, address: str, message: OutboundMessage) -> None: ...

    async def typing(self, address: str, actor: str, on: bool) -> None: ...


class TemplateUnavailable(ValueError):
    """Not an approved template of the channel, or the wrong parameters for it."""


class ChannelRefused(Exception):
    """A deliverer's `stage` refuses this message on its channel now (its message says why and what would go);
    raised inside the storing transaction, so nothing is stored."""


class FollowUpChannel(Protocol):
    """A channel the service may write to first, with an approved template (WhatsApp): where to, and what.

    Another door (a missed call) continues the conversation there: `address` is where the customer can be
    written to, if anywhere; `template` is the approved message, in the customer's language when it is approved
    in it, else in `language`; it raises TemplateUnavailable. `window_open`: the service's own free text may go
    now (the customer wrote recently enough), else only a template.
    """

    @property
    def channel(self) -> str: ...

    async def address(self, session: Any, customer_id: str) -> str | None: ...

    def template(self, name: str, language: str, customer_language: str | None, values: list[str], *,
                 actor: str) -> OutboundMessage: ...

    async def window_open(self, session: Any, customer_id: str, now: datetime) -> bool: ...
