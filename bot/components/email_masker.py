"""Hides the letters of an email address from the intent classifier: every email token becomes `__email__`.

Without it the character n-grams of an address decide the intent ("soy cliente, mi correo es ana.lopez@…" read as
an account update because an update example had that name). Only the tokens change: the message text, and so the
regex entities and the regex features (which match on the text), keep the address. Digits are already replaced by
CountVectorsFeaturizer (`__NUMBER__`), so phone numbers need nothing here.
"""
from __future__ import annotations

import re
from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.stateless import StatelessComponent

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
PLACEHOLDER = "__email__"


def mask_email_tokens(message: Message) -> None:
    """Replaces, in place, the text of every token of the message's text that holds an email address."""
    for token in message.get(TOKENS_NAMES[TEXT]) or []:
        if EMAIL.search(token.text):
            token.text = PLACEHOLDER
            token.lemma = PLACEHOLDER


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class EmailMasker(StatelessComponent):
    """Runs right after the tokenizer, before every featurizer (see config.yml)."""

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Masks the training examples as parsed messages will be."""
        for example in training_data.training_examples:
            mask_email_tokens(example)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Masks each message being parsed."""
        for message in messages:
            mask_email_tokens(message)
        return messages
