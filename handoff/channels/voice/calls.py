"""The calls table and its timeline: every state change of a call is a `call` event carrying the call's id.

The only writer of `calls`; the voice assistant (assistant.py) and provider callbacks (history.py) both use it.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.channels.voice import CHANNEL
from handoff.channels.voice.decisions import TERMINAL, next_status, withheld
from handoff.core.cases import open_case
from handoff.core.customers import find_by_identity, resolve_customer
from handoff.core.hashchain import utc_iso
from handoff.core.identity import InvalidIdentity, normalize_phone
from handoff.core.timeline import append_event
from handoff.store.models import Agent, Call, Case, Customer, TimelineEvent, utcnow

CARD_LIMIT = 20
EVENT_SCAN = 400


def caller_identity(number: str | None, call_id: str) -> tuple[str, str, bool]:
    """(kind, value, verified): the E.164 caller id, verified by the network; else (withheld, or not a number) an
    identity of this call only."""
    if number and not withheld(number):
        try:
            return "phone", normalize_phone(number), True
        except InvalidIdentity:
            pass
    return "call", call_id, False  # anonymous or unplaceable caller id: a customer for this call alone


def clock(seconds: int | None) -> str:
    """3m 05s, for timeline lines."""
    if seconds is None:
        return "?"
    return f"{seconds // 60}m {seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


async def find_call(session: AsyncSession, provider: str, provider_call_id: str) -> Call | None:
    found = await session.scalar(select(Call).where(Call.provider == provider,
                                                    Call.provider_call_id == provider_call_id))
    return found


async def known_customer(session: AsyncSession, number: str | None, call_id: str) -> Customer | None:
    """The customer this number already belongs to (a WhatsApp number, a phone given in the webchat)."""
    kind, value, _ = caller_identity(number, call_id)
    return await find_by_identity(session, kind, value)


async def call_event(session: AsyncSession, call: Call, case: Case, event: str, text: str, *,
                     provider_id: str | None = None, actor: str = "system", **detail: Any) -> TimelineEvent:
    """One line of the call's card: kind `call`, the call's provider id in the payload."""
    return await append_event(
        session, case, channel=CHANNEL, direction="in" if call.direction == "inbound" else "out", actor=actor,
        kind="call", text=text, provider_id=provider_id,
        payload={"call_id": call.provider_call_id, "call": call.id, "event": event, "status": call.status,
                 **{key: value for key, value in detail.items() if value is not None}},
    )


async def start_call(session: AsyncSession, *, provider: str, provider_call_id: str, direction: str,
                     from_number: str | None, to_number: str | None, status: str, language: str | None = None,
                     follow_up_window_hours: int = 72, at: datetime | None = None,
                     provider_id: str | None = None) -> tuple[Call, Case, Customer]:
    """The caller's customer (by caller id), their open case (now on voice) and the call row, with its first event."""
    number = from_number if direction == "inbound" else to_number
    kind, value, verified = caller_identity(number, provider_call_id)
    customer = await resolve_customer(session, kind, value, verified=verified,
                                      verified_by="caller_id" if verified else None,
                                      language=language.partition("-")[0] if language else None)
    case = await open_case(session, customer, CHANNEL, follow_up_window_hours=follow_up_window_hours)
    now = at or utcnow()
    call = Call(provider=provider, provider_call_id=provider_call_id, case_id=case.id, customer_id=customer.id,
                direction=direction, from_number=from_number, to_number=to_number, status=status,
                language=language, started_at=now, answered_at=now if status == "in-progress" else None,
                transcript_segments=[], options=[], silences=0)
    session.add(call)
    await session.flush()
    who = value if kind == "phone" else "an unknown number"
    text = f"Call from {who}" if direction == "inbound" else f"Call to {who}"
    await call_event(session, call, case, "started", text, provider_id=provider_id,
                     actor="customer" if direction == "inbound" else "system", number=number)
    return call, case, customer


async def placed_call(session: AsyncSession, case: Case, *, provider: str, provider_call_id: str,
                      from_number: str | None, to_number: str, agent: Agent) -> Call:
    """A call the service placed for an agent to a customer (a callback): outbound, ringing, on the case."""
    call = Call(provider=provider, provider_call_id=provider_call_id, case_id=case.id, customer_id=case.customer_id,
                direction="outbound", from_number=from_number, to_number=to_number, status="ringing",
                started_at=utcnow(), agent_id=agent.id, agent_name=agent.display_name, transcript_segments=[],
                options=[], silences=0)
    session.add(call)
    await session.flush()
    await call_event(session, call, case, "started", f"Callback: calling {agent.display_name}, then {to_number}",
                     actor=f"agent:{agent.id}", number=to_number, agent=agent.display_name)
    return call


