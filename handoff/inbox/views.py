"""Read models of the inbox: queue, my cases, a case with its customer and first page of history, the panel.

Every query is bounded (limits, indexed filters), so opening a case costs the same at 100 or 10,000 events.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.channels.voice.calls import call_cards
from handoff.channels.whatsapp.media import agent_media
from handoff.core.case_reads import NO_MARKS, CaseMarks, case_marks
from handoff.core.case_scope import readable, readable_case_ids
from handoff.core.hashchain import utc_iso
from handoff.core.merge_evidence import open_suggestions
from handoff.core.permissions import INBOX_ROLES, Reader
from handoff.core.routing import EPOCH
from handoff.core.sla_clock import sla_clock
from handoff.inbox.returning import FOLLOW_UP_REASONS, returning_view
from handoff.store.models import Agent, Case, Customer, Handoff, Identity, TimelineEvent, utcnow

PAGE = 50
LIST_LIMIT = 200
# Only these payload keys reach agents: addresses (webchat session ids) and raw provider data never do.
SAFE_PAYLOAD = ("quick_replies", "image", "reason", "intent", "confidence", "team", "slots", "direction",
                "agent_id", "accepted", "score", "disposition", "agent_name", "error", "template", "title",
                "merge_id", "kept_case_id", "absorbed_case_id", "reask",
                # routing events (core/assignment.route_case, core/opening.py): the decision and why
                "decision", "hold_seconds", "position", "wait_seconds", "opens_at", "offers", "verify_identity",
                "reached",
                "from_language", "to_language",  # a change of the language the customer writes in
                "integration", "sent_as")  # a notification: at whose request, template or free text


def iso(moment: datetime | None) -> str | None:
    return utc_iso(moment) if moment else None


def seconds_since(moment: datetime | None, now: datetime) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=EPOCH.tzinfo)
    return max(0, int((now - moment).total_seconds()))


def event_view(event: TimelineEvent, agent_names: dict[str, str]) -> dict[str, Any]:
    """A timeline event as the inbox renders it (as text, always)."""
    payload = event.payload or {}
    actor_name = agent_names.get(event.actor.removeprefix("agent:")) if event.actor.startswith("agent:") else None
    shown = {key: payload[key] for key in SAFE_PAYLOAD if key in payload}
    if event.kind == "routing" and payload.get("agent_id") in agent_names:
        shown["agent_name"] = agent_names[payload["agent_id"]]  # "Held for Ana until 10:32"
    return {
        "id": event.id, "case_id": event.case_id, "seq": event.seq, "channel": event.channel,
        "direction": event.direction, "actor": event.actor, "actor_name": actor_name, "kind": event.kind,
        "text": event.text, "payload": shown,
        "delivery_status": event.delivery_status, "at": iso(event.created_at),
        "media": agent_media(payload.get("media"), payload.get("media_error"), f"/inbox/api/events/{event.id}/media"),
    }


def handoff_view(handoff: Handoff | None) -> dict[str, Any] | None:
    if handoff is None:
        return None
    return {
        "id": handoff.id, "direction": handoff.direction, "reason": handoff.reason, "intent": handoff.intent,
        "confidence": handoff.confidence, "summary": handoff.summary, "slots": handoff.slots or {},
        "team": handoff.team, "bot_turns": handoff.bot_turns, "queued_at": iso(handoff.queued_at),
        "accepted_at": iso(handoff.accepted_at), "ended_at": iso(handoff.ended_at), "agent_id": handoff.agent_id,
        "outcome": handoff.outcome, "decision": handoff.decision, "decision_reason": handoff.decision_reason,
    }


def case_summary(case: Case, customer: Customer | None, handoff: Handoff | None,
                 now: datetime | None = None, marks: CaseMarks = NO_MARKS,
                 answer_seconds: int | None = None) -> dict[str, Any]:
    """One row of a queue or list; unread and the SLA clock are the reader's (a live push carries neither)."""
    now = now or utcnow()
    clock = sla_clock(case.status, case.answer_due_at, answer_seconds, marks.last_agent_message_at)
    return {
        "id": case.id, "status": case.status, "team": case.team, "assignee_id": case.assignee_id,
        "channel": case.channel, "language": case.language, "priority": case.priority,
        "customer_name": customer.display_name if customer else None,
        "customer_handle": customer.handle if customer else None,
        "reason": handoff.reason if handoff else None, "intent": handoff.intent if handoff else None,
        "accepted": bool(handoff and handoff.accepted_at),
        "queued_at": iso(case.queued_at), "waiting_seconds": seconds_since(case.queued_at, now),
        "last_customer_message_at": iso(case.last_customer_message_at),
        "returning": case.previous_case_id is not None or bool(
            handoff and handoff.decision_reason in FOLLOW_UP_REASONS),
        "kept_until": iso(case.kept_until) if case.status == "queued" and case.opened_at is None else None,
        "unread": marks.unread,
        "sla_due_at": iso(clock.due_at) if clock else None,
        "sla_target_seconds": clock.target_seconds if clock else None,
        "sla_state": clock.state(now) if clock else None,
    }


