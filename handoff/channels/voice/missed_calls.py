"""Missed-call recovery: once per call, the configured WhatsApp template offers the caller to continue there.

The template goes through the WhatsApp channel's outbox like every other message; its reply arrives on the
same customer and so joins the same open case. Attempt and outcome are `call` and `delivery` timeline events.
"""
from __future__ import annotations

from collections.abc import Mapping

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.channels.voice.calls import call_event
from handoff.channels.voice.decisions import is_missed, template_values
from handoff.channels.whatsapp.outbound import template_message, whatsapp_address
from handoff.channels.whatsapp.window import Template, UnknownTemplate
from handoff.core.messages import Deliverer
from handoff.core.operations import Operations
from handoff.core.sending import Staged, deliver_staged, stage_to_customer
from handoff.store.models import Call, Case, Customer

log = structlog.get_logger(__name__)
WHATSAPP = "whatsapp"


def template_language(templates: list[Template], name: str, configured: str, customer_language: str | None) -> str:
    """The configured language, unless the same template is approved in the customer's own language."""
    if customer_language and not configured.lower().startswith(customer_language.lower()):
        for template in templates:
            if template.name == name and template.language.lower().startswith(customer_language.lower()):
                return template.language
    return configured


class MissedCalls:
    """Shared by the Twilio voice channel and PBX call events."""

    def __init__(self, operations: Operations, templates: list[Template], deliverers: Mapping[str, Deliverer]) -> None:
        self.operations = operations
        self.templates = templates
        self.deliverers = deliverers

    async def recover(self, session: AsyncSession, call: Call, case: Case) -> list[Staged]:
        """Inside the transaction that ended the call: stages the template once; the caller commits, then delivers."""
        if call.direction != "inbound" or not is_missed(call.status) or call.recovery is not None:
            return []
        config = self.operations.voice.missed_call_template
        customer = await session.get(Customer, case.customer_id)
        address = await whatsapp_address(session, case.customer_id) if customer else None
        reason = None
        if config is None:
            reason = "no missed_call_template in the operations file"
        elif WHATSAPP not in self.deliverers:
            reason = "the WhatsApp channel is not running"
        elif address is None:
            reason = "the caller has no phone number we can write to"
        if reason is not None or config is None or address is None:
            call.recovery = "skipped"
            await call_event(session, call, case, "follow_up", f"Missed call: no WhatsApp follow-up ({reason})",
                             outcome="skipped")
            return []
        language = self.operations.language_or_default(case.language or (customer.language if customer else None))
        values = template_values(config.parameters, customer_name=customer.display_name if customer else None,
                                 case_id=case.id, phone=call.from_number, language=language)
        try:
            message = template_message(self.templates, config.name,
                                       template_language(self.templates, config.name, config.language, language),
                                       values, actor="system")
        except UnknownTemplate as exc:
            call.recovery = "failed"
            await call_event(session, call, case, "follow_up", f"Missed call: WhatsApp follow-up not sent: {exc}",
                             outcome="failed")
            return []
        staged = await stage_to_customer(session, case, self.deliverers, channel=WHATSAPP, address=address,
                                         message=message, actor="system")
        call.recovery = "sent"
        await call_event(session, call, case, "follow_up",
                         f"Missed call: WhatsApp template {config.name} sent to continue there",
                         outcome="sent", message_event_id=staged.event_id, template=config.name)
        log.info("missed_call_follow_up", call_id=call.id, case_id=case.id, template=config.name)
        return [staged]

    async def deliver(self, staged: list[Staged]) -> None:
        """After the commit: wakes the outbox (the template is already queued in it)."""
        await deliver_staged(self.deliverers, staged)
