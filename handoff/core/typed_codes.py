"""A verification code typed in the conversation: checked by the service, never shown to the assistant.

A message that is only a code ("123456", "123 456"), in a conversation with a code pending (expired at most `GRACE`
ago), is stored as "verification code entered" (never its digits: not on the timeline, in its payload, in logs or
in the assistant's tracker) and answered here: verified (the visitor continues as the phone's customer, on their
open case), try again, ask for a new code, or, once the tries are spent, handed to people with reason
`verification_failed`. Six digits with no code pending (an order number) are the assistant's, as any message.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.cases import case_language, open_case
from handoff.core.customers import resolve_sender
from handoff.core.events import CaseChanged, CaseEvent, MessageStored
from handoff.core.handoffs import HandoffRequest
from handoff.core.messages import Deliverer, InboundMessage, OutboundMessage
from handoff.core.operations import Operations
from handoff.core.routing_notice import RoutingNotices
from handoff.core.texts import text as service_text
from handoff.core.timeline import append_event
from handoff.core.verification import Attempt, Verifications, as_utc, typed_code
from handoff.store.db import read_only
from handoff.store.models import utcnow

log = structlog.get_logger(__name__)

FAILED_REASON = "verification_failed"
GRACE = timedelta(minutes=10)  # after this, an unused expired code no longer swallows six digits (order numbers)
KEY_LENGTH = 128  # verification_codes.session_key


def session_key(channel: str, address: str) -> str:
    """The conversation a code belongs to: the door and the address its answers go to (a webchat session, a
    WhatsApp number, a call); a code sent for one is never found from another."""
    key = f"{channel}:{address}"
    return key if len(key) <= KEY_LENGTH else f"{channel}:{hashlib.sha256(address.encode()).hexdigest()}"


def awaits_code(expires_at: datetime, now: datetime) -> bool:
    """Whether six digits typed now are taken as the pending code (or answered as its expiry)."""
    return as_utc(now) < as_utc(expires_at) + GRACE


def reply_key(attempt: Attempt) -> str:
    """Which of the service's texts answers an attempt."""
    if attempt.step == "carry_on":
        return "verification_code_verified"
    if attempt.step == "retry":
        return "verification_code_wrong_last" if attempt.tries_left == 1 else "verification_code_wrong"
    if attempt.step == "handoff":
        return "verification_code_failed"
    return "verification_code_expired"


@dataclass(frozen=True)
class CodeEntered:
    """What a typed code did: the stored event, the case the conversation continues on, what to push after the
    commit."""

    event_id: int
    case_id: str
    attempt: Attempt
    outgoing: list[OutboundMessage] = field(default_factory=list)
    happened: list[CaseEvent] = field(default_factory=list)


class TypedCodes:
    """Intercepts typed codes before the conversation stores a message for the assistant."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], verifications: Verifications,
                 operations: Operations, deliverers: Mapping[str, Deliverer], notices: RoutingNotices) -> None:
        self.sessions = sessions
        self.verifications = verifications
        self.operations = operations
        self.deliverers = deliverers
        self.notices = notices

    async def awaiting(self, session: AsyncSession, channel: str, address: str) -> bool:
        """Whether the conversation at (`channel`, `address`) has a code pending that six digits would be taken as
        (a door that listens for keys, a call's keypad, asks before it listens), read in the door's own session."""
        pending = await self.verifications.pending(session, session_key(channel, address))
        return pending is not None and awaits_code(pending.expires_at, self.verifications.clock())

    async def receive(self, inbound: InboundMessage) -> CodeEntered | None:
        """Checks the message as a code when it is one and the conversation awaits one; else None (the usual path
        stores it). A repeated provider id raises the timeline's DuplicateProviderMessage (nothing counted).
        Six digits with no code pending (an order number) only read: the write lock is taken for a code."""
        if typed_code(inbound.text) is None or typed_code(inbound.bot_input) is None:
            return None
        async with self.sessions() as session:
            await read_only(session)  # a snapshot: no write lock (SQLite) to learn that nothing is pending
            if not await self.awaiting(session, inbound.channel, inbound.address):
                return None
        async with self.sessions() as session, session.begin():
            # asked again under the lock: another message may have used or ended the code since
            if not await self.awaiting(session, inbound.channel, inbound.address):
                return None
            entered = await self._check(session, inbound, session_key(inbound.channel, inbound.address))
        deliverer = self.deliverers.get(inbound.channel)
        if deliverer is not None:
            for message in entered.outgoing:
                await deliverer.deliver(inbound.address, message)
        return entered

    async def _check(self, session: AsyncSession, inbound: InboundMessage, key: str) -> CodeEntered:
        customer = (await resolve_sender(session, inbound)).customer  # as for any message of theirs
        window = self.operations.follow_up_window_hours
        case = await open_case(session, customer, inbound.channel, follow_up_window_hours=window)
        language = case_language(self.operations, case, customer)
        event = await append_event(
            session, case, channel=inbound.channel, direction="in", actor="customer", kind="message",
            text=service_text("verification_code_entered", language, self.operations.tone),
            provider_id=inbound.provider_id,
            case_updates={"last_customer_message_at": utcnow()},
            payload={"address": inbound.address, "verification_code": True})
        attempt = await self.verifications.attempt(session, key, inbound.text)
        happened: list[CaseEvent] = [MessageStored(case.id, event.id, inbound.channel, False)]
        if attempt.customer is not None and attempt.customer.id != customer.id:  # merged: continue on theirs
            customer = attempt.customer
            typed_on = case.id
            case = await open_case(session, customer, inbound.channel, follow_up_window_hours=window)
            happened += [CaseChanged(case_id) for case_id in dict.fromkeys((typed_on, case.id))]
        handoff = (HandoffRequest(reason=FAILED_REASON, summary="A verification code was typed wrong too often")
                   if attempt.step == "handoff" else None)
        outgoing, handed = await self.notices.answer(
            session, case, inbound.channel, inbound.address,
            service_text(reply_key(attempt), language, self.operations.tone, tries=attempt.tries_left), handoff)
        happened += handed
        log.info("verification_code_entered", case_id=case.id, verdict=attempt.verdict, step=attempt.step)
        return CodeEntered(event.id, case.id, attempt, outgoing, happened)