async def change_status(session: AsyncSession, call: Call, case: Case, reported: str, *,
                        provider_id: str | None = None, duration: int | None = None,
                        at: datetime | None = None, agent: str | None = None) -> TimelineEvent | None:
    """Applies a reported status (never going back from how the call ended); None when nothing changed."""
    status = next_status(call.status, reported)
    now = at or utcnow()
    if duration is not None:
        call.duration_seconds = duration
    if status == call.status and not (status in TERMINAL and call.ended_at is None):
        return None
    call.status = status
    if status == "in-progress" and call.answered_at is None:
        call.answered_at = now
    if status == "queued":
        call.queued_at = now
    if status in TERMINAL and call.ended_at is None:
        call.ended_at = now
        if call.duration_seconds is None:
            call.duration_seconds = max(0, int((now - aware(call.started_at)).total_seconds()))
    text = {"in-progress": "Call answered", "queued": "Waiting for a person",
            "ringing": "Ringing"}.get(status, f"Call ended: {status}, {clock(call.duration_seconds)}")
    if agent:
        text += f" by {agent}"
    return await call_event(session, call, case, "ended" if status in TERMINAL else status, text,
                            provider_id=provider_id, duration=call.duration_seconds, agent=agent)


async def set_agent(session: AsyncSession, call: Call, case: Case, agent_ref: str | None, *,
                    provider_id: str | None = None) -> TimelineEvent | None:
    """A person took the call: one of our agents (id or email) or a name the PBX knows."""
    agent = None
    if agent_ref:
        agent = await session.get(Agent, agent_ref) or await session.scalar(
            select(Agent).where(Agent.email == agent_ref.lower()))
    elif case.assignee_id:
        agent = await session.get(Agent, case.assignee_id)
    call.agent_id = agent.id if agent else None
    call.agent_name = agent.display_name if agent else agent_ref
    if call.answered_at is None:
        call.answered_at = utcnow()
    if call.status in ("queued", "ringing"):
        call.status = "in-progress"
    name = call.agent_name or "a person"
    return await call_event(session, call, case, "connected", f"Connected to {name}", provider_id=provider_id,
                            agent=call.agent_name)


async def set_recording(session: AsyncSession, call: Call, case: Case, url: str | None, duration: int | None, *,
                        provider_id: str | None = None) -> TimelineEvent:
    if url:
        call.recording_url = url
    if duration is not None:
        call.recording_duration_seconds = duration
    return await call_event(session, call, case, "recording", f"Recording, {clock(duration)}",
                            provider_id=provider_id, recording_url=url, duration=duration)


async def set_transcript(session: AsyncSession, call: Call, case: Case, text: str | None,
                         segments: list[dict[str, Any]] | None = None, *,
                         provider_id: str | None = None) -> TimelineEvent:
    if text:
        call.transcript = text
    if segments:
        call.transcript_segments = list(segments)
    return await call_event(session, call, case, "transcript", f"Transcript: {(text or '')[:200]}",
                            provider_id=provider_id)


def aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; everything here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def call_card(call: Call, event_ids: list[int]) -> dict[str, Any]:
    """A call as the inbox and the handoff packet show it: direction, time, duration, status, agent, media."""
    return {
        "id": call.id, "call_id": call.provider_call_id, "provider": call.provider, "direction": call.direction,
        "from": call.from_number, "to": call.to_number, "status": call.status,
        "started_at": utc_iso(call.started_at), "answered_at": utc_iso(call.answered_at) if call.answered_at else None,
        "ended_at": utc_iso(call.ended_at) if call.ended_at else None, "duration_seconds": call.duration_seconds,
        "agent": call.agent_name, "agent_id": call.agent_id, "recording_url": call.recording_url,
        "recording_duration_seconds": call.recording_duration_seconds, "transcript": call.transcript,
        "transcript_segments": call.transcript_segments or [], "missed_call_follow_up": call.recovery,
        "case_id": call.case_id, "event_ids": event_ids,
    }


async def call_cards(session: AsyncSession, customer_id: str, limit: int = CARD_LIMIT, *,
                     case_ids: Select[tuple[str]] | None = None) -> list[dict[str, Any]]:
    """The customer's latest calls (of these cases only, when given), newest first, each with its event ids."""
    query = select(Call).where(Call.customer_id == customer_id)
    if case_ids is not None:
        query = query.where(Call.case_id.in_(case_ids))
    calls = list(await session.scalars(query.order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)))
    if not calls:
        return []
    rows = await session.execute(
        select(TimelineEvent.id, TimelineEvent.payload)
        .where(TimelineEvent.customer_id == customer_id, TimelineEvent.kind == "call")
        .order_by(TimelineEvent.id.desc()).limit(EVENT_SCAN))
    by_call: dict[int, list[int]] = {}
    for event_id, payload in rows:
        if isinstance(payload, dict) and isinstance(payload.get("call"), int):
            by_call.setdefault(payload["call"], []).append(event_id)
    return [call_card(call, sorted(by_call.get(call.id, []))) for call in calls]
