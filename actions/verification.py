"""Verification codes, the assistant's side: know a phone or an email, offer a code, hand the service the target.

The service sends the code (WhatsApp, else a call), tells the customer where it went and checks the typed code
itself: the code never reaches the assistant. The assistant's part ends with one custom payload,
`{"verification": {"phone": "<as told>"}}` (or `{"email": …}` when only the email is known).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import hand_off
from actions.replies import ask, reply

IDENTITY_SLOTS = ("phone", "email")


def _told(value: Any) -> Optional[str]:
    """The slot's value as text, or None when empty."""
    text = str(value).strip() if value is not None else ""
    return text or None


def verification_target(phone: Any, email: Any) -> Optional[Dict[str, str]]:
    """What the code is for: the phone when known (the code goes there), else the email; None if neither."""
    if _told(phone):
        return {"phone": str(_told(phone))}
    if _told(email):
        return {"email": str(_told(email))}
    return None


def missing_identity(phone: Any, email: Any) -> List[str]:
    """The slots the verification form still needs: the phone, unless a phone or an email is known."""
    return [] if verification_target(phone, email) else ["phone"]


def declined_outcome(verifying_for: Any) -> str:
    """A refused code ends an account update with people (`handoff`); a claim carries on anonymously."""
    return "handoff" if verifying_for == "account" else "anonymous"


class ActionAskPhone(Action):
    """The verification form's question for the phone, marked as asking for it."""

    def name(self) -> Text:
        return "action_ask_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        ask(dispatcher, "ask_phone_for_code", tracker.get_slot("language"), "phone")
        return []


class ValidateVerificationForm(FormValidationAction):
    """The form is done as soon as a phone or an email is known: it asks only when neither is."""

    def name(self) -> Text:
        return "validate_verification_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        """`phone` while neither identity is known, else nothing (the domain lists both so either fills it)."""
        return missing_identity(tracker.get_slot("phone"), tracker.get_slot("email"))


class ActionSendVerification(Action):
    """The customer accepted a code: one custom payload for the service, no text (the service tells them)."""

    def name(self) -> Text:
        return "action_send_verification"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        target = verification_target(tracker.get_slot("phone"), tracker.get_slot("email"))
        if target is None:  # the slots were emptied since the offer: ask again rather than send nothing
            ask(dispatcher, "ask_phone_for_code", tracker.get_slot("language"), "phone")
            return []
        dispatcher.utter_message(json_message={"verification": target})
        return []


class ActionVerificationDeclined(Action):
    """No code: an account update goes to people (`verification_required`), a claim carries on unverified."""

    def name(self) -> Text:
        return "action_verification_declined"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if declined_outcome(tracker.get_slot("verifying_for")) == "handoff":
            hand_off(dispatcher, tracker, reason="verification_required", intent="update_account")
        else:
            dispatcher.utter_message(text=reply("verification_declined", tracker.get_slot("language")))
        return []
