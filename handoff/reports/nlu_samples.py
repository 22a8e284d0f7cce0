"""The designers' review list: misunderstood or flagged customer utterances, labelled or dismissed."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core import audit
from handoff.core.events import HandedOff, Subscription
from handoff.core.hashchain import utc_iso
from handoff.store.models import Case, Handoff, NluSample, TimelineEvent, utcnow

LOW_CONFIDENCE = 0.8  # below this a prediction is worth a designer's look (config.yml falls back under 0.6)
INTENT_NAME = r"^[a-z][a-z0-9_]{1,63}$"


class SampleError(Exception):
    """A labelling the service refuses, with the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def source_for(intent: str | None, confidence: float | None) -> str | None:
    """Why a handoff's prediction needs review: the assistant fell back, or was unsure; None if neither."""
    if intent == "nlu_fallback":
        return "nlu_fallback"
    if confidence is not None and confidence < LOW_CONFIDENCE:
        return "low_confidence"
    return None


async def _last_customer_message(session: AsyncSession, case_id: str, handoff: Handoff) -> TimelineEvent | None:
    found = await session.scalar(
        select(TimelineEvent).where(TimelineEvent.case_id == case_id, TimelineEvent.actor == "customer",
                                    TimelineEvent.kind == "message", TimelineEvent.text.is_not(None),
                                    TimelineEvent.created_at <= handoff.queued_at)
        .order_by(TimelineEvent.seq.desc()).limit(1))
    return found


async def _add(session: AsyncSession, handoff: Handoff, source: str) -> int:
    """One sample per (source, customer message): a message flagged twice is reviewed once."""
    event = await _last_customer_message(session, handoff.case_id, handoff)
    text = (event.text or "").strip() if event is not None else ""
    if event is None or not text:
        return 0
    exists = await session.scalar(select(NluSample.id).where(NluSample.source == source,
                                                             NluSample.event_id == event.id))
    if exists is not None:
        return 0
    case = await session.get(Case, handoff.case_id)
    session.add(NluSample(case_id=handoff.case_id, event_id=event.id, handoff_id=handoff.id, source=source,
                          text=text, language=case.language if case else None,
                          predicted_intent=handoff.intent, confidence=handoff.confidence,
                          review_tag=handoff.review_tag, status="open", created_at=utcnow()))
    await session.flush()
    return 1


async def from_handoff(session: AsyncSession, handoff: Handoff) -> int:
    """Called when the assistant hands off: its payload carries the intent and confidence it predicted."""
    source = source_for(handoff.intent, handoff.confidence)
    return await _add(session, handoff, source) if source else 0


class HandoffSamples:
    """Listens for handoffs: the assistant's fallback or unsure prediction goes to the designers' list."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    def subscriptions(self) -> Iterable[Subscription[Any]]:
        return [Subscription(HandedOff, self.handed_off)]

    async def handed_off(self, event: HandedOff) -> None:
        """Only a prediction worth a look costs a transaction."""
        if source_for(event.intent, event.confidence) is None:
            return
        async with self.sessions() as session, session.begin():
            handoff = await session.get(Handoff, event.handoff_id)
            if handoff is not None:
                await from_handoff(session, handoff)


async def from_review(session: AsyncSession, handoff: Handoff) -> int:
    """Every transition a supervisor tagged goes to the designers, with the tag as context."""
    return await _add(session, handoff, "review")


async def from_prediction(session: AsyncSession, *, case_id: str, event_id: int, language: str | None,
                          source: str, text: str, intent: str | None, confidence: float | None) -> int:
    """A prediction read back from the assistant's tracker (the harvester): once per (source, message)."""
    if not text.strip() or await session.scalar(select(NluSample.id).where(NluSample.source == source,
                                                                         NluSample.event_id == event_id)):
        return 0
    try:
        async with session.begin_nested():  # another worker's harvester may store the same one first
            session.add(NluSample(case_id=case_id, event_id=event_id, source=source, text=text.strip(),
                                  language=language, predicted_intent=intent, confidence=confidence,
                                  status="open", created_at=utcnow()))
    except IntegrityError:
        return 0
    return 1


def sample_view(sample: NluSample) -> dict[str, Any]:
    return {"id": sample.id, "case_id": sample.case_id, "source": sample.source, "text": sample.text,
            "language": sample.language, "predicted_intent": sample.predicted_intent,
            "confidence": sample.confidence, "review_tag": sample.review_tag, "status": sample.status,
            "intent": sample.intent, "reviewed_by": sample.reviewed_by,
            "created_at": utc_iso(sample.created_at)}


async def review_list(session: AsyncSession, status: str | None = "open", limit: int = 200) -> list[dict[str, Any]]:
    """Oldest first, so nothing waits forever."""
    query = select(NluSample).order_by(NluSample.created_at, NluSample.id).limit(limit)
    if status:
        query = query.where(NluSample.status == status)
    return [sample_view(sample) for sample in await session.scalars(query)]


async def label(session: AsyncSession, sample_id: int, *, intent: str | None, dismiss: bool, actor: str,
                text: str | None = None) -> dict[str, Any]:
    """The designer's decision: the right intent (optionally with the text cleaned of personal data), or dismiss."""
    sample = await session.get(NluSample, sample_id)
    if sample is None:
        raise SampleError(404, "no such sample")
    if not dismiss and (not intent or not re.match(INTENT_NAME, intent)):
        raise SampleError(422, "intent must be lower_snake_case, or dismiss the sample")
    sample.status = "dismissed" if dismiss else "annotated"
    sample.intent = None if dismiss else intent
    if text and text.strip() and not dismiss:
        sample.text = " ".join(text.split())
    sample.reviewed_by, sample.reviewed_at = actor, utcnow()
    await audit.record(session, actor, "nlu_label", case_id=sample.case_id, sample_id=sample.id,
                       intent=sample.intent, dismissed=dismiss)
    return sample_view(sample)
