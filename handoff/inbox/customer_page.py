"""The customer page's read model: who they are, their consent, every case on every channel with its timeline,
their merges (and whether each can still be undone) and the open suggestions, by the case-reading rule.

Bounded at any size: the latest CASES cases, the latest EVENTS events of each (one windowed query for all of
them), earlier events a page at a time (`timeline_page`).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.case_scope import readable
from handoff.core.merge_evidence import open_suggestions
from handoff.core.permissions import Reader
from handoff.inbox.views import agent_names, event_view, iso
from handoff.store.models import Agent, Case, Customer, Identity, Merge, TimelineEvent

CASES = 50
EVENTS = 50
MERGES = 50


def identity_view(identity: Identity) -> dict[str, Any]:
    # webchat identities are signed session ids: say the customer has one, never show it
    return {"kind": identity.kind, "value": identity.value if identity.kind != "webchat" else "visitor",
            "verified": bool(identity.verified), "verified_by": identity.verified_by}


async def _latest_events(session: AsyncSession, case_ids: list[str]) -> dict[str, list[TimelineEvent]]:
    """The latest EVENTS + 1 events of each case (one more says whether earlier ones exist), oldest first."""
    if not case_ids:
        return {}
    ranked = (select(TimelineEvent.id, func.row_number().over(partition_by=TimelineEvent.case_id,
                                                               order_by=TimelineEvent.id.desc()).label("rank"))
              .where(TimelineEvent.case_id.in_(case_ids)).subquery())
    rows = await session.scalars(select(TimelineEvent).join(ranked, ranked.c.id == TimelineEvent.id)
                                 .where(ranked.c.rank <= EVENTS + 1).order_by(TimelineEvent.id))
    by_case: dict[str, list[TimelineEvent]] = {}
    for event in rows:
        by_case.setdefault(event.case_id, []).append(event)
    return by_case


async def _channels(session: AsyncSession, case_ids: list[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    if case_ids:
        for case_id, channel in await session.execute(select(TimelineEvent.case_id, TimelineEvent.channel)
                                                      .where(TimelineEvent.case_id.in_(case_ids)).distinct()):
            found.setdefault(case_id, set()).add(channel)
    return found


async def _merges(session: AsyncSession, customer_id: str) -> list[dict[str, Any]]:
    """Merges this customer took part in, newest first, with the other customer's name."""
    merges = list(await session.scalars(select(Merge).where(or_(
        Merge.survivor_customer_id == customer_id, Merge.absorbed_customer_id == customer_id))
        .order_by(Merge.created_at.desc()).limit(MERGES)))
    others = {m.absorbed_customer_id if m.survivor_customer_id == customer_id else m.survivor_customer_id
              for m in merges}
    names = dict((await session.execute(select(Customer.id, Customer.display_name)
                                        .where(Customer.id.in_(others)))).tuples().all()) if others else {}
    return [{"id": m.id, "kind": m.kind, "survivor_customer_id": m.survivor_customer_id,
             "absorbed_customer_id": m.absorbed_customer_id,
             "other_name": names.get(m.absorbed_customer_id if m.survivor_customer_id == customer_id
                                     else m.survivor_customer_id),
             "kept_case_id": m.kept_case_id, "absorbed_case_id": m.absorbed_case_id, "actor": m.actor,
             "evidence_kind": str((m.evidence or {}).get("kind", "")) or None,
             "created_at": iso(m.created_at), "undone_at": iso(m.undone_at)} for m in merges]


async def customer_page(session: AsyncSession, reader: Reader, customer: Customer) -> dict[str, Any]:
    """Everything about one customer this reader may read."""
    identities = list(await session.scalars(select(Identity).where(Identity.customer_id == customer.id)
                                            .order_by(Identity.id)))
    cases = list(await session.scalars(select(Case).where(Case.customer_id == customer.id, readable(reader))
                                       .order_by(Case.created_at.desc(), Case.id).limit(CASES)))
    case_ids = [case.id for case in cases]
    events = await _latest_events(session, case_ids)
    channels = await _channels(session, case_ids)
    shown = [event for listed in events.values() for event in listed]
    names = await agent_names(session, shown)
    assignees = {case.assignee_id for case in cases if case.assignee_id} - set(names)
    if assignees:
        names.update((await session.execute(select(Agent.id, Agent.display_name)
                                            .where(Agent.id.in_(assignees)))).tuples().all())
    case_views = []
    for case in cases:
        listed = events.get(case.id, [])
        more = len(listed) > EVENTS
        listed = listed[-EVENTS:]
        case_views.append({
            "id": case.id, "status": case.status, "team": case.team, "channel": case.channel,
            "channels": sorted(channels.get(case.id, set()) | {case.channel}), "language": case.language,
            "assignee_name": names.get(case.assignee_id) if case.assignee_id else None,
            "disposition": case.disposition, "csat": case.csat, "merged_into_case_id": case.merged_into_case_id,
            "created_at": iso(case.created_at), "resolved_at": iso(case.resolved_at),
            "events": [event_view(event, names) for event in listed],
            "more_before": listed[0].id if more and listed else None,
        })
    return {
        "customer": {
            "id": customer.id, "name": customer.display_name, "handle": customer.handle,
            "language": customer.language, "facts": customer.facts or {},
            "whatsapp_opted_out": customer.whatsapp_opted_out_at is not None,
            "whatsapp_opted_out_at": iso(customer.whatsapp_opted_out_at), "created_at": iso(customer.created_at),
            "identities": [identity_view(identity) for identity in identities],
        },
        "cases": case_views,
        "more_cases": len(cases) == CASES,
        "merges": await _merges(session, customer.id),
        "suggestions": [{"id": s.id, "other_customer_id": other.id, "other_name": other.display_name,
                         "evidence_kind": s.evidence_kind, "evidence_value": s.evidence_value,
                         "created_at": iso(s.created_at)}
                        for s, other in await open_suggestions(session, customer.id)],
    }


async def timeline_page(session: AsyncSession, case: Case, before_id: int) -> tuple[list[dict[str, Any]], int | None]:
    """A case's EVENTS events before `before_id`, oldest first, and the id to ask before next (None: the start)."""
    rows = list(await session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case.id,
                                                                  TimelineEvent.id < before_id)
                                      .order_by(TimelineEvent.id.desc()).limit(EVENTS + 1)))
    listed = list(reversed(rows[:EVENTS]))
    names = await agent_names(session, listed)
    return [event_view(event, names) for event in listed], (listed[0].id if len(rows) > EVENTS and listed else None)
