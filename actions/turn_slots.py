"""One action server call per user turn for every custom slot mapping, instead of one per action named.

Rasa's action_extract_slots calls the action server once for each distinct action the slot mappings name, each
call carrying the whole tracker; the language and the service's metadata were two calls a turn. Both read the
same tracker (the message just received), so running them in one call changes no slot.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.language import ActionDetectLanguage
from actions.session import ActionRefreshFromMetadata


class ActionReadTurn(Action):
    """Custom slot mapping of `language` and the metadata slots: detects the language, then reads the metadata."""

    def name(self) -> Text:
        return "action_read_turn"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        events: List[Dict[Text, Any]] = []
        for action in (ActionDetectLanguage(), ActionRefreshFromMetadata()):
            events.extend(await action.run(dispatcher, tracker, domain))
        return events
