"""The designers' harvester: unsure and fallback predictions the assistant answered itself reach the review list."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from handoff.core.bot_client import RasaClient, UserTurn, user_turns
from handoff.reports import nlu_harvest, nlu_samples
from handoff.reports.nlu_harvest import match_messages, review, settled_batch
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Case, NluHarvestMark, NluSample, TimelineEvent
from tests.service.support.polling import until
from tests.service.support.webchat_client import Visitor

# Utterances the trained model is unsure about; the test asks the model which are which, so a retrained
# model only changes which one is picked.
FALLBACK_CANDIDATES = ("tengo una pregunta", "tengo una duda", "me puedes", "factura", "duda")
UNSURE_CANDIDATES = ("eso es todo", "claro que si pero no", "pregunta", "puedes")
CLEAR = "a que hora abren el sabado?"


def user_event(text: str, intent: str, confidence: float, ranking: list[tuple[str, float]] | None = None
               ) -> dict[str, Any]:
    """A `user` event as Rasa 3.6's tracker endpoint returns it."""
    return {"event": "user", "timestamp": 1.0, "text": text, "input_channel": "rest",
            "parse_data": {"text": text, "intent": {"name": intent, "confidence": confidence},
                           "intent_ranking": [{"name": n, "confidence": c}
                                              for n, c in (ranking or [(intent, confidence)])]}}


def test_user_turns_read_intents_and_the_best_guess_behind_a_fallback() -> None:
    events = [{"event": "action", "name": "action_session_start"},
              user_event("tengo una pregunta", "nlu_fallback", 0.6,
                         [("nlu_fallback", 0.6), ("goodbye", 0.49), ("out_of_scope", 0.17)]),
              {"event": "bot", "text": "Perdon, no te entendi"},
              user_event("hola", "greet", 0.99),
              {"event": "user", "text": "sin parse"}]
    assert user_turns(events) == [
        UserTurn("tengo una pregunta", "nlu_fallback", 0.6, "goodbye", 0.49),
        UserTurn("hola", "greet", 0.99, "greet", 0.99),
        UserTurn("sin parse", None, None),
    ]


def test_review_keeps_fallbacks_and_unsure_turns_only() -> None:
    assert review(UserTurn("tengo una pregunta", "nlu_fallback", 0.6, "goodbye", 0.49)) == \
        ("nlu_fallback", "goodbye", 0.49)
    assert review(UserTurn("???", "nlu_fallback", 0.6)) == ("nlu_fallback", "nlu_fallback", 0.6)
    assert review(UserTurn("eso es todo", "affirm", 0.63, "affirm", 0.63)) == ("low_confidence", "affirm", 0.63)
    assert review(UserTurn("hola", "greet", nlu_samples.LOW_CONFIDENCE)) is None
    assert review(UserTurn("/affirm", "affirm", 0.2)) is None  # a button payload, not a prediction
    assert review(UserTurn("  ", "nlu_fallback", 0.6)) is None


def test_turns_match_customer_messages_in_order_skipping_what_people_answered() -> None:
    messages = [(10, "hola"), (11, "quiero una persona"), (14, "gracias  a ti"), (15, "hola"), (18, "hola")]
    assert match_messages(["hola", "gracias a ti", "hola"], messages) == [10, 14, 15]
    assert match_messages(["hola", "nunca dicho", "hola"], messages) == [10, None, 15]
    assert match_messages(["hola"] * 4, messages) == [10, 15, 18, None]  # a message is matched once


def test_a_batch_stops_at_the_first_event_still_settling() -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
    old, new = now - timedelta(seconds=30), now + timedelta(seconds=1)
    rows = [(5, "a", old), (6, "b", old.replace(tzinfo=None)), (7, "a", old), (8, "c", new), (9, "d", old)]
    assert settled_batch(rows, now) == (["a", "b"], 7)
    assert settled_batch([(8, "c", new)], now) == ([], None)


