"""The opening pass: cases handed off after hours were kept (queued, routed to no one); once the operation opens
they are routed, each once, and a WhatsApp customer whose 24-hour window closed overnight gets one approved
template so the agent who takes the case can write to them.

Why at the opening rather than when an agent takes the case: the template invites the customer's reply, and that
reply reopens the window; sent at the opening, the window is usually open again by the time an agent picks the
case up, so the agent answers at once instead of sending a template and waiting for the customer.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Protocol

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core import after_hours
from handoff.core.after_hours import hours_at
from handoff.core.cases import case_language
from handoff.core.consent import may_message_on_whatsapp
from handoff.core.customers import follow_merges
from handoff.core.events import CaseChanged, EventBus
from handoff.core.hashchain import utc_iso
from handoff.core.messages import Deliverer, FollowUpChannel, TemplateUnavailable
from handoff.core.operations import Operations
from handoff.core.queues import Queues
from handoff.core.rounds import repeat
from handoff.core.sending import Staged, deliver_staged, stage_to_customer
from handoff.core.timeline import append_event
from handoff.store.models import Case, Customer

log = structlog.get_logger(__name__)

BATCH = 200  # kept cases routed per transaction; the next pass takes the rest
FALLBACK_NAME = {"es": "cliente", "en": "there", "pt": "cliente"}


class OpeningChannel(FollowUpChannel, Protocol):
    """The follow-up channel (WhatsApp) as the opening needs it: may free text reach the customer now?"""

    async def window_open(self, session: Any, customer_id: str, now: datetime) -> bool: ...


def template_values(parameters: list[str], *, customer_name: str | None, case_id: str, language: str) -> list[str]:
    """The opening template's parameters, filled from the case (a template refuses empty values)."""
    fallback = FALLBACK_NAME.get(language, FALLBACK_NAME["es"])
    known = {"customer_name": customer_name or fallback, "case_id": case_id}
    return [known.get(name) or fallback for name in parameters]


class Openings:
    """A background loop started with the inbox; `open_kept` is one pass."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: EventBus, queues: Queues,
                 operations: Operations, deliverers: Mapping[str, Deliverer], follow_up: OpeningChannel | None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.sessions = sessions
        self.events = events
        self.queues = queues
        self.operations = operations
        self.deliverers = deliverers
        self.follow_up = follow_up
        self.clock = clock  # None: the business clock

    async def open_kept(self) -> list[str]:
        """Claims the kept cases whose opening has come (rows locked, skipped by another worker), stages a template
        where the window closed, then drains their teams; returns the cases opened."""
        now = (self.clock() if self.clock is not None else after_hours.business_clock()).astimezone(timezone.utc)
        if not hours_at(self.operations, now).is_open:
            return []  # a kept_until inside a closure added since: the next opening comes first
        async with self.sessions() as session, session.begin():
            due = list(await session.scalars(
                select(Case).where(Case.status == "queued", Case.kept_until.is_not(None), Case.kept_until <= now,
                                   Case.opened_at.is_(None))
                .order_by(Case.kept_until, Case.queued_at).limit(BATCH).with_for_update(skip_locked=True)))
            staged: list[Staged] = []
            for case in due:
                case.opened_at = now
                reached, more = await self._reach(session, case, now)
                staged += more
                await append_event(session, case, channel=case.channel, direction="internal", actor="system",
                                   kind="routing", text=f"opening: {reached}",
                                   payload={"decision": "opening", "reason": "opened", "reached": reached,
                                            "opens_at": utc_iso(case.kept_until) if case.kept_until else None})
            opened = [(case.id, case.team) for case in due]
        await deliver_staged(self.deliverers, staged)
        for case_id, _ in opened:
            await self.events.publish(CaseChanged(case_id))
        teams = {team for _, team in opened if team}
        if teams:
            await self.queues.drain(teams)
        if opened:
            log.info("after_hours_opened", cases=len(opened), templates=len(staged))
        return [case_id for case_id, _ in opened]

    async def _reach(self, session: AsyncSession, case: Case, now: datetime) -> tuple[str, list[Staged]]:
        """Inside the claiming transaction: one template to a WhatsApp customer whose window closed overnight."""
        follow_up, config = self.follow_up, self.operations.routing.opening_template
        if follow_up is None or case.channel != follow_up.channel:
            return "routed", []
        if await follow_up.window_open(session, case.customer_id, now):
            return "window_open", []  # agents write freely: nothing to send
        customer = await session.get(Customer, case.customer_id)
        if customer is not None and not may_message_on_whatsapp(await follow_merges(session, customer)):
            return "opted_out", []  # a "stop"/"baja": the service does not write first
        address = await follow_up.address(session, case.customer_id)
        if config is None or follow_up.channel not in self.deliverers or address is None:
            return "template_skipped", []
        language = case_language(self.operations, case, customer)
        values = template_values(config.parameters, customer_name=customer.display_name if customer else None,
                                 case_id=case.id, language=language)
        try:
            message = follow_up.template(config.name, config.language, language, values, actor="system")
        except TemplateUnavailable as exc:
            log.warning("after_hours_template_unavailable", case_id=case.id, error=str(exc))
            return "template_unavailable", []
        staged = await stage_to_customer(session, case, self.deliverers, channel=follow_up.channel, address=address,
                                         message=message, actor="system", note={"template": config.name})
        return "template_sent", [staged]

    async def run(self, every_seconds: float = 30.0) -> None:
        """Opens kept cases forever; a failed round is retried the next one, never fatal."""
        await repeat(self.open_kept, every_seconds, "after_hours_opening_failed")
