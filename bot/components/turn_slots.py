"""Fills the turn's slots inside Rasa (language, the service's metadata, the tone) instead of an action server call.

A custom slot mapping costs Rasa an HTTP call to the action server on every user turn, with the whole tracker
serialised, its answer checked against a JSON schema and a new HTTP session: about a third of a simple turn's CPU.
These slots influence no prediction, so a policy that never predicts an action can set them: Rasa applies a policy's
mandatory `events` to the tracker before the predicted action runs, whichever policy wins (PolicyPrediction.events).
`verified`, which rules read, comes earlier, from the NLU pipeline (bot/components/verified_entity.py).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from actions.language import EarlierMessage, turn_language, warm_up
from actions.operations import assistant_tone
from actions.session import FACT_SLOTS, NOTIFICATION_SLOT, WHO_SLOTS, refreshed_slots

READ_SLOTS = ("language", "tone", *WHO_SLOTS, "verified", "commitments", NOTIFICATION_SLOT, *FACT_SLOTS)


def read_turn(
    slots: Mapping[str, Any],
    text: Optional[str],
    metadata: Optional[Dict[str, Any]],
    told: Iterable[str],
    earlier: Iterable[EarlierMessage],
    tone: str,
) -> Dict[str, Any]:
    """The slot changes one user message brings: its language, what the service's metadata says, the tone."""
    changes: Dict[str, Any] = {}
    language = turn_language(slots.get("language"), metadata, text, earlier)
    if language is not None:
        changes["language"] = language
    changes.update(refreshed_slots(slots, metadata, told))
    if slots.get("tone") != tone:
        changes["tone"] = tone  # operations.yml is re-read when it changes: a new tone applies on the next turn
    return changes


def unanswered_message(tracker: DialogueStateTracker) -> Optional[UserUttered]:
    """The user message no action has followed yet: the turn's first prediction (a rejected form counts as none)."""
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted):
            return None
        if isinstance(event, UserUttered):
            return event
    return None


def earlier_messages(tracker: DialogueStateTracker, latest: UserUttered) -> Iterator[EarlierMessage]:
    """The metadata and text of the session's user messages before `latest`."""
    return ((event.metadata, event.text) for event in tracker.events
            if isinstance(event, UserUttered) and event is not latest)


def turn_events(tracker: DialogueStateTracker) -> List[SlotSet]:
    """The SlotSets of the message awaiting its first action; none on the turn's later predictions."""
    message = unanswered_message(tracker)
    if message is None:
        return []
    told = {str(entity.get("entity")) for entity in message.entities or [] if isinstance(entity, Mapping)}
    changes = read_turn({name: tracker.get_slot(name) for name in READ_SLOTS}, message.text, message.metadata,
                        told, earlier_messages(tracker, message), assistant_tone())
    return [SlotSet(name, value) for name, value in changes.items()]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class TurnSlotsPolicy(Policy):
    """Predicts no action (all zeros, so another policy always wins); its prediction carries the turn's SlotSets."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The lowest priority: it should never win even a tie."""
        return {**Policy.get_default_config(), "priority": 0}

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> Policy:
        """Policy.load, with the language detector's models loaded before the first turn instead of inside it."""
        warm_up()
        return super().load(config, model_storage, resource, execution_context, **kwargs)

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Nothing to learn."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """No action's probability, and the slots the turn's message fills as mandatory events."""
        return PolicyPrediction([0.0] * domain.num_actions, self.__class__.__name__, self.priority,
                                events=turn_events(tracker))
