"""Overflow with the database: open the offer on the handoff, catch the customer's one answer before the assistant,
record it (handoff row, timeline, audit) and honour it, inside the transaction that stored the message."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core import audit
from handoff.core.agents import loads
from handoff.core.assignment import queue_position
from handoff.core.callbacks import CallbackError, request_callback
from handoff.core.cases import case_language
from handoff.core.follow_up import Continuation, NotContinued, continue_on
from handoff.core.messages import Deliverer, InboundMessage, OutboundMessage
from handoff.core.operations import Operations
from handoff.core.overflow import (
    ASSISTANT,
    CALLBACK,
    EVENT_KIND,
    WHATSAPP,
    offer_message,
    offer_open,
    offers_for,
    parse_choice,
)
from handoff.core.routing import estimated_wait_seconds
from handoff.core.routing_policy import OVERFLOW, Decision
from handoff.core.sending import Staged, stage_to_customer
from handoff.core.texts import text as service_text
from handoff.core.timeline import append_event
from handoff.store.models import Case, Customer, Handoff, Identity, utcnow

log = structlog.get_logger(__name__)

VOICE = "voice"  # on the phone the customer hears the answer and the call goes on (or ends) accordingly
PHONE_KINDS = ("phone", "whatsapp")


@dataclass(frozen=True)
class Chosen:
    """The customer's answer, recorded: what to deliver after the commit (`staged`), and for the phone what the
    call does next (`then`: queue, hangup or listen)."""

    choice: str
    staged: list[Staged] = field(default_factory=list)
    then: str = "queue"


def last_digits(phone: str | None) -> str:
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return digits[-4:]


async def callback_phone(session: AsyncSession, customer: Customer) -> str | None:
    """The number a callback rings: a verified phone or WhatsApp number, else any of theirs, else one they told."""
    rows = (await session.execute(
        select(Identity.value, Identity.verified).where(Identity.customer_id == customer.id,
                                                        Identity.kind.in_(PHONE_KINDS))
        .order_by(Identity.verified.desc(), Identity.id.desc()))).all()
    if rows:
        return str(rows[0].value)
    told = (customer.facts or {}).get("phone")
    return str(told) if told else None


class OverflowAnswers:
    """Used inside the customer's transaction: by RoutingNotices when a handoff overflows (the offer), and by
    Conversations.receive for the answer (like CsatAnswers)."""

    def __init__(self, operations: Operations, deliverers: Mapping[str, Deliverer], *,
                 follow_up: Continuation | None = None) -> None:
        self.operations = operations
        self.deliverers = deliverers
        self.follow_up = follow_up  # WhatsApp: where a case continues when the customer chooses it

    def offer(self, handoff: Handoff | None, decision: Decision, language: str) -> OutboundMessage | None:
        """Opens the offer on the handoff and returns the message that makes it; None when nothing is offered."""
        if decision.action != OVERFLOW or handoff is None:
            return None
        offers = offers_for(decision, handoff.reason)
        if not offers:
            return None
        handoff.overflow_offers, handoff.overflow_offered_at = list(offers), utcnow()
        return offer_message(decision, offers, language, self.operations.tone)

    def answer_to(self, case: Case, handoff: Handoff | None, inbound: InboundMessage) -> str | None:
        """The choice this message makes, when the offer is open on the case's handoff; else None."""
        if not inbound.for_bot or handoff is None or not offer_open(case, handoff):
            return None
        return parse_choice(inbound.bot_input, handoff.overflow_offers or ())

    async def record(self, session: AsyncSession, case: Case, customer: Customer, handoff: Handoff, choice: str,
                     channel: str, address: str) -> Chosen:
        """Keeps the one answer (handoff row, timeline, audit) and honours it; the caller commits, then delivers."""
        handoff.overflow_choice, handoff.overflow_chosen_at = choice, utcnow()
        await append_event(session, case, channel=channel, direction="internal", actor="customer", kind=EVENT_KIND,
                           text=choice, payload={"choice": choice, "handoff_id": handoff.id,
                                                 "offers": list(handoff.overflow_offers or [])})
        await audit.record(session, "customer", "overflow_choice", case_id=case.id, handoff_id=handoff.id,
                           choice=choice)
        language = case_language(self.operations, case, customer)
        spoken = channel == VOICE
        staged: list[Staged] = []
        then = "queue"
        if choice == WHATSAPP:
            moved = await self._continue_on_whatsapp(session, case, customer, language, staged)
            key = ("voice_overflow_whatsapp" if spoken else "overflow_whatsapp_moved") if moved else \
                "overflow_whatsapp_failed"
            then = "hangup" if moved else "queue"
            text = service_text(key, language, self.operations.tone, last=last_digits(moved))
        elif choice == CALLBACK:
            phone = await self._request_callback(session, case, customer)
            key = ("voice_overflow_callback" if spoken else "overflow_callback_requested") if phone else \
                "overflow_callback_failed"
            then = "hangup" if phone else "queue"
            text = service_text(key, language, self.operations.tone, last=last_digits(phone))
        elif choice == ASSISTANT:
            text = service_text("voice_overflow_assistant" if spoken else "overflow_assistant", language,
                                self.operations.tone)
            then = "listen"
        else:  # WAIT: where they stand now
            text = await self.waiting_text(session, case, language, spoken)
        said = OutboundMessage(actor="system", text=text, custom={"overflow": choice, "then": then})
        staged.insert(0, await stage_to_customer(session, case, self.deliverers, channel=channel, address=address,
                                                 message=said, actor="system"))
        log.info("overflow_choice", case_id=case.id, handoff_id=handoff.id, choice=choice, channel=channel)
        return Chosen(choice, staged, then)

    async def waiting_text(self, session: AsyncSession, case: Case, language: str, spoken: bool = False) -> str:
        """The customer's place in line and the estimated wait (none promised when nobody of the team is online)."""
        if spoken:
            return service_text("voice_connecting", language, self.operations.tone)
        position = await queue_position(session, case)
        wait = estimated_wait_seconds(position, await loads(session, team=case.team), case.team,
                                      self.operations.inbox.average_handle_seconds)
        if wait is None:
            return service_text("overflow_waiting_unstaffed", language, self.operations.tone, position=position)
        return service_text("overflow_waiting", language, self.operations.tone, position=position,
                            minutes=max(1, round(wait / 60)))

    async def still_queued(self, session: AsyncSession, case: Case, customer: Customer) -> OutboundMessage:
        """What a second handoff request gets while the assistant keeps the customer company: their place."""
        language = case_language(self.operations, case, customer)
        return OutboundMessage(actor="system", custom={"overflow": "still_queued"},
                               text=service_text("overflow_still_queued", language, self.operations.tone,
                                                 position=await queue_position(session, case)))

    async def _continue_on_whatsapp(self, session: AsyncSession, case: Case, customer: Customer, language: str,
                                    staged: list[Staged]) -> str | None:
        """Continues the case on the customer's verified WhatsApp (core/follow_up.py: consent, free text inside the
        24-hour window, routing.overflow_whatsapp_template outside it) and moves it there (agents' replies go
        there; the reply continues the same case). Returns the address written to, None when it cannot."""
        if self.follow_up is None:
            return None
        result = await continue_on(session, case, self.follow_up, self.deliverers, self.operations,
                                   text_key="overflow_whatsapp_hello",
                                   template=self.operations.routing.overflow_whatsapp_template)
        if isinstance(result, NotContinued):
            log.warning("overflow_whatsapp_not_continued", case_id=case.id, reason=result.reason,
                        detail=result.detail)
            return None
        staged.append(result.staged)
        return result.staged.address

    async def _request_callback(self, session: AsyncSession, case: Case, customer: Customer) -> str | None:
        """Queues a callback for the case's team as soon as possible (within routing.overflow_callback_minutes) on
        the customer's number (core/callbacks.py); the number, None when there is none or it cannot be called."""
        phone = await callback_phone(session, customer)
        if phone is None:
            return None
        now = utcnow()
        try:
            callback = await request_callback(session, case, phone=phone, window_start=now,
                                              window_end=now + self.operations.routing.callback_window(),
                                              actor="customer", region=self.operations.default_region, now=now)
        except CallbackError as exc:
            log.warning("overflow_callback_not_requested", case_id=case.id, error=str(exc))
            return None
        return callback.phone
