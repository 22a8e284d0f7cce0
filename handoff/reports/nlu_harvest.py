"""The designers' harvester: unsure or fallback predictions the assistant answered itself, read off the hot path.

A handoff already queues its own sample (`nlu_samples.from_handoff`). What the assistant handled without
people (a "could you say it in other words?", an answer given at 0.7 confidence) is only in Rasa's tracker:
every `interval` seconds this reads the trackers of the cases with new assistant events since the last run
(a watermark on timeline event ids, table `nlu_harvest_marks`) and stores one sample per such customer
message, linked to its timeline event. The customer's turn never waits for it.
With several workers one harvests at a time: a run holds a lease on the watermark's row (core.claims); a worker
that dies mid-run leaves it to the next worker's run once the lease lapses. Samples are unique per (source,
message) anyway, so a run overlapping another stores nothing twice.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.bot_client import FALLBACK_INTENT, RasaClient, UserTurn
from handoff.core.claims import LEASE, claim, release
from handoff.reports import nlu_samples
from handoff.store.models import Case, NluHarvestMark, PendingTurn, TimelineEvent, utcnow

log = structlog.get_logger(__name__)

MARK = "bot_events"
SETTLE_SECONDS = 10.0  # events younger than this wait for the next run: an older id may still be committing
BATCH = 500  # assistant events read per round; a run goes on until it has caught up


@dataclass(frozen=True)
class Harvested:
    """What one run did; `complete` is False when Rasa could not be read and the watermark stayed."""

    cases: int
    samples: int
    complete: bool


def review(turn: UserTurn) -> tuple[str, str | None, float | None] | None:
    """(source, predicted intent, confidence) when a designer should look at this turn, else None.

    A button payload ("/affirm") is no prediction. For a fallback the predicted intent is the model's best
    guess and its confidence (the fallback's own confidence is only the configured threshold).
    """
    if not turn.text.strip() or turn.text.startswith("/"):
        return None
    source = nlu_samples.source_for(turn.intent, turn.confidence)
    if source == FALLBACK_INTENT and turn.guess is not None:
        return source, turn.guess, turn.guess_confidence
    return (source, turn.intent, turn.confidence) if source else None


def _same(text: str) -> str:
    return " ".join(text.split())


def match_messages(turn_texts: list[str], messages: list[tuple[int, str]]) -> list[int | None]:
    """The timeline event id of each Rasa user turn: in order, by text (Rasa's sender id is the case id).

    Customer messages people answered never reached Rasa, so they are skipped over; a turn with no
    matching message left (already matched, or stored after the timeline was read) gets None.
    """
    matched: list[int | None] = []
    position = 0
    for text in turn_texts:
        wanted = _same(text)
        found = next((index for index in range(position, len(messages)) if _same(messages[index][1]) == wanted),
                     None)
        if found is None:
            matched.append(None)
            continue
        matched.append(messages[found][0])
        position = found + 1
    return matched


def settled_batch(rows: list[tuple[int, str, datetime]], cutoff: datetime) -> tuple[list[str], int | None]:
    """The cases of the assistant events up to the first one newer than cutoff, and the last event id taken.

    Stopping at the first unsettled event (not skipping it) keeps the watermark from passing an id whose
    transaction may still commit after a higher one.
    """
    cases: list[str] = []
    last: int | None = None
    for event_id, case_id, created_at in rows:
        if _utc(created_at) > cutoff:
            break
        if case_id not in cases:
            cases.append(case_id)
        last = event_id
    return cases, last


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


async def _watermark(session: AsyncSession) -> int:
    return int(await session.scalar(select(NluHarvestMark.last_event_id).where(NluHarvestMark.key == MARK)) or 0)


async def _advance(session: AsyncSession, last_event_id: int) -> None:
    """Moves the watermark forward only (two workers may race; the later id wins)."""
    moved = await session.execute(update(NluHarvestMark).where(NluHarvestMark.key == MARK,
                                                               NluHarvestMark.last_event_id < last_event_id)
                                  .values(last_event_id=last_event_id, updated_at=utcnow()))
    if cast("CursorResult[Any]", moved).rowcount or await session.get(NluHarvestMark, MARK) is not None:
        return
    try:
        async with session.begin_nested():
            session.add(NluHarvestMark(key=MARK, last_event_id=last_event_id, updated_at=utcnow()))
    except IntegrityError:
        await _advance(session, last_event_id)


async def harvest_case(sessions: async_sessionmaker[AsyncSession], bot: RasaClient, case_id: str) -> int | None:
    """Stores the case's unsure or fallback turns as samples; None when Rasa could not be read."""
    async with sessions() as session:
        case = await session.get(Case, case_id)
        if case is None:
            return 0
        rows = await session.execute(
            select(TimelineEvent.id, TimelineEvent.text, TimelineEvent.payload)
            .where(TimelineEvent.case_id == case_id, TimelineEvent.actor == "customer",
                   TimelineEvent.kind == "message").order_by(TimelineEvent.seq))
        messages = [(event_id, str((payload or {}).get("bot_input") or text or ""))
                    for event_id, text, payload in rows]
        # A message whose turn is still running may yet hand off and queue its own sample in that transaction.
        pending = set(await session.scalars(select(PendingTurn.event_id).where(PendingTurn.case_id == case_id)))
        language = case.language
    turns = await bot.user_turns(case_id)
    if turns is None:
        return None
    found = [(event_id, turn.text, wanted) for turn, event_id
             in zip(turns, match_messages([turn.text for turn in turns], messages), strict=True)
             if event_id is not None and event_id not in pending and (wanted := review(turn)) is not None]
    if not found:
        return 0  # no write transaction (on SQLite, the write lock) for a case with nothing to review
    added = 0
    async with sessions() as session, session.begin():
        for event_id, text, (source, intent, confidence) in found:
            added += await nlu_samples.from_prediction(session, case_id=case_id, event_id=event_id,
                                                       language=language, source=source, text=text,
                                                       intent=intent, confidence=confidence)
    return added


async def harvest(sessions: async_sessionmaker[AsyncSession], bot: RasaClient, *,
                  settle_seconds: float = SETTLE_SECONDS, batch: int = BATCH) -> Harvested:
    """One run: every case with assistant events past the watermark, until caught up or Rasa fails."""
    cases_seen = samples = 0
    while True:
        cutoff = utcnow() - timedelta(seconds=settle_seconds)
        async with sessions() as session:
            since = await _watermark(session)
            rows = list(await session.execute(
                select(TimelineEvent.id, TimelineEvent.case_id, TimelineEvent.created_at)
                .where(TimelineEvent.id > since, TimelineEvent.actor == "bot")
                .order_by(TimelineEvent.id).limit(batch)))
        cases, last = settled_batch([tuple(row) for row in rows], cutoff)
        for case_id in cases:
            added = await harvest_case(sessions, bot, case_id)
            if added is None:
                log.warning("nlu_harvest_rasa_unavailable", case_id=case_id)
                return Harvested(cases_seen, samples, complete=False)
            cases_seen, samples = cases_seen + 1, samples + added
        if last is not None:
            async with sessions() as session, session.begin():
                await _advance(session, last)
        if last is None or len(rows) < batch:
            return Harvested(cases_seen, samples, complete=True)


async def hold_harvest(sessions: async_sessionmaker[AsyncSession], lease: timedelta) -> bool:
    """Leases the harvest to this worker (the watermark's row, created on the first run); False: another has it."""
    async with sessions() as session, session.begin():
        if await claim(session, NluHarvestMark.key, (NluHarvestMark.key == MARK,), now=utcnow(), lease=lease):
            return True
        if await session.get(NluHarvestMark, MARK) is not None:
            return False
        try:
            async with session.begin_nested():
                session.add(NluHarvestMark(key=MARK, last_event_id=0, updated_at=utcnow(),
                                           claimed_until=utcnow() + lease))
        except IntegrityError:  # another worker's first run created it first: theirs
            return False
        return True


async def let_go_of_harvest(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await release(session, NluHarvestMark.key, [MARK])


class NluHarvester:
    """Runs `harvest` every interval seconds for the life of the process (one worker at a time); an interval of 0
    turns it off."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], bot: RasaClient, interval: float,
                 lease: timedelta = LEASE) -> None:
        self.sessions, self.bot, self.interval, self.lease = sessions, bot, interval, lease
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> Harvested | None:
        """One run if no other worker is harvesting (None when one is), the lease given back at the end."""
        if not await hold_harvest(self.sessions, self.lease):
            return None
        try:
            return await harvest(self.sessions, self.bot)
        finally:
            await let_go_of_harvest(self.sessions)

    def start(self) -> None:
        if self.interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                done = await self.run_once()
                if done is not None and done.samples:
                    log.info("nlu_harvest", cases=done.cases, samples=done.samples)
            except Exception:  # a database hiccup must not end the loop: the next run starts from the watermark
                log.exception("nlu_harvest_failed")
