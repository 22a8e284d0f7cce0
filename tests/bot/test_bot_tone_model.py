"""The trained model's domain carries every response in every variant: the `tone` slot picks the Spanish one
(tuteo, usted, voseo) with `language`, Portuguese and English have their own, and no slot set says Spanish and
English. Rasa's own response selection (its NLG over the model's domain), not a copy of it."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

TONES = {"tuteo": "¿Qué necesitas?", "usted": "¿Qué necesita?", "voseo": "¿Qué necesitás?"}


def said(agent: Any, response: str, language: str | None, tone: str | None) -> str:
    """The text Rasa utters for `response` in a conversation with these slots."""
    events = [SlotSet(name, value) for name, value in (("language", language), ("tone", tone)) if value]
    tracker = DialogueStateTracker.from_events("tone-test", events, slots=agent.domain.slots)
    return asyncio.run(agent.nlg.generate(response, tracker, "rest"))["text"]


@pytest.mark.parametrize("tone", list(TONES))
def test_the_tone_slot_picks_the_spanish_variant(trained_agent: Any, tone: str) -> None:
    greeting = said(trained_agent, "utter_greet", "es", tone)
    assert greeting.endswith(TONES[tone])
    assert all(other not in greeting for name, other in TONES.items() if name != tone)


def test_every_language_has_its_variant_and_the_tone_touches_only_spanish(trained_agent: Any) -> None:
    assert said(trained_agent, "utter_default", "es", "voseo") == (
        "Perdón, no te entendí 😅 ¿Me lo podés decir con otras palabras?")
    assert said(trained_agent, "utter_offer_human", "es", "usted") == (
        "¿Quiere que le comunique con una persona del equipo?")
    assert said(trained_agent, "utter_greet", "pt", "usted").startswith("Oi! 👋 Sou o assistente virtual.")
    assert said(trained_agent, "utter_greet", "en", "voseo").endswith("What do you need?")
    assert said(trained_agent, "utter_goodbye", None, None) == (
        "¡Hasta luego! Aquí estoy cuando me necesites 👋\nBye! I'm here whenever you need me 👋")
