"""Turning a handoff signal into a handoff row, a queued case and a timeline event."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core import audit
from handoff.core.operations import Operations
from handoff.core.timeline import append_event
from handoff.store.models import Case, Handoff, TimelineEvent, utcnow

REASONS = frozenset({
    "explicit_request", "complex_intent", "repeated_fallback", "verification_required",
    "bot_unavailable", "agent_takeover", "transfer", "returned_by_agent", "no_input", "bot_available",
    "verification_failed",  # a verification code typed wrong until its tries ran out (core.typed_codes)
    "notification_person",  # pressed 2 on a voice notification's call (core.notification_calls)
})
WITHDRAWN = "withdrawn"  # the outcome of a handoff the assistant took back before any person took the case
CARRIED_FACTS = ("order_number", "email", "phone", "customer_name")


@dataclass(frozen=True)
class HandoffRequest:
    """What the assistant (or the service itself) asks for when a person must take over."""

    reason: str
    intent: str | None = None
    confidence: float | None = None
    summary: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    team: str | None = None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> HandoffRequest:
        """Reads the assistant's `{"handoff": {...}}` custom payload leniently: a handoff is never dropped."""
        confidence = payload.get("confidence")
        slots = payload.get("slots")
        return cls(
            reason=str(payload.get("reason") or "complex_intent"),
            intent=payload.get("intent"),
            confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
            summary=payload.get("summary"),
            slots=slots if isinstance(slots, dict) else {},
            team=payload.get("team"),
        )


async def bot_turns_before(session: AsyncSession, case: Case) -> int:
    """Customer messages the assistant handled since the case started or last came back to it."""
    since = await session.scalar(
        select(func.max(Handoff.ended_at)).where(Handoff.case_id == case.id, Handoff.direction == "to_bot")
    )
    query = select(func.count(TimelineEvent.id)).where(
        TimelineEvent.case_id == case.id, TimelineEvent.actor == "customer", TimelineEvent.kind == "message"
    )
    if since is not None:
        query = query.where(TimelineEvent.created_at > since)
    return int(await session.scalar(query) or 0)


async def hand_to_people(
    session: AsyncSession, case: Case, request: HandoffRequest, operations: Operations, *, actor: str
) -> Handoff:
    """Queues the case for its team and records why; routing to an agent happens from the queue.

    The caller publishes `HandedOff` after its commit (designers' samples, the inbox listen for it).
    """
    now = utcnow()
    team = operations.team_for(request.intent, request.team)
    handoff = Handoff(
        case_id=case.id,
        direction="to_human",
        reason=request.reason,
        intent=request.intent,
        confidence=request.confidence,
        slots=request.slots,
        summary=request.summary,
        team=team,
        bot_turns=await bot_turns_before(session, case),
        queued_at=now,
    )
    session.add(handoff)
    sla = operations.sla.get(case.channel)
    case.status = "queued"
    case.team = team
    case.queued_at = now
    case.handoff_count += 1
    if sla is not None:
        case.first_response_due_at = now + timedelta(seconds=sla.first_response)
        case.answer_due_at = now + timedelta(seconds=sla.answer)
    await session.flush()
    await append_event(
        session, case, channel=case.channel, direction="internal", actor=actor, kind="handoff",
        text=request.summary or request.reason,
        payload={"handoff_id": handoff.id, "reason": request.reason, "intent": request.intent,
                 "confidence": request.confidence, "team": team, "slots": request.slots},
    )
    return handoff


def remember_facts(facts: dict[str, Any], slots: dict[str, Any]) -> dict[str, Any]:
    """What the customer told the assistant becomes known on every later channel."""
    known = dict(facts)
    known.update({key: slots[key] for key in CARRIED_FACTS if slots.get(key)})
    return known


async def current_handoff(session: AsyncSession, case_id: str) -> Handoff | None:
    """The open bot-to-human transition of the case, if people hold it."""
    found = await session.scalar(
        select(Handoff).where(Handoff.case_id == case_id, Handoff.direction == "to_human", Handoff.ended_at.is_(None))
        .order_by(Handoff.id.desc()).limit(1)
    )
    return found


