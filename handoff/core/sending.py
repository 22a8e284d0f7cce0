"""Saying something to a customer: one path for the assistant, the service and agents.

Inside the storing transaction: append the outbound event and let the channel stage it (the outbox of
store-and-forward channels). After the commit: `deliver` for live pushes. Nothing else writes outbound messages.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.messages import Deliverer, OutboundMessage
from handoff.core.timeline import CaseKey, append_event
from handoff.store.models import Identity, TimelineEvent


@dataclass(frozen=True)
class Staged:
    """A stored outbound message waiting for its post-commit delivery."""

    channel: str
    address: str
    message: OutboundMessage
    event_id: int


async def stage_to_customer(session: AsyncSession, case: CaseKey, deliverers: Mapping[str, Deliverer], *,
                            channel: str, address: str, message: OutboundMessage, actor: str,
                            note: Mapping[str, Any] | None = None) -> Staged:
    """Stores the message on the case's timeline and stages it on the channel; the caller commits.

    `note` is kept with the event for the record (e.g. the assistant's re-ask), never sent; the event starts with
    its deliverer's `staged_status`."""
    deliverer = deliverers.get(channel)
    event = await append_event(session, case, channel=channel, direction="out", actor=actor, kind="message",
                               text=message.text, payload={**message.as_payload(), **(note or {})},
                               delivery_status=deliverer.staged_status if deliverer is not None else None)
    if deliverer is not None:
        await deliverer.stage(session, event, address, message)
    return Staged(channel, address, message, event.id)


async def deliver_staged(deliverers: Mapping[str, Deliverer], staged: list[Staged]) -> None:
    """After the commit: pushes to live channels (store-and-forward channels already have it queued)."""
    for item in staged:
        deliverer = deliverers.get(item.channel)
        if deliverer is not None:
            await deliverer.deliver(item.address, item.message)


async def customer_address(session: AsyncSession, customer_id: str, channel: str,
                           deliverer: Deliverer | None) -> str | None:
    """The address the customer last wrote from on `channel`, else the one its deliverer reads off their newest
    identity; None when the channel is not running (no deliverer) or cannot reach them."""
    latest = await session.scalar(
        select(TimelineEvent.payload).where(TimelineEvent.customer_id == customer_id,
                                            TimelineEvent.channel == channel, TimelineEvent.direction == "in")
        .order_by(TimelineEvent.id.desc()).limit(1)
    )
    if isinstance(latest, dict) and latest.get("address"):
        return str(latest["address"])
    if deliverer is None:
        return None
    for kind, value in await identities_newest_first(session, customer_id):
        address = deliverer.address_for(kind, value)
        if address is not None:
            return address
    return None


async def customer_channels(session: AsyncSession, customer_id: str, available: Mapping[str, Deliverer]) -> list[str]:
    """The channels an agent may answer this customer on: those we can reach them at."""
    identities = await identities_newest_first(session, customer_id)
    return [channel for channel, deliverer in available.items()
            if any(deliverer.address_for(kind, value) is not None for kind, value in identities)]


async def identities_newest_first(session: AsyncSession, customer_id: str) -> list[tuple[str, str]]:
    """(kind, value) of every identity of the customer, the latest first."""
    rows = await session.execute(select(Identity.kind, Identity.value).where(Identity.customer_id == customer_id)
                                 .order_by(Identity.id.desc()))
    return [(row.kind, row.value) for row in rows]
