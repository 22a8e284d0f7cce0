"""A WhatsApp "stop" / "baja": kept on the customer, confirmed once; the service answers it, never the assistant."""
from __future__ import annotations

from collections.abc import Mapping

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.channels.whatsapp import CHANNEL
from handoff.channels.whatsapp.inbound import ParsedMessage
from handoff.core.cases import case_language
from handoff.core.consent import is_opt_out, set_whatsapp_opt_out
from handoff.core.customers import follow_merges
from handoff.core.events import EventBus, EventsAdded
from handoff.core.messages import Deliverer, OutboundMessage
from handoff.core.operations import Operations
from handoff.core.sending import Staged, deliver_staged, stage_to_customer
from handoff.core.texts import text as service_text
from handoff.store.models import Case, Customer, TimelineEvent

log = structlog.get_logger(__name__)


def asks_to_stop(message: ParsedMessage) -> bool:
    """A typed text that is, whole, one of core.consent's opt-out messages (a button's title is not typed)."""
    return message.type == "text" and is_opt_out(message.text)


class WhatsAppOptOuts:
    """Records the opt-out of a stored message; safe to run again for the same message (a retried webhook)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], deliverers: Mapping[str, Deliverer],
                 operations: Operations, events: EventBus) -> None:
        self.sessions = sessions
        self.deliverers = deliverers
        self.operations = operations
        self.events = events

    async def record(self, wamid: str) -> bool:
        """The customer who sent `wamid` opts out, with a timeline event and one confirmation; False when they
        already had (nothing written or sent again)."""
        async with self.sessions() as session, session.begin():
            event = await session.scalar(select(TimelineEvent).where(TimelineEvent.channel == CHANNEL,
                                                                     TimelineEvent.provider_id == wamid))
            if event is None:
                return False
            case = await session.get_one(Case, event.case_id)
            customer = await follow_merges(session, await session.get_one(Customer, event.customer_id))
            if await set_whatsapp_opt_out(session, case, customer, opted_out=True, actor="customer",
                                          channel=CHANNEL) is None:
                return False
            staged = await self._confirm(session, case, customer, str((event.payload or {}).get("address") or ""))
        log.info("whatsapp_opted_out", customer_id=customer.id, case_id=case.id)
        await deliver_staged(self.deliverers, [staged])
        await self.events.publish(EventsAdded(case.id, (staged.event_id,)))
        return True

    async def _confirm(self, session: AsyncSession, case: Case, customer: Customer, address: str) -> Staged:
        """The confirmation, free text: the customer has just written, so the window is open."""
        language = case_language(self.operations, case, customer)
        said = service_text("whatsapp_opted_out", language, self.operations.tone)
        message = OutboundMessage(actor="system", text=said)
        return await stage_to_customer(session, case, self.deliverers, channel=CHANNEL, address=address,
                                       message=message, actor="system")
