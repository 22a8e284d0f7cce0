"""Callbacks the customer asks for, the assistant's side: when (a window choice) and, if no phone is known, where.

The service books the call: it reads the choice against business hours, queues it for the team and tells the
customer the day and times. The assistant's part ends with one custom payload,
`{"callback": {"window": "asap" | "afternoon" | "tomorrow_morning", "phone": "<as told>"?}}`.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.operations import default_region
from actions.replies import ask, callback_window_titles, pick_language, reply
from actions.update_account import normalize_phone

WINDOWS = ("asap", "afternoon", "tomorrow_morning")
# What a customer writes for each choice (the regex entity `callback_window` finds these phrases in free text).
PHRASES = (
    ("tomorrow_morning", re.compile(r"ma(n|ñ)ana\s+(por|en)\s+la\s+ma(n|ñ)ana|ma(n|ñ)ana\s+temprano|tomorrow\s+morning|"
                                    r"first\s+thing\s+tomorrow|"
                                    r"amanh(a|ã)\s+(cedo|de\s+manh(a|ã)|pela\s+manh(a|ã)|logo\s+cedo)",
                                    re.IGNORECASE)),
    ("afternoon", re.compile(r"(por|en)\s+la\s+tarde|esta\s+tarde|this\s+afternoon|later\s+today|"
                             r"in\s+the\s+afternoon|\b(à|a|de|pela)\s+tarde|hoje\s+mais\s+tarde", re.IGNORECASE)),
    ("asap", re.compile(r"lo\s+(antes|m(a|á)s\s+pronto)\s+posible|lo\s+m(a|á)s\s+pronto|cuanto\s+antes|ya\s+mismo|"
                        r"asap|as\s+soon\s+as\s+(possible|you\s+can)|right\s+away|o\s+quanto\s+antes|"
                        r"o\s+mais\s+(r(a|á)pido|cedo)|assim\s+que\s+(puder|poss(i|í)vel)|agora\s+mesmo",
                        re.IGNORECASE)),
)


def window_choice(value: Any) -> Optional[str]:
    """A button's value as it is, or the choice a phrase the customer wrote stands for; None if neither."""
    text = str(value or "").strip()
    if text in WINDOWS:
        return text
    return next((choice for choice, pattern in PHRASES if pattern.search(text)), None)


def missing_for_callback(window: Any, phone: Any) -> List[str]:
    """What the callback form still needs: the window, then a phone unless one is known."""
    needed = [] if window_choice(window) else ["callback_window"]
    return needed + ([] if str(phone or "").strip() else ["phone"])


def callback_request(window: Any, phone: Any) -> Optional[Dict[str, str]]:
    """The payload for the service, or None while the window is unknown."""
    choice = window_choice(window)
    if choice is None:
        return None
    told = str(phone or "").strip()
    return {"window": choice, "phone": told} if told else {"window": choice}


class ActionAskCallbackWindow(Action):
    """When should we call: one button per choice (digits on the phone), free text understood too."""

    def name(self) -> Text:
        return "action_ask_callback_window"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        language = pick_language(tracker.get_slot("language"))
        buttons = [{"title": title, "payload": f'/request_callback{{"callback_window":"{value}"}}'}
                   for value, title in callback_window_titles(language).items()]
        dispatcher.utter_message(text=reply("ask_callback_window", language), buttons=buttons)
        return []


class ActionAskCallbackPhone(Action):
    """The callback form's question for the number, marked as asking for the phone."""

    def name(self) -> Text:
        return "action_ask_callback_form_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        ask(dispatcher, "ask_callback_phone", tracker.get_slot("language"), "phone")
        return []


class ValidateCallbackForm(FormValidationAction):
    """The window as a choice; a phone only when none is known, and one that can be dialled."""

    def name(self) -> Text:
        return "validate_callback_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        return missing_for_callback(tracker.get_slot("callback_window"), tracker.get_slot("phone"))

    def validate_callback_window(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"callback_window": window_choice(value)}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if normalize_phone(value, default_region()) is None:
            dispatcher.utter_message(text=reply("invalid_phone", tracker.get_slot("language"), value=value))
            return {"phone": None}
        return {"phone": value}


class ActionRequestCallback(Action):
    """The window and phone are known: one custom payload for the service, no text (the service confirms)."""

    def name(self) -> Text:
        return "action_request_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        request = callback_request(tracker.get_slot("callback_window"), tracker.get_slot("phone"))
        if request is None:  # emptied since the form: ask again rather than book nothing
            await ActionAskCallbackWindow().run(dispatcher, tracker, domain)
            return []
        dispatcher.utter_message(json_message={"callback": request})
        return [SlotSet("callback_window", None)]
