"""The overflow offer and the reading of its answer, pure: what is offered, in which words, and what counts as an
answer (a button payload, its digit, its label typed out) and what does not."""
from __future__ import annotations

import pytest

from handoff.core.messages import QuickReply
from handoff.core.overflow import (
    DIGITS,
    accompanied,
    offer_message,
    offer_open,
    offered_in,
    offers_for,
    parse_choice,
    payload,
    voice_menu,
)
from handoff.core.routing_policy import OVERFLOW, QUEUE, Decision
from handoff.core.texts import TEXTS
from handoff.store.models import Case, Handoff, utcnow

ALL = ("wait", "whatsapp", "callback", "assistant")


@pytest.mark.parametrize(("bot_input", "offers", "expected"), [
    (payload("wait"), ALL, "wait"),
    (payload("assistant"), ("wait", "assistant"), "assistant"),
    (payload("whatsapp"), ("wait", "assistant"), None),  # not offered to this customer
    ('/overflow{"choice":', ALL, None),                   # a broken payload
    ('/overflow{"choice":"dance"}', ALL, None),
    ("1", ALL, "wait"), ("2", ALL, "whatsapp"), ("3", ALL, "callback"), ("4", ALL, "assistant"),
    ("4#", ALL, "assistant"),
    ("2", ("wait", "callback", "assistant"), None),       # the digits are fixed: 2 is WhatsApp, not offered here
    ("5", ALL, None), ("12", ALL, None),
    ("Esperar", ALL, "wait"), ("  que me LLAMEN ", ALL, "callback"), ("Call me back", ALL, "callback"),
    ("seguir por whatsapp!", ALL, "whatsapp"), ("Seguir con asistente", ("wait",), None),
    ("quiero esperar un poco", ALL, None),                # a sentence is a message for people, not an answer
    ("", ALL, None),
])
def test_what_counts_as_an_answer(bot_input: str, offers: tuple[str, ...], expected: str | None) -> None:
    assert parse_choice(bot_input, offers) == expected


def test_the_assistant_is_not_offered_when_the_handoff_happened_because_it_is_down() -> None:
    decision = Decision(OVERFLOW, "nobody_online", position=2, offers=("wait", "callback", "assistant"))
    assert offers_for(decision, "explicit_request") == ("wait", "callback", "assistant")
    assert offers_for(decision, "bot_unavailable") == ("wait", "callback")
    assert offers_for(Decision(OVERFLOW, "nobody_online", offers=("wait", "assistant")), "bot_unavailable") == ()
    assert offers_for(Decision(QUEUE, "within_target", offers=()), "explicit_request") == ()


def test_the_offer_says_where_the_customer_stands_with_one_button_per_choice_within_whatsapp_limits() -> None:
    slow = offer_message(Decision(OVERFLOW, "wait_over_target", position=7, wait_seconds=900, offers=ALL), ALL, "es")
    assert slow.text == ("En este momento la espera para hablar con una persona es de unos 15 min "
                         "(eres el número 7 en la fila). ¿Qué prefieres?")
    assert [reply.payload for reply in slow.quick_replies] == [payload(choice) for choice in ALL]
    nobody = offer_message(Decision(OVERFLOW, "nobody_online", position=1, offers=ALL), ("wait",), "en")
    assert nobody.text == "Nobody from our team is available right now (you are number 1 in line). " \
                          "What would you like to do?"
    assert offered_in(slow.quick_replies) == list(ALL)
    assert offered_in((QuickReply("Sí", "/affirm"),)) == []
    for choice in ALL:  # WhatsApp reply buttons: at most 20 characters
        assert all(len(label) <= 20 for label in TEXTS[f"overflow_choice_{choice}"].values())


def test_the_phone_menu_reads_each_offered_choice_with_its_fixed_digit() -> None:
    line, options = voice_menu(("wait", "callback", "assistant"), "es")
    assert line == ("Para esperar en la línea, marca 1. Para que te llamemos, marca 3. "
                    "Para seguir con el asistente, marca 4.")
    assert [(option["digit"], option["payload"]) for option in options] == [
        ("1", payload("wait")), ("3", payload("callback")), ("4", payload("assistant"))]
    assert voice_menu(ALL, "en")[0].startswith("To wait on the line, press 1. To continue on WhatsApp, press 2.")
    assert DIGITS == {"wait": "1", "whatsapp": "2", "callback": "3", "assistant": "4"}


def test_the_offer_is_open_until_answered_or_a_person_takes_the_case() -> None:
    case = Case(id="c1", status="queued", assignee_id=None)
    handoff = Handoff(case_id="c1", direction="to_human", reason="explicit_request", overflow_offered_at=utcnow())
    assert offer_open(case, handoff) and not accompanied(case, handoff)
    handoff.overflow_choice = "assistant"
    assert not offer_open(case, handoff) and accompanied(case, handoff)
    case.status, case.assignee_id = "assigned", "agent-1"
    assert not offer_open(case, handoff) and not accompanied(case, handoff)
    never_offered = Handoff(case_id="c1", direction="to_human", reason="explicit_request")
    assert not offer_open(Case(id="c1", status="queued"), never_offered)
    assert not offer_open(Case(id="c1", status="queued"), None)
