"""Missed-call recovery: once per call, the configured WhatsApp template offers the caller to continue there.

The template comes from the follow-up channel (WhatsApp's adapter, wired in app.py) and goes through its outbox
like every other message, never to a caller who opted out of WhatsApp (core/consent.py); its reply arrives on the
same customer and so joins the same open case. Attempt and outcome are `call` and `delivery` timeline events.
"""
from __future__ import annotations

from collections.abc import Mapping

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.channels.voice.calls import call_event
from handoff.channels.voice.decisions import is_missed, template_values
from handoff.core.cases import case_language
from handoff.core.consent import may_message_on_whatsapp
from handoff.core.customers import follow_merges
from handoff.core.messages import Deliverer, FollowUpChannel, TemplateUnavailable
from handoff.core.operations import Operations
from handoff.core.sending import Staged, deliver_staged, stage_to_customer
from handoff.store.models import Call, Case, Customer

log = structlog.get_logger(__name__)


class MissedCalls:
    """Shared by the Twilio voice channel and PBX call events."""

    def __init__(self, operations: Operations, follow_up: FollowUpChannel,
                 deliverers: Mapping[str, Deliverer]) -> None:
        self.operations = operations
        self.follow_up = follow_up
        self.deliverers = deliverers

    async def recover(self, session: AsyncSession, call: Call, case: Case) -> list[Staged]:
        """Inside the transaction that ended the call: stages the template once; the caller commits, then delivers."""
        if call.direction != "inbound" or not is_missed(call.status) or call.recovery is not None:
            return []
        config = self.operations.voice.missed_call_template
        customer = await session.get(Customer, case.customer_id)
        customer = await follow_merges(session, customer) if customer else None
        address = await self.follow_up.address(session, case.customer_id) if customer else None
        reason = None
        if config is None:
            reason = "no missed_call_template in the operations file"
        elif self.follow_up.channel not in self.deliverers:
            reason = "the WhatsApp channel is not running"
        elif customer is not None and not may_message_on_whatsapp(customer):
            reason = "the caller opted out of WhatsApp messages"
        elif address is None:
            reason = "the caller has no phone number we can write to"
        if reason is not None or config is None or address is None:
            call.recovery = "skipped"
            await call_event(session, call, case, "follow_up", f"Missed call: no WhatsApp follow-up ({reason})",
                             outcome="skipped")
            return []
        language = case_language(self.operations, case, customer)
        values = template_values(config.parameters, customer_name=customer.display_name if customer else None,
                                 case_id=case.id, phone=call.from_number, language=language)
        try:
            message = self.follow_up.template(config.name, config.language, language, values, actor="system")
        except TemplateUnavailable as exc:
            call.recovery = "failed"
            await call_event(session, call, case, "follow_up", f"Missed call: WhatsApp follow-up not sent: {exc}",
                             outcome="failed")
            return []
        staged = await stage_to_customer(session, case, self.deliverers, channel=self.follow_up.channel,
                                         address=address, message=message, actor="system")
        call.recovery = "sent"
        await call_event(session, call, case, "follow_up",
                         f"Missed call: WhatsApp template {config.name} sent to continue there",
                         outcome="sent", message_event_id=staged.event_id, template=config.name)
        log.info("missed_call_follow_up", call_id=call.id, case_id=case.id, template=config.name)
        return [staged]

    async def deliver(self, staged: list[Staged]) -> None:
        """After the commit: wakes the outbox (the template is already queued in it)."""
        await deliver_staged(self.deliverers, staged)
