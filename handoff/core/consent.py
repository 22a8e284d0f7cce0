"""A customer's WhatsApp opt-out: which messages mean "stop", whether the service may write first, and recording it.

The opt-out concerns messages the service starts (a recovered chat, a missed call's template, callbacks,
after-hours and other notifications): every such sender asks `may_message_on_whatsapp` first. Answering a customer
who writes to us is not starting a conversation and stays allowed.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.texts import folded
from handoff.core.timeline import append_event
from handoff.store.models import Case, Customer, TimelineEvent, utcnow

# A whole message that is one of these (any case, accents, spaces and end punctuation aside) is an opt-out.
OPT_OUT_MESSAGES = frozenset({
    "stop", "baja", "darme de baja", "dame de baja", "dar de baja", "unsubscribe", "no mas mensajes",
})
CONSENT_KIND = "consent"  # the timeline event of an opt-out or its undoing


def is_opt_out(text: str | None) -> bool:
    """The whole message asks us to stop writing ("STOP", "Baja.", "darme de baja"); a sentence with it does not."""
    return bool(text) and folded(text or "") in OPT_OUT_MESSAGES


def may_message_on_whatsapp(customer: Customer | None) -> bool:
    """Whether the service may start a WhatsApp conversation with this customer (the survivor, merges followed)."""
    return customer is not None and allows_whatsapp(customer.whatsapp_opted_out_at)


def allows_whatsapp(opted_out_at: datetime | None) -> bool:
    """The rule on the customer's column alone, for reads that fetch only it (routing's situation)."""
    return opted_out_at is None


async def set_whatsapp_opt_out(session: AsyncSession, case: Case, customer: Customer, *, opted_out: bool,
                               actor: str, channel: str) -> TimelineEvent | None:
    """Marks or clears the opt-out with a timeline event on `case`; None (nothing written) when already so."""
    if (customer.whatsapp_opted_out_at is not None) == opted_out:
        return None
    customer.whatsapp_opted_out_at = utcnow() if opted_out else None
    return await append_event(session, case, channel=channel, direction="internal", actor=actor, kind=CONSENT_KIND,
                              text="WhatsApp opt-out" if opted_out else "WhatsApp opt-out withdrawn",
                              payload={"whatsapp": "opted_out" if opted_out else "opted_in"})
