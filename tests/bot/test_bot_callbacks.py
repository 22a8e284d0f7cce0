"""Callbacks the customer asks for, the assistant's side: the window question, phrases read as choices, the form's
end, the payload to the service."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk.events import SlotSet

from actions.callbacks import (
    ActionAskCallbackPhone,
    ActionAskCallbackWindow,
    ActionRequestCallback,
    ValidateCallbackForm,
    callback_request,
    missing_for_callback,
    window_choice,
)

DOMAIN = {
    "forms": {"callback_form": {"required_slots": ["callback_window", "phone"]}},
    "slots": {name: {"type": "text"} for name in ("callback_window", "phone", "language", "verified")},
}


@pytest.mark.parametrize(
    "said,choice",
    [("asap", "asap"), ("afternoon", "afternoon"), ("tomorrow_morning", "tomorrow_morning"),
     ("mañana por la mañana", "tomorrow_morning"), ("manana en la manana", "tomorrow_morning"),
     ("mañana temprano", "tomorrow_morning"), ("Tomorrow Morning", "tomorrow_morning"),
     ("esta tarde", "afternoon"), ("por la tarde", "afternoon"), ("later today", "afternoon"),
     ("lo antes posible", "asap"), ("lo más pronto posible", "asap"), ("cuanto antes", "asap"),
     ("as soon as possible", "asap"), ("right away", "asap"),
     ("amanhã cedo", "tomorrow_morning"), ("amanha de manha", "tomorrow_morning"), ("hoje à tarde", "afternoon"),
     ("me liga de tarde", "afternoon"), ("o quanto antes", "asap"), ("assim que puder", "asap"),
     ("para tarde", None), ("boa tarde", None),
     ("buenas tardes", None), ("mañana", None), ("", None), (None, None), ("tonight", None)],
)
def test_what_the_customer_says_is_read_as_a_window_choice(said: Any, choice: str | None) -> None:
    assert window_choice(said) == choice


def test_the_form_needs_a_window_then_a_phone_unless_known() -> None:
    assert missing_for_callback(None, None) == ["callback_window", "phone"]
    assert missing_for_callback("esta tarde", None) == ["phone"]
    assert missing_for_callback("tarde", "+525512345678") == ["callback_window"]
    assert missing_for_callback("asap", "55 1234 5678") == []
    assert callback_request("mañana temprano", " 55 1234 5678 ") == {"window": "tomorrow_morning",
                                                                     "phone": "55 1234 5678"}
    assert callback_request("asap", None) == {"window": "asap"}
    assert callback_request("whenever", "5512345678") is None


@pytest.mark.parametrize(
    "language,text,titles",
    [("es", "Claro, te llamamos 📞 ¿Cuándo te queda mejor?",
      ["Lo antes posible", "Hoy por la tarde", "Mañana por la mañana"]),
     ("en", "Sure, we'll call you 📞 When suits you best?", ["As soon as possible", "This afternoon",
                                                            "Tomorrow morning"])],
)
def test_the_window_question_has_one_button_per_choice(dispatcher, make_tracker, run_action, language: str,
                                                       text: str, titles: list[str]) -> None:
    run_action(ActionAskCallbackWindow(), dispatcher, make_tracker({"language": language}))
    [message] = dispatcher.messages
    assert message["text"] == text
    assert [button["title"] for button in message["buttons"]] == titles
    assert [button["payload"] for button in message["buttons"]] == [
        '/request_callback{"callback_window":"asap"}', '/request_callback{"callback_window":"afternoon"}',
        '/request_callback{"callback_window":"tomorrow_morning"}']


def test_the_phone_question_is_marked_as_asking_for_the_phone(dispatcher, make_tracker, run_action) -> None:
    run_action(ActionAskCallbackPhone(), dispatcher, make_tracker({"language": "es"}))
    [message] = dispatcher.messages
    assert message["text"].startswith("¿A qué número te llamamos?")
    assert message["custom"] == {"asked": "phone"}


def _form(dispatcher: Any, make_tracker: Any, slots: dict[str, Any], **latest: Any) -> list[Any]:
    tracker = make_tracker(slots, active_loop="callback_form", **latest)
    return asyncio.run(ValidateCallbackForm().run(dispatcher, tracker, DOMAIN))


def test_the_form_reads_the_window_and_checks_the_phone(dispatcher, make_tracker) -> None:
    known_phone = _form(dispatcher, make_tracker, {"language": "es", "phone": "+525512345678"})
    assert known_phone == [SlotSet("requested_slot", "callback_window")]
    done = _form(dispatcher, make_tracker, {"callback_window": "afternoon", "phone": "+525512345678"})
    assert done == [SlotSet("requested_slot", None)]
    form, tracker = ValidateCallbackForm(), make_tracker({"language": "en"}, "12", "update_account")
    assert form.validate_callback_window("esta tarde", dispatcher, tracker, DOMAIN) == {"callback_window": "afternoon"}
    assert form.validate_callback_window("buenas tardes", dispatcher, tracker, DOMAIN) == {"callback_window": None}
    assert form.validate_phone("55 1234 5678", dispatcher, tracker, DOMAIN) == {"phone": "55 1234 5678"}
    assert dispatcher.messages == []
    assert form.validate_phone("12", dispatcher, tracker, DOMAIN) == {"phone": None}
    assert dispatcher.messages[-1]["text"].startswith("Hmm, '12' doesn't look like a valid phone number")


def test_a_known_window_is_one_payload_and_no_text(dispatcher, make_tracker, run_action) -> None:
    events = run_action(ActionRequestCallback(), dispatcher,
                        make_tracker({"language": "es", "callback_window": "tomorrow_morning",
                                      "phone": "55 1234 5678"}))
    assert events == [SlotSet("callback_window", None)]  # the next request asks again
    [message] = dispatcher.messages
    assert message["custom"] == {"callback": {"window": "tomorrow_morning", "phone": "55 1234 5678"}}
    assert not message["text"] and not message["buttons"]


def test_no_window_known_asks_again(dispatcher, make_tracker, run_action) -> None:
    assert run_action(ActionRequestCallback(), dispatcher, make_tracker({"language": "en"})) == []
    [message] = dispatcher.messages
    assert message["text"] == "Sure, we'll call you 📞 When suits you best?" and len(message["buttons"]) == 3
