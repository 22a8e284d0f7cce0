"""Reads from a message's metadata whether the service has verified the customer, before any policy predicts.

`verified` decides rules (an account update needs a verified customer), so it must be set by action_extract_slots,
before the prediction; the other metadata slots influence nothing and come later (bot/components/turn_slots.py).
The entity is added only when the metadata says verified: the slot's `from_entity` mapping then sets it, and a
verification is never taken back by a later message that does not mention it.
"""
from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, METADATA
from rasa.shared.nlu.training_data.message import Message

from actions.session import slots_from_metadata
from bot.components.stateless import StatelessComponent

ENTITY = "verified"


def verified_entity(metadata: Any) -> List[Dict[str, Any]]:
    """The `verified` entity when the metadata proves the customer (slots_from_metadata decides), else none."""
    if not isinstance(metadata, dict) or not slots_from_metadata(metadata)["verified"]:
        return []
    return [{"entity": ENTITY, "value": True, "extractor": VerifiedFromMetadata.__name__}]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class VerifiedFromMetadata(StatelessComponent):
    """Runs after the entity extractors (see config.yml); training examples carry no metadata and are left alone."""

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the entity to each parsed message whose metadata proves the customer."""
        for message in messages:
            found = verified_entity(message.get(METADATA))
            if found:
                message.set(ENTITIES, [*(message.get(ENTITIES) or []), *found], add_to_output=True)
        return messages
