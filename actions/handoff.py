"""Hands the case to people: tells the customer what happens next, then emits the handoff payload."""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.operations import default_language, load_operations, team_for_intent
from actions.replies import pick_language, reply
from actions.summary import build_summary

COMPLEX_INTENTS = frozenset({"return_request", "report_fraud", "complaint"})
HANDOFF_SLOTS = (
    "customer_id", "customer_name", "language", "channel", "verified", "order_number",
    "email", "phone", "account_field", "order_lookup",
)


def handoff_reason(intent: Optional[str], verified: Any = None) -> str:
    """Maps the triggering intent onto the service's reason vocabulary."""
    if intent in COMPLEX_INTENTS:
        return "complex_intent"
    if intent == "nlu_fallback":
        return "repeated_fallback"
    if intent == "update_account" and verified is not True:
        return "verification_required"
    return "explicit_request"


def collected_slots(tracker: Tracker) -> Dict[str, Any]:
    """The non-empty slots an agent should see."""
    values = {name: tracker.get_slot(name) for name in HANDOFF_SLOTS}
    return {name: value for name, value in values.items() if value not in (None, "", [])}


def team_name(team: str, language: str, ops: Mapping[str, Any]) -> str:
    """The team's display name in the customer's language (its key when unnamed)."""
    name = ((ops.get("teams") or {}).get(team) or {}).get("name") or team
    return str(name.get(language) or team) if isinstance(name, Mapping) else str(name)


def build_handoff(tracker: Tracker, reason: Optional[str] = None, intent: Optional[str] = None) -> Dict[str, Any]:
    """The custom payload the service turns into a handoff row and routes.

    `intent` names what the customer wanted when the latest message only answered a question (a "no" to a code
    offered for an account update is an account update, not a deny)."""
    message = tracker.latest_message or {}
    parsed = message.get("intent") or {}
    intent_name = intent or parsed.get("name")
    slots = collected_slots(tracker)
    reason = reason or handoff_reason(intent_name, tracker.get_slot("verified"))
    ops = load_operations()
    team_intent = "update_account" if reason == "verification_required" else intent_name
    return {
        "reason": reason,
        "intent": intent_name,
        "confidence": round(float(parsed.get("confidence") or 0.0), 4),
        "summary": build_summary(intent_name, slots, message.get("text"), default_language(ops), reason),
        "slots": slots,
        "team": team_for_intent(team_intent, ops),
    }


def hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: Optional[str] = None, intent: Optional[str] = None
) -> Dict[str, Any]:
    """Utters the customer text, then the payload; returns the payload for callers and tests."""
    payload = build_handoff(tracker, reason, intent)
    language = pick_language(tracker.get_slot("language"))
    key = "handoff_verification" if payload["reason"] == "verification_required" else "handoff"
    dispatcher.utter_message(text=reply(key, language, team=team_name(payload["team"], language, load_operations())))
    dispatcher.utter_message(json_message={"handoff": payload})
    return payload


class ActionHandoff(Action):
    """Hands off for an explicit request, a complex intent, repeated fallback or missing verification."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        hand_off(dispatcher, tracker)
        return []
