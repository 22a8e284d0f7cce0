"""Outbound WhatsApp: staging into the outbox inside the storing transaction, the 24-hour window, agent replies."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.channels.whatsapp import CHANNEL
from handoff.channels.whatsapp.addresses import BSUID_KIND, bsuid_address
from handoff.channels.whatsapp.graph_bodies import read_body, render, speaks
from handoff.channels.whatsapp.numbers import wa_id_of
from handoff.channels.whatsapp.window import (
    OutsideWindow,
    Template,
    as_utc,
    can_send_free_text,
    find_template,
    template_language,
    window_closes_at,
)
from handoff.core.messages import OutboundMessage
from handoff.core.sending import customer_address
from handoff.core.timeline import append_event
from handoff.store.models import Case, Identity, Outbox, TimelineEvent, utcnow

WRITABLE_KINDS = ("whatsapp", "phone", BSUID_KIND)  # identities a WhatsApp message can be sent to
# The case's latest WhatsApp message from the customer, and whether the outbox has a row for it (its read receipt):
# one statement, built once (every answer asks).
_LATEST_INBOUND = (
    select(TimelineEvent.id, TimelineEvent.provider_id,
           exists().where(Outbox.event_id == TimelineEvent.id).label("receipted"))
    .where(TimelineEvent.case_id == bindparam("case_id"), TimelineEvent.channel == CHANNEL,
           TimelineEvent.direction == "in", TimelineEvent.kind == "message", TimelineEvent.provider_id.is_not(None))
    .order_by(TimelineEvent.seq.desc()).limit(1)
)


@dataclass(frozen=True)
class WindowState:
    """What an agent's composer needs: may free text go out, until when, and which templates otherwise."""

    open: bool
    last_inbound_at: datetime | None
    closes_at: datetime | None
    templates: list[Template]


def is_template(message: OutboundMessage) -> bool:
    return isinstance((message.custom or {}).get("whatsapp_template"), dict)


def template_message(templates: list[Template], name: str, language: str | None, values: list[str], *,
                     actor: str = "agent", agent_name: str | None = None) -> OutboundMessage:
    """An approved template as an outbound message; raises UnknownTemplate for anything not configured."""
    template = find_template(templates, name, language, [str(v) for v in values])
    return OutboundMessage(actor=actor, text=template.preview([str(v) for v in values]), agent_name=agent_name,
                           custom={"whatsapp_template": {"name": template.name, "language": template.language,
                                                         "parameters": [str(v) for v in values]}})


async def last_inbound_at(session: AsyncSession, customer_id: str) -> datetime | None:
    """When the customer last wrote on WhatsApp (Meta's timestamp when known): the window's start."""
    row = (await session.execute(
        select(TimelineEvent.created_at, TimelineEvent.payload)
        .where(TimelineEvent.customer_id == customer_id, TimelineEvent.channel == CHANNEL,
               TimelineEvent.direction == "in", TimelineEvent.kind == "message")
        .order_by(TimelineEvent.id.desc()).limit(1)
    )).first()
    if row is None:
        return None
    sent_at = (row.payload or {}).get("sent_at")
    if isinstance(sent_at, int):
        return min(as_utc(row.created_at), datetime.fromtimestamp(sent_at, tz=as_utc(row.created_at).tzinfo))
    return as_utc(row.created_at)


async def verified_address(session: AsyncSession, customer_id: str, deliverer: WhatsAppDeliverer) -> str | None:
    """Where the customer last wrote from on WhatsApp, else their newest verified WhatsApp number, phone or
    business-scoped id: never a number someone only typed."""
    latest = await session.scalar(
        select(TimelineEvent.payload).where(TimelineEvent.customer_id == customer_id, TimelineEvent.channel == CHANNEL,
                                            TimelineEvent.direction == "in")
        .order_by(TimelineEvent.id.desc()).limit(1))
    if isinstance(latest, dict) and latest.get("address"):
        return str(latest["address"])
    rows = await session.execute(select(Identity.kind, Identity.value).where(
        Identity.customer_id == customer_id, Identity.verified.is_(True), Identity.kind.in_(WRITABLE_KINDS))
        .order_by(Identity.id.desc()))
    for kind, value in rows:
        address = deliverer.address_for(kind, value)
        if address is not None:
            return address
    return None


class WhatsAppFollowUp:
    """WhatsApp as the channel another door continues on (a missed call, a case kept after hours at the opening,
    an abandoned web chat): an approved template, or free text while the customer's 24-hour window is open."""

    channel = CHANNEL

    def __init__(self, templates: list[Template], deliverer: WhatsAppDeliverer) -> None:
        self.templates = templates
        self.deliverer = deliverer

    async def address(self, session: AsyncSession, customer_id: str) -> str | None:
        """Where the customer last wrote from (wa_id or business-scoped id), else their newest phone or id."""
        return await customer_address(session, customer_id, CHANNEL, self.deliverer)

    async def verified_address(self, session: AsyncSession, customer_id: str) -> str | None:
        """A WhatsApp address the customer proved (core.follow_up writes first only there)."""
        return await verified_address(session, customer_id, self.deliverer)

    async def window_open(self, session: AsyncSession, customer_id: str, now: datetime) -> bool:
        """Whether free text reaches the customer now (their last WhatsApp message is under 24 hours old)."""
        return can_send_free_text(await last_inbound_at(session, customer_id), now)

    def template(self, name: str, language: str, customer_language: str | None, values: list[str], *,
                 actor: str) -> OutboundMessage:
        """Raises UnknownTemplate (a TemplateUnavailable) for a template not configured in either language."""
        chosen = template_language(self.templates, name, language, customer_language)
        return template_message(self.templates, name, chosen, values, actor=actor)


