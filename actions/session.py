"""Fills slots with what the service knows, at session start and on every turn, so the assistant never re-asks it.

At session start: action_session_start. On every user turn, inside Rasa: bot/components/turn_slots.py and
bot/components/verified_entity.py, with the same decisions (refreshed_slots, slots_from_metadata).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.language import metadata_language
from actions.operations import assistant_tone

VERIFYING_KINDS = frozenset({"phone", "whatsapp", "email"})
VERIFIED_CHANNELS = frozenset({"whatsapp", "voice"})
# The service's identity for a caller whose number is withheld: a customer of that call only, offered a code.
WITHHELD_KIND = "call"
CARRIED_SLOTS = ("customer_name", "language", "verified", "phone", "email", "order_number", "channel", "customer_id")
WHO_SLOTS = ("channel", "customer_id", "customer_name")
FACT_SLOTS = ("order_number", "email", "phone")
NOTIFICATION_SLOT = "notification"


def _identity(identities: List[Mapping[str, Any]], kind: str) -> Optional[str]:
    """The value of the first identity of `kind`, preferring verified ones."""
    matches = [i for i in identities if isinstance(i, Mapping) and i.get("kind") == kind and i.get("value")]
    matches.sort(key=lambda i: not i.get("verified"))
    return str(matches[0]["value"]) if matches else None


def metadata_commitments(metadata: Optional[Mapping[str, Any]]) -> Optional[List[Dict[str, Any]]]:
    """The open promises the service sent (text and due time each), or None when the metadata carries no list."""
    found = metadata.get("commitments") if isinstance(metadata, Mapping) else None
    if not isinstance(found, list):
        return None
    return [{"id": item.get("id"), "text": str(item["text"]), "due_at": str(item["due_at"]),
             "case_id": item.get("case_id")}
            for item in found if isinstance(item, Mapping) and item.get("text") and item.get("due_at")]


def metadata_notification(metadata: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """The last notification the business sent on the case (id, template, values by name, sent_as), or None."""
    found = metadata.get("notification") if isinstance(metadata, Mapping) else None
    if not isinstance(found, Mapping) or not found.get("id"):
        return None
    values = found.get("values") if isinstance(found.get("values"), Mapping) else {}
    return {"id": str(found["id"]), "template": found.get("template"), "sent_as": found.get("sent_as"),
            "values": {str(key): str(value) for key, value in values.items() if value not in (None, "")}}


def notified_order(notification: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The order number the last notification spoke of ("tu pedido 100002 salió"), if it named one."""
    values = notification.get("values") if isinstance(notification, Mapping) else None
    found = values.get("order_number") if isinstance(values, Mapping) else None
    return str(found) if found else None


def slots_from_metadata(metadata: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """Maps the service's metadata contract onto slot values (only those it knows, plus `verified`)."""
    metadata = metadata if isinstance(metadata, Mapping) else {}
    customer = metadata.get("customer") if isinstance(metadata.get("customer"), Mapping) else {}
    known = metadata.get("known") if isinstance(metadata.get("known"), Mapping) else {}
    identities = [i for i in customer.get("identities") or [] if isinstance(i, Mapping)]
    channel = metadata.get("channel")
    withheld = any(i.get("kind") == WITHHELD_KIND for i in identities)  # a caller without a caller id proves nothing
    verified = (channel in VERIFIED_CHANNELS and not withheld) or any(
        i.get("verified") is True and i.get("kind") in VERIFYING_KINDS for i in identities
    )
    values: Dict[str, Any] = {
        "channel": channel,
        "customer_id": customer.get("id"),
        "customer_name": customer.get("name"),
        "language": metadata_language(metadata),
        "order_number": known.get("order_number"),
        "email": known.get("email") or _identity(identities, "email"),
        "phone": known.get("phone") or _identity(identities, "phone") or _identity(identities, "whatsapp"),
    }
    slots: Dict[str, Any] = {key: str(value) for key, value in values.items() if value not in (None, "")}
    slots["verified"] = bool(verified)
    commitments = metadata_commitments(metadata)
    if commitments is not None:
        slots["commitments"] = commitments
    notification = metadata_notification(metadata)
    if notification is not None:
        slots[NOTIFICATION_SLOT] = notification
        slots["order_number"] = notified_order(notification) or slots.get("order_number")
        if slots["order_number"] is None:
            del slots["order_number"]
    return slots


def refreshed_slots(
    current: Mapping[str, Any], metadata: Optional[Mapping[str, Any]], told: Iterable[str] = ()
) -> Dict[str, Any]:
    """The slot changes one message's metadata brings mid-session (a case merged after a verification code keeps
    its tracker but writes from another door): the door and the customer, a verification (never taken back),
    and the known facts the conversation lacks, except those the customer tells in this very message. A
    notification the conversation has not seen yet is remembered, and the order it names becomes the order
    spoken of ("¿cuándo llega?" needs no number), unless the customer names one in this message."""
    if not isinstance(metadata, Mapping) or not metadata:
        return {}
    fresh = slots_from_metadata(metadata)
    changes = {key: fresh[key] for key in WHO_SLOTS if key in fresh and fresh[key] != current.get(key)}
    if fresh["verified"] and current.get("verified") is not True:
        changes["verified"] = True
    elif current.get("verified") is None:
        changes["verified"] = False
    if "commitments" in fresh and fresh["commitments"] != current.get("commitments"):
        changes["commitments"] = fresh["commitments"]  # state, not a fact: always the service's latest
    told = set(told)
    notification = fresh.get(NOTIFICATION_SLOT)
    seen = current.get(NOTIFICATION_SLOT)
    if notification is not None and (not isinstance(seen, Mapping) or seen.get("id") != notification["id"]):
        changes[NOTIFICATION_SLOT] = notification
        order = notified_order(notification)
        if order and "order_number" not in told:
            changes["order_number"] = order
    for key in FACT_SLOTS:
        if key in fresh and key not in told and key not in changes and current.get(key) in (None, ""):
            changes[key] = fresh[key]
    return changes


class ActionSessionStart(Action):
    """Fills slots from the session's metadata and carries known facts over from the previous session."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        events: List[EventType] = [SessionStarted()]
        carried = {slot: tracker.get_slot(slot) for slot in CARRIED_SLOTS if tracker.get_slot(slot) is not None}
        fresh = slots_from_metadata(tracker.get_slot("session_started_metadata"))
        if carried.get("verified") and not fresh.get("verified"):
            fresh.pop("verified")  # a verification earlier in this conversation still holds
        merged = {**carried, **fresh, "tone": assistant_tone()}
        events.extend(SlotSet(key, value) for key, value in merged.items())
        events.append(ActionExecuted("action_listen"))
        return events
