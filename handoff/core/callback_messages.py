"""A callback that found no one (no answer, busy): one WhatsApp message to the customer, never twice, never to a
customer who opted out (core/consent.py).

Free text while WhatsApp's 24-hour window is open, else the approved template of `callbacks.missed_template`;
both go through the outbox like every message. Staged inside the transaction that records the outcome (the
callback's `missed_message` is the once-only mark), delivered after its commit.
"""
from __future__ import annotations

from collections.abc import Mapping

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.callbacks import MISSED, callback_event
from handoff.core.cases import case_language
from handoff.core.consent import may_message_on_whatsapp
from handoff.core.messages import Deliverer, FollowUpChannel, OutboundMessage, TemplateUnavailable
from handoff.core.operations import Operations
from handoff.core.sending import Staged, deliver_staged, stage_to_customer
from handoff.core.texts import text
from handoff.store.models import Callback, Case, Customer, utcnow

log = structlog.get_logger(__name__)
NAME_FALLBACK = {"es": "cliente", "en": "there", "pt": "cliente"}


class CallbackMessages:
    """The missed callback's message; `follow_up` is WhatsApp's adapter (None: the channel is not running)."""

    def __init__(self, operations: Operations, follow_up: FollowUpChannel | None,
                 deliverers: Mapping[str, Deliverer]) -> None:
        self.operations = operations
        self.follow_up = follow_up
        self.deliverers = deliverers

    async def _message(self, session: AsyncSession, customer: Customer | None, case: Case,
                       follow_up: FollowUpChannel) -> OutboundMessage:
        """Free text in the window, else the template (raises TemplateUnavailable when none is configured)."""
        language = case_language(self.operations, case, customer)
        if customer is not None and await follow_up.window_open(session, customer.id, utcnow()):
            return OutboundMessage(actor="system", text=text("callback_missed", language, self.operations.tone))
        config = self.operations.callbacks.missed_template
        if config is None:
            raise TemplateUnavailable("no callbacks.missed_template in the operations file")
        name = (customer.display_name if customer else None) or NAME_FALLBACK.get(language, "cliente")
        values = [case.id if parameter == "case_id" else name for parameter in config.parameters]
        return follow_up.template(config.name, config.language, language, values, actor="system")

    async def stage(self, session: AsyncSession, callback: Callback, case: Case) -> list[Staged]:
        """Inside the outcome's transaction: the message once for a missed callback; the caller commits."""
        if callback.status not in MISSED or callback.missed_message is not None:
            return []
        follow_up = self.follow_up
        customer = await session.get(Customer, callback.customer_id)
        address = None
        if follow_up is not None and follow_up.channel in self.deliverers:
            address = await follow_up.address(session, callback.customer_id)
        if follow_up is None or address is None or not may_message_on_whatsapp(customer):
            callback.missed_message = "skipped"
            reason = ("WhatsApp is not running" if follow_up is None else "no WhatsApp number for the customer"
                      if address is None else "the customer opted out of WhatsApp messages")
            await callback_event(session, callback, case, "missed_message",
                                 f"Callback missed: no WhatsApp message ({reason})", outcome="skipped")
            return []
        try:
            message = await self._message(session, customer, case, follow_up)
        except TemplateUnavailable as exc:
            callback.missed_message = "failed"
            await callback_event(session, callback, case, "missed_message",
                                 f"Callback missed: WhatsApp message not sent: {exc}", outcome="failed")
            return []
        staged = await stage_to_customer(session, case, self.deliverers, channel=follow_up.channel, address=address,
                                         message=message, actor="system")
        callback.missed_message = "sent"
        kind = "template" if message.custom.get("whatsapp_template") else "text"
        await callback_event(session, callback, case, "missed_message", f"Callback missed: WhatsApp {kind} sent",
                             outcome="sent", message_event_id=staged.event_id)
        log.info("callback_missed_message", callback_id=callback.id, case_id=case.id, kind=kind)
        return [staged]

    async def deliver(self, staged: list[Staged]) -> None:
        """After the commit: wakes the outbox (the message is already queued in it)."""
        await deliver_staged(self.deliverers, staged)
