"""Customer-facing texts said by custom actions, one file per language and tone (bot/responses/<variant>.yml, where
the domain's responses are written too): Spanish in the tone of operations.yml's assistant.tone."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Optional

from rasa_sdk.executor import CollectingDispatcher

from actions.operations import REPO_ROOT, SUPPORTED_LANGUAGES, TONES, assistant_tone, default_language
from bot.scripts.responses import VARIANTS, load_variant, variant_name



@lru_cache(maxsize=None)
def _variant(name: str) -> Dict[str, Any]:
    """One variant's texts, read once."""
    return load_variant(name, REPO_ROOT)


def pick_language(value: Any) -> str:
    """A supported language code, or the operations default when unknown."""
    return value if value in SUPPORTED_LANGUAGES else default_language()


def variant(language: Any, tone: Optional[str] = None) -> str:
    """The variant the customer reads: their language and, in Spanish, the configured tone."""
    return variant_name(pick_language(language), tone if tone in TONES else assistant_tone())


def reply(key: str, language: Any, tone: Optional[str] = None, **values: Any) -> str:
    """The text for `key` in the customer's language (and tone), with values filled in."""
    return str(_variant(variant(language, tone))["replies"][key]).format(**values)


def field_name(field: str, language: Any, tone: Optional[str] = None) -> str:
    """What an account field is called in the customer's language ("correo", "e-mail")."""
    return str(_variant(variant(language, tone))["field_names"][field])


def callback_window_titles(language: Any, tone: Optional[str] = None) -> Dict[str, str]:
    """The callback windows' button titles (asap, afternoon, tomorrow_morning) in the customer's language."""
    return dict(_variant(variant(language, tone))["callback_windows"])


def ask(dispatcher: CollectingDispatcher, key: str, language: Any, fact: str) -> None:
    """Utters the question `key` marked with the fact it asks for (`{"asked": fact}`): the service counts asking
    for a fact the customer already gave as a re-ask."""
    dispatcher.utter_message(text=reply(key, language), json_message={"asked": fact})


__all__ = ["VARIANTS", "ask", "callback_window_titles", "field_name", "pick_language", "reply", "variant"]
