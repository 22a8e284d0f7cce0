"""Outgoing webhooks, staged: a listener on the domain events writes one outbox row per subscribed integration.

The listener only stages (one read of the subscribed integrations and the case, one insert, after the customer's
or the agent's transaction committed); the HTTP request is the webhook worker's (`webhook_delivery`), so a slow or
absent receiver never delays a customer's turn. The outbox sends each integration's rows in id order, once.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.events import (
    Assigned,
    CaseEvent,
    CommitmentDue,
    CsatReceived,
    HandedOff,
    Resolved,
    Subscription,
)
from handoff.core.outbox import aware
from handoff.integrations.deliveries import CHANNEL
from handoff.store.models import Case, Commitment, Customer, Integration, Outbox, new_id, utcnow

log = structlog.get_logger(__name__)

NAMES: dict[type[CaseEvent], str] = {HandedOff: "case.handed_off", Assigned: "case.assigned",
                                      Resolved: "case.resolved", CsatReceived: "csat.received",
                                      CommitmentDue: "commitment.due"}


def iso(moment: datetime | None) -> str | None:
    """UTC, ISO 8601 with a Z: what every webhook field of time is."""
    return aware(moment).isoformat().replace("+00:00", "Z") if moment is not None else None


def event_data(event: CaseEvent) -> dict[str, Any]:
    """What the event itself says, beyond the case (pure)."""
    if isinstance(event, HandedOff):
        return {"handoff_id": event.handoff_id, "reason": event.reason, "intent": event.intent,
                "confidence": event.confidence, "team": event.team}
    if isinstance(event, Assigned):
        return {"agent_id": event.agent_id}
    if isinstance(event, Resolved):
        return {"disposition": event.disposition}
    if isinstance(event, CsatReceived):
        return {"score": event.score}
    if isinstance(event, CommitmentDue):
        return {"commitment_id": event.commitment_id, "agent_id": event.agent_id}
    raise TypeError(f"no webhook for {type(event).__name__}")


def case_data(case: Case, customer: Customer) -> dict[str, Any]:
    """The case as it is when the event is staged: enough for a CRM to file it without calling back."""
    return {"id": case.id, "status": case.status, "channel": case.channel, "team": case.team,
            "assignee_id": case.assignee_id, "language": case.language, "priority": case.priority,
            "disposition": case.disposition, "csat": case.csat, "created_at": iso(case.created_at),
            "resolved_at": iso(case.resolved_at), "merged_into_case_id": case.merged_into_case_id,
            "customer": {"id": customer.id, "name": customer.display_name, "language": customer.language}}


async def case_snapshot(session: AsyncSession, case_id: str) -> dict[str, Any] | None:
    """The case as webhooks carry it, read now; None when there is no such case."""
    found = (await session.execute(select(Case, Customer).join(Customer, Customer.id == Case.customer_id)
                                   .where(Case.id == case_id))).one_or_none()
    return case_data(*found) if found is not None else None


def webhook_body(delivery_id: str, integration_id: str, name: str, occurred_at: datetime,
                 data: dict[str, Any]) -> dict[str, Any]:
    """The JSON a receiver gets (pure): `id` is the delivery's, the same on every attempt."""
    return {"id": delivery_id, "event": name, "occurred_at": iso(occurred_at), "integration_id": integration_id,
            "data": data}


def subscribed(integrations: Iterable[Integration], name: str) -> list[Integration]:
    """Live integrations with the webhooks scope and a URL that asked for this event (pure)."""
    return [row for row in integrations
            if row.revoked_at is None and row.webhook_url and "webhooks" in (row.scopes or [])
            and name in (row.webhook_events or [])]


class WebhookEvents:
    """The listener: stages a delivery per subscribed integration, then wakes the webhook worker."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], wake: Callable[[], None]) -> None:
        self.sessions = sessions
        self.wake = wake

    def subscriptions(self) -> Iterable[Subscription[Any]]:
        return [Subscription(kind, self.stage) for kind in NAMES]

    async def stage(self, event: CaseEvent) -> None:
        name = NAMES[type(event)]
        async with self.sessions() as session, session.begin():
            targets = subscribed(await session.scalars(
                select(Integration).where(Integration.revoked_at.is_(None), Integration.webhook_url.is_not(None))),
                name)
            if not targets:
                return
            case = await case_snapshot(session, event.case_id)
            if case is None:
                return
            data = {"case": case, **event_data(event)}
            if isinstance(event, CommitmentDue):
                data["due_at"] = iso(await session.scalar(select(Commitment.due_at)
                                                          .where(Commitment.id == event.commitment_id)))
            now = utcnow()
            for row in targets:
                body = webhook_body(new_id(), row.id, name, now, data)
                session.add(Outbox(case_id=event.case_id, channel=CHANNEL, recipient=row.id,
                                   payload={"kind": "webhook", "event": name, "body": body}))
        log.info("webhooks_staged", webhook_event=name, case_id=event.case_id, integrations=len(targets))
        self.wake()
