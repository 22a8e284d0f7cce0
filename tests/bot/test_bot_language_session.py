"""Language choice and session start: metadata first, detection second, the operations default last."""
from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk.events import ActionExecuted, SessionStarted

from actions.language import choose_language, detect_language, switched_language
from actions.session import ActionSessionStart, slots_from_metadata

METADATA = {
    "channel": "webchat",
    "language": None,
    "customer": {
        "id": "cust-1",
        "name": "Ana Lopez",
        "language": "es",
        "identities": [
            {"kind": "webchat", "value": "visitor-9", "verified": False},
            {"kind": "email", "value": "ana@example.com", "verified": True},
        ],
    },
    "case": {"id": "case-1", "status": "bot"},
    "known": {"order_number": "100002", "phone": "+5215512345678"},
}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("hola q onda, kiero saber de mi pedido", "es"),
        ("vos tenes el horario del sabado?", "es"),
        ("porfa pasame con un asesor", "es"),
        ("where is my order", "en"),
        ("can i talk to a person pls", "en"),
        ("hi", "en"),
        ("gracias", "es"),
        ("oi, que horas vocês abrem?", "pt"),  # not Spanish, though "que horas" is both
        ("oi que horas vcs abrem", "pt"),
        ("kd meu pedido", "pt"),
        ("quero falar com um atendente", "pt"),
        ("obg", "pt"),
        ("nao chegou ainda", "pt"),
        ("meu email é joao.silva@gmail.com", "pt"),
        ("hola que horas abren", "es"),
        ("que mal servicio", "es"),
        ("el nuevo es fer.castillo@gmail.com", "es"),  # an address's letters say nothing
        ("ok", None),
        ("100002", None),
        ("👍", None),
        ("", None),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_choose_language_precedence() -> None:
    assert choose_language("en", {"language": "es"}, "hola") == "en"  # an already set language stays
    assert choose_language(None, {"language": "en"}, "hola") == "en"  # metadata beats the text
    assert choose_language(None, {"customer": {"language": "es"}}, "hello") == "es"  # profile language
    assert choose_language(None, {}, "hello there") == "en"  # detected
    assert choose_language(None, {}, "oi, tudo bem?") == "pt"
    assert choose_language(None, {"customer": {"language": "pt"}}, "ok") == "pt"  # a Brazilian profile
    assert choose_language(None, {"customer": {"language": "es"}}, "oi, quero falar com um atendente") == "pt"
    assert choose_language(None, None, "ok") == "es"  # operations.yml default_language


@pytest.mark.parametrize(
    "current,text,switched",
    [
        ("es", "oi, que horas vocês abrem?", "pt"),
        ("es", "quero falar com um atendente", "pt"),
        ("es", "where is my order please", "en"),
        ("en", "hola quiero saber de mi pedido", "es"),
        ("pt", "necesito hablar con un asesor", "es"),
        ("es", "hola, necesito hablar con un asesor", None),  # already Spanish
        ("es", "ok", None),  # short messages never flip it
        ("es", "obrigado", None),
        ("pt", "ok gracias, chao", None),
        ("es", "ok thanks bye", None),
        ("en", "100002", None),
        ("pt", "gracias por todo amigo", None),  # one marker word, lingua unsure: not clear enough
        ("en", "my name is José Muñoz and i need help", None),  # a name's ñ does not make it Spanish
        # a button's or a phone digit's payload: its intent and slot names are English words, never the customer's
        ("es", '/request_callback{"callback_window":"this_afternoon"}', None),
        ("pt", "/affirm", None),
    ],
)
def test_a_clear_message_in_another_language_switches_it(current: str, text: str, switched: str | None) -> None:
    assert switched_language(current, text) == switched


def test_a_payload_tells_no_language() -> None:
    assert detect_language('/request_callback{"callback_window":"tomorrow_morning"}') is None


def test_default_language_comes_from_operations_file(isolated_env: Path) -> None:
    ops = isolated_env / "operations.yml"
    ops.write_text(ops.read_text().replace("default_language: es", "default_language: en"))
    assert choose_language(None, None, "100002") == "en"


def test_every_turn_detects_the_language(read_turn) -> None:
    assert read_turn({}, "hola, buenas tardes") == {"language": "es"}
    assert read_turn({}, "ok", metadata={"language": "en"}) == {"language": "en", "verified": False}


def test_slots_from_metadata() -> None:
    assert slots_from_metadata(METADATA) == {
        "channel": "webchat",
        "customer_id": "cust-1",
        "customer_name": "Ana Lopez",
        "language": "es",
        "order_number": "100002",
        "email": "ana@example.com",
        "phone": "+5215512345678",
        "verified": True,  # a verified email identity
    }


@pytest.mark.parametrize(
    "metadata,verified",
    [
        ({"channel": "whatsapp"}, True),
        ({"channel": "voice"}, True),
        ({"channel": "voice", "customer": {"identities": [{"kind": "call", "value": "CA1", "verified": False}]}},
         False),  # the caller withheld their number
        ({"channel": "voice", "customer": {"identities": [{"kind": "call", "value": "CA1", "verified": False},
                                                          {"kind": "phone", "value": "+1", "verified": True}]}},
         True),  # then proved a phone with a code
        ({"channel": "webchat"}, False),
        ({"channel": "webchat", "customer": {"identities": [{"kind": "webchat", "value": "v", "verified": True}]}},
         False),
        ({"channel": "webchat", "customer": {"identities": [{"kind": "phone", "value": "+1", "verified": False}]}},
         False),
        ({"channel": "webchat", "customer": {"identities": [{"kind": "phone", "value": "+1", "verified": True}]}},
         True),
        (None, False),
        ("garbage", False),
    ],
)
def test_verified_rules(metadata, verified: bool) -> None:
    assert slots_from_metadata(metadata)["verified"] is verified


def test_session_start_fills_slots_and_listens(dispatcher, make_tracker, run_action) -> None:
    tracker = make_tracker({"session_started_metadata": METADATA})
    events = run_action(ActionSessionStart(), dispatcher, tracker)
    assert events[0] == SessionStarted()
    assert events[-1] == ActionExecuted("action_listen")
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["order_number"] == "100002" and slots["language"] == "es" and slots["verified"] is True
    assert dispatcher.messages == []


def test_session_start_carries_over_known_slots(dispatcher, make_tracker, run_action) -> None:
    tracker = make_tracker(
        {"session_started_metadata": {"channel": "webchat"}, "email": "old@example.com", "language": "en",
         "verified": True}
    )
    events = run_action(ActionSessionStart(), dispatcher, tracker)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"email": "old@example.com", "language": "en", "verified": True, "channel": "webchat",
                     "tone": "tuteo"}


def test_default_guess_is_replaced_once_the_customer_tells(read_turn) -> None:
    guessed = read_turn({"language": "es"}, "where is my order", earlier=[({}, "100002")])
    assert guessed == {"language": "en"}
    told = read_turn({"language": "es"}, "order, thanks", earlier=[({}, "hola")])
    assert told == {}  # too short to switch
    switched = read_turn({"language": "es"}, "oi, quero falar com um atendente", earlier=[({"language": "es"}, "hola")])
    assert switched == {"language": "pt"}
    from_metadata = read_turn({"language": "es"}, "hello", earlier=[({"language": "es"}, "ok")])
    assert from_metadata == {}
