"""The customer-message service: store first, then let the assistant answer, else hand to people.

One object per process, shared by every channel (Chatwoot-style: one service call per channel event).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.bot_client import BotTurn, BotUnavailable, RasaClient, build_metadata
from handoff.cases import open_case
from handoff.customers import identities_of, resolve_customer
from handoff.handoffs import HandoffRequest, hand_to_people, remember_facts
from handoff.messages import Deliverer, InboundMessage, OutboundMessage
from handoff.operations import Operations
from handoff.store.models import Case, Customer, PendingTurn, TimelineEvent, utcnow
from handoff.texts import text as service_text
from handoff.timeline import DuplicateProviderMessage, append_event

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Received:
    """What `receive` stored: the event to process, or nothing for a repeated provider id."""

    event_id: int | None
    case_id: str | None
    duplicate: bool = False
    to_bot: bool = False


class Conversations:
    """Receives customer messages from any channel and runs the assistant's turn for them."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], bot: RasaClient, operations: Operations,
                 deliverers: dict[str, Deliverer]) -> None:
        self.sessions = sessions
        self.bot = bot
        self.operations = operations
        self.deliverers = deliverers

    async def receive(self, inbound: InboundMessage) -> Received:
        """Stores the message durably (with a pending bot turn when the bot owns the case)."""
        async with self.sessions() as session:
            try:
                async with session.begin():
                    customer = await resolve_customer(
                        session, inbound.identity_kind, inbound.identity_value, verified=inbound.verified,
                        verified_by=inbound.verified_by, display_name=inbound.display_name,
                        language=inbound.language,
                    )
                    case = await open_case(session, customer, inbound.channel,
                                           follow_up_window_hours=self.operations.follow_up_window_hours)
                    case.last_customer_message_at = utcnow()
                    event = await append_event(
                        session, case, channel=inbound.channel, direction="in", actor="customer",
                        kind="message", text=inbound.text, provider_id=inbound.provider_id,
                        payload={"bot_input": inbound.bot_input, **inbound.payload},
                    )
                    to_bot = case.status == "bot"
                    if to_bot:
                        session.add(PendingTurn(event_id=event.id, case_id=case.id, channel=inbound.channel,
                                                address=inbound.address))
            except DuplicateProviderMessage:
                log.info("duplicate_provider_message", channel=inbound.channel, provider_id=inbound.provider_id)
                return Received(None, None, duplicate=True)
        return Received(event.id, case.id, to_bot=to_bot)

    async def process(self, event_id: int) -> None:
        """Runs the assistant's turn for a stored message; safe to call again after a crash."""
        async with self.sessions() as session:
            pending = await session.get(PendingTurn, event_id)
            if pending is None:
                return
            event = await session.get(TimelineEvent, event_id)
            case = await session.get(Case, pending.case_id)
            customer = await session.get(Customer, case.customer_id) if case else None
            if event is None or case is None or customer is None or case.status != "bot":
                await session.execute(delete(PendingTurn).where(PendingTurn.event_id == event_id))
                await session.commit()
                return
            metadata = await self._metadata(session, case, customer, event.channel)
            bot_input = (event.payload or {}).get("bot_input") or event.text or ""
        deliverer = self.deliverers.get(pending.channel)
        if deliverer:
            await deliverer.typing(pending.address, "bot", True)
        try:
            turn: BotTurn | None = await self.bot.turn(case.id, bot_input, metadata)
        except BotUnavailable as exc:
            log.warning("bot_unavailable", case_id=case.id, error=str(exc))
            turn = None
        language = None
        if turn is not None and not case.language:
            language = await self.bot.slot(case.id, "language")  # learnt once, for when Rasa is down
        outgoing = await self._record_turn(event_id, turn, language)
        if deliverer:
            for message in outgoing:
                await deliverer.deliver(pending.address, message)
            await deliverer.typing(pending.address, "bot", False)

    async def _record_turn(self, event_id: int, turn: BotTurn | None,
                           language: str | None = None) -> list[OutboundMessage]:
        """Stores the assistant's answer (or the holding message and handoff) and clears the pending turn."""
        async with self.sessions() as session, session.begin():
            pending = await session.get(PendingTurn, event_id)
            if pending is None:  # another worker finished this turn first
                return []
            case = await session.get(Case, pending.case_id)
            customer = await session.get(Customer, case.customer_id)
            outgoing: list[OutboundMessage] = []
            if language in self.operations.languages and not case.language:
                case.language = language
                customer.language = customer.language or language
            deliverer = self.deliverers.get(pending.channel)
            if turn is not None:
                for message in turn.messages:
                    event = await append_event(session, case, channel=pending.channel, direction="out",
                                               actor="bot", kind="message", text=message.text,
                                               payload=message.as_payload())
                    if deliverer:
                        await deliverer.stage(session, event, pending.address, message)
                    outgoing.append(message)
                if turn.handoff is not None:
                    language = turn.handoff.slots.get("language")
                    if language in self.operations.languages:
                        case.language = customer.language = language
                    customer.facts = remember_facts(customer.facts or {}, turn.handoff.slots)
                    await hand_to_people(session, case, turn.handoff, self.operations, actor="bot")
            else:
                language = self.operations.language_or_default(case.language or customer.language)
                holding = OutboundMessage(actor="system", text=service_text("bot_unavailable", language))
                event = await append_event(session, case, channel=pending.channel, direction="out",
                                           actor="system", kind="message", text=holding.text, payload={})
                if deliverer:
                    await deliverer.stage(session, event, pending.address, holding)
                outgoing.append(holding)
                await hand_to_people(session, case, HandoffRequest(reason="bot_unavailable"), self.operations,
                                     actor="system")
            await session.delete(pending)
        return outgoing

    async def _metadata(self, session: AsyncSession, case: Case, customer: Customer, channel: str) -> dict[str, Any]:
        identities = await identities_of(session, customer.id)
        known = dict(customer.facts or {})
        for identity in identities:
            if identity.kind in ("phone", "whatsapp") and identity.verified:
                known.setdefault("phone", identity.value)
            if identity.kind == "email":
                known.setdefault("email", identity.value)
        return build_metadata(
            channel=channel,
            language=case.language or customer.language,
            customer={
                "id": customer.id,
                "name": customer.display_name,
                "language": customer.language,
                "identities": [{"kind": i.kind, "value": i.value, "verified": i.verified}
                               for i in identities if i.kind != "webchat"],
            },
            case={"id": case.id, "status": case.status},
            known=known,
        )

    async def replay_pending(self) -> int:
        """Answers every message that was stored but not answered before the last stop."""
        async with self.sessions() as session:
            event_ids = list(await session.scalars(select(PendingTurn.event_id).order_by(PendingTurn.event_id)))
        for event_id in event_ids:
            await self.process(event_id)
        if event_ids:
            log.info("pending_turns_replayed", count=len(event_ids))
        return len(event_ids)