class WhatsAppDeliverer:
    """The Deliverer of the WhatsApp channel: rows in the outbox, sent by the outbox worker after the commit."""

    staged_status: str | None = "pending"  # every message staged waits in the outbox

    def __init__(self, sessions: async_sessionmaker[AsyncSession], templates: list[Template],
                 wake: Callable[[], None], default_language: str = "es", tone: str = "tuteo") -> None:
        self.sessions = sessions
        self.templates = templates
        self.wake = wake
        self.default_language = default_language
        self.tone = tone  # operations.yml assistant.tone: the list's labels in Spanish

    def address_for(self, identity_kind: str, value: str) -> str | None:
        """The wa_id of a WhatsApp identity or a phone (a WhatsApp number is also the customer's phone); the
        business-scoped user id's own address for a customer who hides their number (sent with `recipient`)."""
        if identity_kind == BSUID_KIND:
            return bsuid_address(value)
        return wa_id_of(value) if identity_kind in WRITABLE_KINDS else None

    async def stage(self, session: AsyncSession, event: TimelineEvent, address: str,
                    message: OutboundMessage) -> None:
        """Inside the storing transaction: refuses an agent's free text outside the window, queues the rest."""
        if (message.actor == "agent" or event.actor.startswith("agent")) and not is_template(message):
            last = await last_inbound_at(session, event.customer_id)
            if not can_send_free_text(last, utcnow()):
                raise OutsideWindow(last, self.templates)
        language = self.default_language
        if speaks(message):  # the case's language, read only for the words of ours a list carries
            case = await session.get(Case, event.case_id)
            language = (case.language if case else None) or language
        await self._stage_read_receipt(session, event, address)
        for body in render(message, address, language, self.tone):
            session.add(Outbox(case_id=event.case_id, event_id=event.id, channel=CHANNEL, recipient=address,
                               payload={"kind": "message", "body": body}))
        event.delivery_status = self.staged_status  # stored so by append_event when stage_to_customer asked it

    async def _stage_read_receipt(self, session: AsyncSession, event: TimelineEvent, address: str) -> None:
        """Blue ticks on the customer's latest message, once, when someone answers it."""
        latest = (await session.execute(_LATEST_INBOUND, {"case_id": event.case_id})).first()
        if latest is None or latest.receipted:
            return
        session.add(Outbox(case_id=event.case_id, event_id=latest.id, channel=CHANNEL, recipient=address,
                           payload={"kind": "read", "body": read_body(str(latest.provider_id))}))

    async def deliver(self, address: str, message: OutboundMessage) -> None:
        """After the commit: the outbox worker sends it now."""
        self.wake()

    async def typing(self, address: str, actor: str, on: bool) -> None:
        """WhatsApp shows no typing from a business without marking as read; the read receipt goes with the answer."""

    async def window(self, case_id: str, now: datetime | None = None) -> WindowState:
        """The window of the case's customer, for the agent's composer."""
        async with self.sessions() as session:
            case = await session.get(Case, case_id)
            last = await last_inbound_at(session, case.customer_id) if case else None
        open_ = can_send_free_text(last, now or utcnow())
        return WindowState(open_, last, window_closes_at(last), self.templates)

    async def send(self, case_id: str, actor: str, message: OutboundMessage) -> int:
        """Stores and queues an agent's (or the service's) message to the case's customer; returns the event id.

        Raises OutsideWindow for an agent's free text after 24 hours (nothing is stored then).
        """
        async with self.sessions() as session, session.begin():
            case = await session.get(Case, case_id)
            if case is None:
                raise LookupError(f"no case {case_id}")
            address = await customer_address(session, case.customer_id, CHANNEL, self)
            if address is None:
                raise LookupError(f"customer of case {case_id} has no WhatsApp number or user id")
            event = await append_event(session, case, channel=CHANNEL, direction="out", actor=actor,
                                       kind="message", text=message.text, payload=message.as_payload())
            await self.stage(session, event, address, message)
        self.wake()
        return event.id

    async def send_agent_text(self, case_id: str, agent_id: str, text: str, agent_name: str | None = None) -> int:
        """An agent's free text; refused outside the window with the templates that can be used."""
        return await self.send(case_id, f"agent:{agent_id}",
                               OutboundMessage(actor="agent", text=text, agent_name=agent_name))

    async def send_template(self, case_id: str, agent_id: str, name: str, values: list[str],
                            language: str | None = None) -> int:
        """An approved template, allowed at any time."""
        message = template_message(self.templates, name, language, values)
        return await self.send(case_id, f"agent:{agent_id}", message)