async def summaries(session: AsyncSession, cases: list[Case], reader_id: str | None = None,
                    answer_targets: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """Summaries of many cases with three more queries (customers, open handoffs, the reader's marks), not per case.

    `answer_targets` is each channel's `sla.answer` in seconds (operations.yml); without it no SLA clock shows.
    """
    if not cases:
        return []
    ids = [case.id for case in cases]
    customers = {c.id: c for c in await session.scalars(
        select(Customer).where(Customer.id.in_({case.customer_id for case in cases})))}
    handoffs: dict[str, Handoff] = {}
    for handoff in await session.scalars(select(Handoff).where(Handoff.case_id.in_(ids),
                                                                Handoff.direction == "to_human")
                                         .order_by(Handoff.id)):
        handoffs[handoff.case_id] = handoff  # the latest wins
    marks = await case_marks(session, reader_id, ids) if reader_id else {}
    targets = answer_targets or {}
    now = utcnow()
    return [case_summary(case, customers.get(case.customer_id), handoffs.get(case.id), now,
                         marks.get(case.id, NO_MARKS), targets.get(case.channel)) for case in cases]


async def queue(session: AsyncSession, teams: list[str] | None, reader_id: str | None = None,
                answer_targets: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """Queued cases of these teams (None: all), in the order they will be taken."""
    query = select(Case).where(Case.status == "queued")
    if teams is not None:
        query = query.where(Case.team.in_(teams))
    cases = list(await session.scalars(query.order_by(Case.priority.desc(), Case.queued_at).limit(LIST_LIMIT)))
    return await summaries(session, cases, reader_id, answer_targets)


async def assigned_to(session: AsyncSession, agent_id: str,
                      answer_targets: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    cases = list(await session.scalars(select(Case).where(Case.assignee_id == agent_id, Case.status == "assigned")
                                       .order_by(Case.queued_at).limit(LIST_LIMIT)))
    return await summaries(session, cases, agent_id, answer_targets)


async def agent_names(session: AsyncSession, events: list[TimelineEvent]) -> dict[str, str]:
    """Names of the agents who wrote the events, and of those a routing event names."""
    ids = {event.actor.removeprefix("agent:") for event in events if event.actor.startswith("agent:")}
    ids |= {str((event.payload or {})["agent_id"]) for event in events
            if event.kind == "routing" and (event.payload or {}).get("agent_id")}
    if not ids:
        return {}
    rows = await session.execute(select(Agent.id, Agent.display_name).where(Agent.id.in_(ids)))
    return dict(rows.tuples().all())  # a Result has keys(): dict() would read it as a mapping


async def history_page(session: AsyncSession, customer_id: str, reader: Reader, before_id: int | None = None,
                       limit: int = PAGE) -> tuple[list[TimelineEvent], bool]:
    """The customer's latest events across the cases the reader may read, oldest first; and whether more exist."""
    query = select(TimelineEvent).where(TimelineEvent.customer_id == customer_id,
                                        TimelineEvent.case_id.in_(readable_case_ids(reader, customer_id)))
    if before_id is not None:
        query = query.where(TimelineEvent.id < before_id)
    rows = list(await session.scalars(query.order_by(TimelineEvent.id.desc()).limit(limit + 1)))
    return list(reversed(rows[:limit])), len(rows) > limit


async def case_view(session: AsyncSession, case: Case, reader: Reader,
                    before_id: int | None = None) -> dict[str, Any]:
    """Everything an agent needs to answer without asking again, of the cases this reader may read."""
    customer = await session.get(Customer, case.customer_id)
    events, more = await history_page(session, case.customer_id, reader, before_id)
    names = await agent_names(session, events)
    handoffs = list(await session.scalars(select(Handoff).where(Handoff.case_id == case.id)
                                          .order_by(Handoff.id.desc()).limit(20)))
    latest_human = next((h for h in handoffs if h.direction == "to_human"), None)
    identities = list(await session.scalars(select(Identity).where(Identity.customer_id == case.customer_id)
                                            .order_by(Identity.id).limit(20)))
    earlier = list(await session.scalars(select(Case).where(Case.customer_id == case.customer_id, Case.id != case.id,
                                                            readable(reader))
                                         .order_by(Case.created_at.desc()).limit(10)))
    assignee = await session.get(Agent, case.assignee_id) if case.assignee_id else None
    return {
        "case": {**case_summary(case, customer, latest_human), "disposition": case.disposition, "csat": case.csat,
                 "handoff_count": case.handoff_count, "previous_case_id": case.previous_case_id,
                 "assignee_name": assignee.display_name if assignee else None,
                 "first_response_due_at": iso(case.first_response_due_at), "created_at": iso(case.created_at)},
        "customer": {
            "id": customer.id if customer else None, "name": customer.display_name if customer else None,
            "handle": customer.handle if customer else None,
            "language": customer.language if customer else None, "facts": (customer.facts or {}) if customer else {},
            "whatsapp_opted_out": bool(customer and customer.whatsapp_opted_out_at is not None),
            # webchat identities are signed session ids: say the customer has one, never show it
            "identities": [{"kind": i.kind, "value": i.value if i.kind != "webchat" else "visitor",
                            "verified": i.verified} for i in identities],
            "earlier_cases": [{"id": c.id, "status": c.status, "team": c.team, "channel": c.channel,
                               "disposition": c.disposition, "created_at": iso(c.created_at),
                               "resolved_at": iso(c.resolved_at)} for c in earlier],
            "suggestions": [{"id": s.id, "other_customer_id": other.id, "other_name": other.display_name,
                             "evidence_kind": s.evidence_kind, "evidence_value": s.evidence_value,
                             "created_at": iso(s.created_at)}
                            for s, other in (await open_suggestions(session, customer.id) if customer else [])],
        },
        "handoff": handoff_view(latest_human),
        "returning": await returning_view(session, case, latest_human, reader),
        "transitions": [handoff_view(h) for h in reversed(handoffs)],
        "events": [event_view(event, names) for event in events],
        "more_before": events[0].id if more and events else None,
        "calls": await call_cards(session, case.customer_id, case_ids=readable_case_ids(reader, case.customer_id)),
    }


async def supervisor_panel(session: AsyncSession) -> dict[str, Any]:
    """Waiting per team, agents by state and load, the longest wait."""
    now = utcnow()
    waiting = [{"team": team, "waiting": int(count), "longest_wait_seconds": seconds_since(oldest, now)}
               for team, count, oldest in await session.execute(
                   select(Case.team, func.count(), func.min(Case.queued_at)).where(Case.status == "queued")
                   .group_by(Case.team).order_by(Case.team))]
    loads = {agent_id: int(n) for agent_id, n in await session.execute(
        select(Case.assignee_id, func.count()).where(Case.status == "assigned").group_by(Case.assignee_id))}
    agents = list(await session.scalars(select(Agent).where(Agent.active.is_(True), Agent.role.in_(INBOX_ROLES))
                                        .order_by(Agent.display_name)))
    by_state: dict[str, int] = {"online": 0, "away": 0, "offline": 0}
    for agent in agents:
        by_state[agent.presence] = by_state.get(agent.presence, 0) + 1
    longest = max((row["longest_wait_seconds"] or 0 for row in waiting), default=0)
    return {
        "waiting": waiting, "agents_by_state": by_state, "longest_wait_seconds": longest,
        "agents": [{"id": a.id, "name": a.display_name, "role": a.role, "teams": a.teams, "presence": a.presence,
                    "open_cases": loads.get(a.id, 0), "capacity": a.capacity} for a in agents],
    }
