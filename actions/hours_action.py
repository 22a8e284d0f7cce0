"""Answers "are you open?" from the shared operations file, in the customer's language."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.business_hours import describe, hours_status
from actions.operations import load_operations
from actions.replies import pick_language


class ActionBusinessHours(Action):
    """Open now until …, closed until …, or closed for a holiday or a special closure."""

    def __init__(self, clock: Optional[Callable[[], datetime]] = None) -> None:
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    def name(self) -> Text:
        return "action_business_hours"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        now = self._clock()
        status = hours_status(now, load_operations())
        dispatcher.utter_message(text=describe(status, now, pick_language(tracker.get_slot("language"))))
        return []
