"""What an agent promised, quoted back: "¿y mi reembolso?" → the soonest open commitment and its date, from the
service's metadata (the `commitments` slot, refreshed every turn by bot/components/turn_slots.py)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Sequence, Text, Tuple
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.operations import load_operations
from actions.order_status import MONTHS_BY_LANGUAGE
from actions.replies import pick_language, reply

MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


def parse_due(value: Any) -> Optional[datetime]:
    """The service's UTC ISO time ("2026-12-05T18:00:00.000000Z"), aware; None when unreadable."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def due_date(moment: datetime, language: str, zone: str, now: datetime) -> str:
    """The local day it is due: "5 de diciembre" / "December 5" (the year only when it is not this one)."""
    local = moment.astimezone(ZoneInfo(zone))
    year = local.year != now.astimezone(ZoneInfo(zone)).year
    if language in MONTHS_BY_LANGUAGE:
        return f"{local.day} de {MONTHS_BY_LANGUAGE[language][local.month - 1]}" + (f" de {local.year}" if year else "")
    return f"{MONTHS_EN[local.month - 1]} {local.day}" + (f", {local.year}" if year else "")


def commitment_answer(commitments: Optional[Sequence[Mapping[str, Any]]], language: str, zone: str,
                      now: datetime) -> Tuple[List[str], str]:
    """The messages and what was found (found, overdue or none): the soonest open promise quoted as written."""
    readable = [(due, item) for item in commitments or [] if isinstance(item, Mapping) and item.get("text")
                and (due := parse_due(item.get("due_at"))) is not None]
    if not readable:
        return [reply("no_commitment", language)], "none"
    readable.sort(key=lambda pair: pair[0])
    due, first = readable[0]
    found = "overdue" if due <= now else "found"
    key = "commitment_overdue" if found == "overdue" else "commitment"
    messages = [reply(key, language, text=str(first["text"]).strip(), date=due_date(due, language, zone, now))]
    others = len(readable) - 1
    if others == 1:
        messages.append(reply("commitment_one_more", language))
    elif others > 1:
        messages.append(reply("commitment_more", language, count=others))
    return messages, found


class ActionCommitmentStatus(Action):
    """Answers about a promise with the soonest open one; with none on record, the rules offer a person."""

    def name(self) -> Text:
        return "action_commitment_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        language = pick_language(tracker.get_slot("language"))
        zone = str(load_operations().get("timezone") or "UTC")
        messages, found = commitment_answer(tracker.get_slot("commitments"), language, zone,
                                            datetime.now(timezone.utc))
        for text in messages:
            dispatcher.utter_message(text=text)
        return [SlotSet("commitment_lookup", found)]