async def end_handoff(session: AsyncSession, case: Case, outcome: str) -> Handoff | None:
    """Closes the open transition with how it ended: resolved, returned_to_bot, transferred or abandoned."""
    handoff = await current_handoff(session, case.id)
    if handoff is not None:
        handoff.ended_at = utcnow()
        handoff.outcome = outcome
    return handoff


async def transfer_handoff(session: AsyncSession, case: Case, *, team: str, actor: str) -> Handoff:
    """Human to human: the old transition ends as transferred, a new one queues for the new team."""
    previous = await end_handoff(session, case, "transferred")
    now = utcnow()
    handoff = Handoff(case_id=case.id, direction="to_human", reason="transfer",
                      intent=previous.intent if previous else None,
                      confidence=previous.confidence if previous else None,
                      slots=dict(previous.slots or {}) if previous else {},
                      summary=previous.summary if previous else None, team=team, bot_turns=0, queued_at=now)
    session.add(handoff)
    case.status, case.team, case.assignee_id, case.queued_at = "queued", team, None, now
    await session.flush()
    await append_event(session, case, channel=case.channel, direction="internal", actor=actor, kind="handoff",
                       text=f"transfer to {team}", payload={"handoff_id": handoff.id, "reason": "transfer",
                                                             "team": team})
    return handoff


async def return_to_bot(session: AsyncSession, case: Case, *, agent_id: str | None, actor: str) -> Handoff:
    """People hand the case back: the human transition ends, a to_bot row records the return."""
    await end_handoff(session, case, "returned_to_bot")
    now = utcnow()
    back = Handoff(case_id=case.id, direction="to_bot", reason="returned_by_agent", team=case.team,
                   slots={}, bot_turns=0, queued_at=now, accepted_at=now, ended_at=now, agent_id=agent_id,
                   outcome="returned_to_bot")
    session.add(back)
    case.status, case.assignee_id, case.queued_at = "bot", None, None
    await session.flush()
    await append_event(session, case, channel=case.channel, direction="internal", actor=actor, kind="handoff",
                       text="returned to the assistant", payload={"handoff_id": back.id, "direction": "to_bot"})
    return back


def resumes_with_assistant(case: Case, last_handoff: Handoff | None) -> bool:
    """Queued only because the assistant was down and no person took it yet: the assistant may take it back."""
    return (case.status == "queued" and case.assignee_id is None and last_handoff is not None
            and last_handoff.case_id == case.id and last_handoff.direction == "to_human"
            and last_handoff.reason == "bot_unavailable" and last_handoff.accepted_at is None
            and last_handoff.ended_at is None)


async def withdraw_handoff(session: AsyncSession, case: Case, handoff: Handoff) -> Handoff:
    """The assistant answered again before any person took the case: the handoff ends withdrawn, the case is
    the assistant's again. The handoff row stays as history; a to_bot row starts the assistant's new stretch."""
    now = utcnow()
    handoff.ended_at, handoff.outcome = now, WITHDRAWN
    back = Handoff(case_id=case.id, direction="to_bot", reason="bot_available", team=case.team, slots={},
                   bot_turns=0, queued_at=now, accepted_at=now, ended_at=now, outcome="returned_to_bot")
    session.add(back)
    case.status, case.queued_at = "bot", None
    case.first_response_due_at = case.answer_due_at = None  # nobody owes this customer an answer now
    await session.flush()
    await append_event(session, case, channel=case.channel, direction="internal", actor="system", kind="handoff",
                       text="returned to the assistant: it is back",
                       payload={"handoff_id": back.id, "direction": "to_bot", "reason": "bot_available",
                                "withdrawn": handoff.id})
    await audit.record(session, "system", "handoff_withdrawn", case_id=case.id, handoff_id=handoff.id,
                       reason=handoff.reason)
    return back
