"""Continue a case on the customer's verified WhatsApp: free text inside the 24-hour window, else a template.

Channel-free: the channel (WhatsApp's adapter, `channels/whatsapp/outbound.WhatsAppFollowUp`) says where a customer
can be written to on a number they proved and whether its window is open; this module decides the rest, inside
the caller's transaction: consent, the message, the timeline event, and the case's channel (replies go there, and
the customer's answer continues the same case because it is their open case).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.cases import case_language
from handoff.core.consent import may_message_on_whatsapp
from handoff.core.customers import follow_merges
from handoff.core.messages import Deliverer, OutboundMessage, TemplateUnavailable
from handoff.core.operations import FollowUpTemplate, Operations
from handoff.core.sending import Staged, stage_to_customer
from handoff.core.texts import text as service_text
from handoff.store.models import Case, Customer, utcnow


class Continuation(Protocol):
    """A channel a case may continue on with the service writing first (WhatsApp)."""

    @property
    def channel(self) -> str: ...

    async def verified_address(self, session: Any, customer_id: str) -> str | None: ...

    async def window_open(self, session: Any, customer_id: str, now: datetime) -> bool: ...

    def template(self, name: str, language: str, customer_language: str | None, values: list[str], *,
                 actor: str) -> OutboundMessage: ...


@dataclass(frozen=True)
class Continued:
    """The message is staged on the case; `template` names the template, None for free text."""

    staged: Staged
    template: str | None


@dataclass(frozen=True)
class NotContinued:
    """Why nothing was sent: opted_out, no_verified_number, channel_not_running, template_unavailable."""

    reason: str
    detail: str = ""


def template_values(parameters: list[str], *, customer_name: str | None, case_id: str, language: str) -> list[str]:
    """A follow-up template's parameters filled from the case (a template refuses empty values)."""
    fallback = {"es": "cliente", "en": "there", "pt": "cliente"}.get(language, "cliente")
    known = {"customer_name": customer_name or fallback, "case_id": case_id}
    return [known.get(name) or fallback for name in parameters]


def message_form(window_open: bool, has_template: bool) -> str | None:
    """Free text inside the 24-hour window; outside it only an approved template, else nothing."""
    if window_open:
        return "text"
    return "template" if has_template else None


async def continue_on(session: AsyncSession, case: Case, via: Continuation, deliverers: Mapping[str, Deliverer],
                      operations: Operations, *, text_key: str, template: FollowUpTemplate | None,
                      actor: str = "system", now: datetime | None = None) -> Continued | NotContinued:
    """Stages the follow-up on `case` through `via` and moves the case there; the caller commits and wakes."""
    customer = await session.get(Customer, case.customer_id)
    customer = await follow_merges(session, customer) if customer is not None else None
    if customer is None or not may_message_on_whatsapp(customer):
        return NotContinued("opted_out")
    if via.channel not in deliverers:
        return NotContinued("channel_not_running")
    address = await via.verified_address(session, customer.id)
    if address is None:
        return NotContinued("no_verified_number")
    language = case_language(operations, case, customer)
    form = message_form(await via.window_open(session, customer.id, now or utcnow()), template is not None)
    if form is None or (form == "template" and template is None):
        return NotContinued("template_unavailable", "no template configured")
    if form == "text" or template is None:
        message = OutboundMessage(actor=actor, text=service_text(text_key, language, operations.tone))
    else:
        values = template_values(template.parameters, customer_name=customer.display_name, case_id=case.id,
                                 language=language)
        try:
            message = via.template(template.name, template.language, language, values, actor=actor)
        except TemplateUnavailable as exc:
            return NotContinued("template_unavailable", str(exc))
    staged = await stage_to_customer(session, case, deliverers, channel=via.channel, address=address,
                                     message=message, actor=actor)
    if case.channel != via.channel:
        case.channel = via.channel
    return Continued(staged, template.name if form == "template" and template is not None else None)
