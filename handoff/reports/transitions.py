"""Transition review: every bot↔human transition with its context, and the supervisor's tag on it."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import Select, SQLColumnExpression, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core import audit
from handoff.core.hashchain import utc_iso
from handoff.reports import nlu_samples
from handoff.store.db import read_only
from handoff.store.models import Case, Handoff, TimelineEvent

ReviewTag = Literal["correct", "should have been contained", "late handoff", "wrong team"]
REVIEW_TAGS: tuple[str, ...] = get_args(ReviewTag)
ASSISTANT_TURNS = 3  # the assistant's last replies shown before each transition
PAGE = 200


class ReviewError(Exception):
    """A review the service refuses, with the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class TransitionFilter:
    """What the supervisor narrowed the list to; None means any."""

    start: datetime | None = None
    end: datetime | None = None
    channel: str | None = None
    team: str | None = None
    reason: str | None = None
    intent: str | None = None
    direction: str | None = None
    tagged: bool | None = None


def valid_tag(tag: str) -> bool:
    """Only the four agreed verdicts, so the designers' queue and the KPIs can count them."""
    return tag in REVIEW_TAGS


def apply_filter(query: Select[Any], wanted: TransitionFilter) -> Select[Any]:
    """Adds one WHERE per filter given."""
    if wanted.start is not None:
        query = query.where(Handoff.queued_at >= wanted.start)
    if wanted.end is not None:
        query = query.where(Handoff.queued_at < wanted.end)
    equal: list[tuple[SQLColumnExpression[str | None], str | None]] = [
        (Case.channel, wanted.channel), (Handoff.team, wanted.team), (Handoff.reason, wanted.reason),
        (Handoff.intent, wanted.intent), (Handoff.direction, wanted.direction)]
    for column, value in equal:
        if value is not None:
            query = query.where(column == value)
    if wanted.tagged is not None:
        query = query.where(Handoff.review_tag.is_not(None) if wanted.tagged else Handoff.review_tag.is_(None))
    return query


def waiting_seconds(handoff: Handoff) -> float | None:
    """Queued until accepted, or until it ended unaccepted (abandoned)."""
    until = handoff.accepted_at or handoff.ended_at
    if handoff.direction != "to_human" or until is None:
        return None
    return round((until - handoff.queued_at).total_seconds(), 3)


async def last_assistant_turns(session: AsyncSession, handoffs: list[Handoff]) -> dict[int, list[dict[str, Any]]]:
    """The assistant's replies (and the customer's words between them) just before each transition."""
    by_case: dict[str, list[Handoff]] = defaultdict(list)
    for handoff in handoffs:
        by_case[handoff.case_id].append(handoff)
    turns: dict[int, list[dict[str, Any]]] = {}
    for case_id, rows in by_case.items():
        events = list(await session.execute(
            select(TimelineEvent.created_at, TimelineEvent.actor, TimelineEvent.text)
            .where(TimelineEvent.case_id == case_id, TimelineEvent.kind == "message",
                   TimelineEvent.actor.in_(("bot", "customer"))).order_by(TimelineEvent.seq)))
        for handoff in rows:
            before = [e for e in events if e.created_at <= handoff.queued_at]
            bot_seen, shown = 0, []
            for event in reversed(before):
                shown.append({"at": utc_iso(event.created_at), "actor": event.actor, "text": event.text})
                bot_seen += event.actor == "bot"
                if bot_seen >= ASSISTANT_TURNS:
                    break
            turns[handoff.id] = list(reversed(shown))
    return turns


def transition_view(handoff: Handoff, case: Case, turns: list[dict[str, Any]]) -> dict[str, Any]:
    """One row of the review list."""
    def iso(moment: datetime | None) -> str | None:
        return utc_iso(moment) if moment else None

    return {
        "id": handoff.id, "case_id": handoff.case_id, "direction": handoff.direction, "channel": case.channel,
        "reason": handoff.reason, "intent": handoff.intent, "confidence": handoff.confidence,
        "team": handoff.team, "slots": handoff.slots or {}, "summary": handoff.summary,
        "bot_turns": handoff.bot_turns, "queued_at": iso(handoff.queued_at), "accepted_at": iso(handoff.accepted_at),
        "ended_at": iso(handoff.ended_at), "waiting_seconds": waiting_seconds(handoff), "outcome": handoff.outcome,
        "review_tag": handoff.review_tag, "review_note": handoff.review_note, "last_turns": turns,
    }


async def list_transitions(session: AsyncSession, wanted: TransitionFilter, limit: int = PAGE) -> list[dict[str, Any]]:
    """Newest first, each with the assistant's last turns before it."""
    await read_only(session)
    query = apply_filter(select(Handoff, Case).join(Case, Case.id == Handoff.case_id), wanted)
    rows = list(await session.execute(query.order_by(Handoff.queued_at.desc(), Handoff.id.desc()).limit(limit)))
    turns = await last_assistant_turns(session, [handoff for handoff, _ in rows])
    return [transition_view(handoff, case, turns.get(handoff.id, [])) for handoff, case in rows]


async def tag_transition(session: AsyncSession, handoff_id: int, tag: str, note: str | None, *,
                         actor: str) -> dict[str, Any]:
    """Records the verdict, audits it, and puts the customer's words before it in the designers' queue."""
    if not valid_tag(tag):
        raise ReviewError(422, f"tag must be one of: {', '.join(REVIEW_TAGS)}")
    handoff = await session.get(Handoff, handoff_id)
    if handoff is None:
        raise ReviewError(404, "no such transition")
    case = await session.get(Case, handoff.case_id)
    handoff.review_tag, handoff.review_note = tag, (note or None)
    await audit.record(session, actor, "review_transition", case_id=handoff.case_id, handoff_id=handoff.id,
                       tag=tag, note=note)
    queued = await nlu_samples.from_review(session, handoff)
    turns = await last_assistant_turns(session, [handoff])
    view = transition_view(handoff, case, turns.get(handoff.id, []))  # type: ignore[arg-type]
    return {**view, "nlu_samples": queued}