async def parse(rasa_url: str, text: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        return (await client.post(f"{rasa_url}/model/parse", json={"text": text}, timeout=30)).json()


async def pick(rasa_url: str, candidates: tuple[str, ...], wanted: str) -> tuple[str, str, float]:
    """The first candidate the real model parses as `wanted` (a fallback, or an unsure real intent)."""
    for text in candidates:
        result = await parse(rasa_url, text)
        intent, confidence = result["intent"]["name"], result["intent"]["confidence"]
        if wanted == "nlu_fallback" and intent == "nlu_fallback":
            guess = max((i for i in result["intent_ranking"] if i["name"] != "nlu_fallback"),
                        key=lambda i: i["confidence"])
            return text, guess["name"], guess["confidence"]
        if wanted == "low_confidence" and intent != "nlu_fallback" and confidence < nlu_samples.LOW_CONFIDENCE:
            return text, intent, confidence
    raise AssertionError(f"the model is sure about every candidate for {wanted}: {candidates}")


@pytest.mark.e2e
async def test_unsure_turns_without_handoff_are_harvested_once(database_url, rasa_stack, service_factory) -> None:
    fallback = await pick(rasa_stack.rasa_url, FALLBACK_CANDIDATES, "nlu_fallback")
    unsure = await pick(rasa_stack.rasa_url, UNSURE_CANDIDATES, "low_confidence")
    later = await pick(rasa_stack.rasa_url, tuple(c for c in FALLBACK_CANDIDATES if c != fallback[0]), "nlu_fallback")
    service = service_factory(DATABASE_URL=database_url, NLU_HARVEST_INTERVAL_SECONDS="0")
    visitor = Visitor(service.base_url)
    await visitor.connect()
    for message in (fallback[0], CLEAR, unsure[0]):
        await visitor.say(message)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    bot = RasaClient(rasa_stack.rasa_url, timeout=30, retries=0, backoff=0)
    try:
        async with sessions() as session:
            [case] = list(await session.scalars(select(Case)))
            assert case.status == "bot"  # the assistant kept the conversation: no handoff queued a sample
            assert await session.scalar(select(func.count()).select_from(NluSample)) == 0
        first = await nlu_harvest.harvest(sessions, bot, settle_seconds=0)
        second = await nlu_harvest.harvest(sessions, bot, settle_seconds=0)
        async with sessions() as session:
            listed = await nlu_samples.review_list(session)
            linked = [(await session.get(TimelineEvent, s.event_id)) for s in
                      await session.scalars(select(NluSample).order_by(NluSample.id))]
            mark = await session.get(NluHarvestMark, nlu_harvest.MARK)
            last_bot = await session.scalar(select(func.max(TimelineEvent.id)).where(TimelineEvent.actor == "bot"))

        await visitor.say(CLEAR)  # the same case goes on: only its new unsure turn is added
        await visitor.say(later[0])
        third = await nlu_harvest.harvest(sessions, bot, settle_seconds=0)
        async with sessions() as session:
            after = await nlu_samples.review_list(session)
    finally:
        await visitor.close()
        await bot.aclose()
        await engine.dispose()

    assert (first.cases, first.samples, first.complete) == (1, 2, True)
    assert (second.cases, second.samples) == (0, 0)  # nothing new past the watermark
    assert mark.last_event_id == last_bot
    got = [(s["source"], s["text"], s["predicted_intent"], s["case_id"], s["status"]) for s in listed]
    assert got == [("nlu_fallback", fallback[0], fallback[1], case.id, "open"),
                   ("low_confidence", unsure[0], unsure[1], case.id, "open")]
    assert [s["confidence"] for s in listed] == [pytest.approx(fallback[2], abs=1e-6),
                                                 pytest.approx(unsure[2], abs=1e-6)]
    assert [(e.case_id, e.actor, e.text) for e in linked] == [(case.id, "customer", fallback[0]),
                                                              (case.id, "customer", unsure[0])]
    assert (third.cases, third.samples) == (1, 1)
    assert [(s["source"], s["text"]) for s in after[2:]] == [("nlu_fallback", later[0])]


@pytest.mark.e2e
async def test_the_service_harvests_in_the_background(rasa_stack, service_factory) -> None:
    fallback = await pick(rasa_stack.rasa_url, FALLBACK_CANDIDATES, "nlu_fallback")
    service = service_factory(NLU_HARVEST_INTERVAL_SECONDS="1")
    visitor = Visitor(service.base_url)
    await visitor.connect()
    await visitor.say(fallback[0])
    await visitor.close()
    engine = create_engine(service.database_url)
    try:
        async def harvested() -> list[str]:
            async with session_factory(engine)() as session:
                return list(await session.scalars(select(NluSample.text)))
        # The harvester leaves events younger than SETTLE_SECONDS for the next run.
        texts = await until(harvested, "a sample harvested", timeout=30, interval=0.5)
    finally:
        await engine.dispose()
    assert texts == [fallback[0]]


@pytest.mark.e2e
async def test_an_unreachable_rasa_leaves_the_watermark_for_the_next_run(database_url, rasa_stack,
                                                                        service_factory) -> None:
    fallback = await pick(rasa_stack.rasa_url, FALLBACK_CANDIDATES, "nlu_fallback")
    service = service_factory(DATABASE_URL=database_url, NLU_HARVEST_INTERVAL_SECONDS="0")
    visitor = Visitor(service.base_url)
    await visitor.connect()
    await visitor.say(fallback[0])
    await visitor.close()
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    down = RasaClient("http://127.0.0.1:9", timeout=2, retries=0, backoff=0)  # the discard port: nothing listens
    up = RasaClient(rasa_stack.rasa_url, timeout=30, retries=0, backoff=0)
    try:
        failed = await nlu_harvest.harvest(sessions, down, settle_seconds=0)
        async with sessions() as session:
            mark = await session.get(NluHarvestMark, nlu_harvest.MARK)
        retried = await nlu_harvest.harvest(sessions, up, settle_seconds=0)
    finally:
        await down.aclose()
        await up.aclose()
        await engine.dispose()
    assert (failed.complete, failed.samples, mark) == (False, 0, None)
    assert (retried.complete, retried.samples) == (True, 1)
