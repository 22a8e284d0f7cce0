"""Tells Spanish from English so every reply goes out in the customer's language."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.operations import SUPPORTED_LANGUAGES, default_language

MIN_CONFIDENCE = 0.75
# Words that settle the question on their own, even in one- or two-word WhatsApp messages.
MARKERS: Dict[str, frozenset] = {
    "es": frozenset(
        "hola ola buenas buenos dias tardes noches gracias grax muchas porfa xfa porfavor favor q que xq pq "
        "quiero kiero necesito pedido orden compra donde esta mi mis cuando horario horarios abren cierran "
        "cambiar actualizar correo telefono direccion asesor persona humano agente devolver devolucion "
        "reembolso fraude robo queja reclamo pesimo si no nel sip simon claro dale vale listo chau chao adios "
        "nos vemos vos tenes queres sabes oye disculpa ayuda hablar con cuenta tarjeta cobro nada".split()
    ),
    "en": frozenset(
        "hi hello hey thanks thank thx ty please pls plz where is my order orders when open opening hours "
        "close closing change update email phone address agent human person someone representative return "
        "refund fraud stolen complaint complain terrible yes yeah yep yup nope bye goodbye later cya talk to "
        "speak account card charge charged what how can you the help want need".split()
    ),
}
AMBIGUOUS = frozenset("ok okay oki okey k no jaja haha lol".split())
WORD = re.compile(r"[a-zA-Z\u00C0-\u017F]+")


@lru_cache(maxsize=1)
def _lingua() -> Optional[Any]:
    """Builds the lingua detector once, restricted to our two languages (None if not installed)."""
    try:
        from lingua import Language, LanguageDetectorBuilder
    except ImportError:  # pragma: no cover - lingua is in bot/requirements.txt
        return None
    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.SPANISH).build()


def detect_language(text: Optional[str]) -> Optional[str]:
    """"es", "en", or None when the text does not say (e.g. "ok", "100002", an emoji)."""
    words = [w.lower() for w in WORD.findall(text or "")]
    meaningful = [w for w in words if w not in AMBIGUOUS]
    if not meaningful:
        return None
    if any(ch in (text or "") for ch in "ñ¿¡áéíóú"):
        return "es"
    votes = {lang: sum(w in markers for w in meaningful) for lang, markers in MARKERS.items()}
    if votes["es"] != votes["en"] and len(meaningful) <= 3:
        return max(votes, key=lambda k: votes[k])
    detector = _lingua()
    if detector is not None:
        confidences = {c.language.name: c.value for c in detector.compute_language_confidence_values(text)}
        es, en = confidences.get("SPANISH", 0.0), confidences.get("ENGLISH", 0.0)
        if max(es, en) >= MIN_CONFIDENCE:
            return "es" if es > en else "en"
    if votes["es"] != votes["en"]:
        return max(votes, key=lambda k: votes[k])
    return None


def metadata_language(metadata: Optional[Dict[str, Any]]) -> Optional[str]:
    """The language the service already knows: top-level, else the customer profile's."""
    metadata = metadata or {}
    customer = metadata.get("customer") or {}
    for value in (metadata.get("language"), customer.get("language") if isinstance(customer, dict) else None):
        if isinstance(value, str) and value.lower()[:2] in SUPPORTED_LANGUAGES:
            return value.lower()[:2]
    return None


def choose_language(
    current: Optional[str], metadata: Optional[Dict[str, Any]], text: Optional[str], guessed: bool = False
) -> str:
    """Keeps a set language (unless it was only the default guess); else metadata; else the text; else the default."""
    if current in SUPPORTED_LANGUAGES and not guessed:
        return current
    told = metadata_language(metadata) or detect_language(text)
    if told:
        return told
    return current if current in SUPPORTED_LANGUAGES else default_language()


def language_was_guessed(events: List[Dict[str, Any]]) -> bool:
    """True when no earlier user message told the language (so the slot holds only the default)."""
    for event in events:
        if event.get("event") == "user":
            if metadata_language(event.get("metadata")) or detect_language(event.get("text")):
                return False
    return True


class ActionDetectLanguage(Action):
    """Custom slot mapping for `language`, run by action_extract_slots on every user turn."""

    def name(self) -> Text:
        return "action_detect_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        current = tracker.get_slot("language")
        message = tracker.latest_message or {}
        guessed = current is not None and language_was_guessed(tracker.events[:-1] if tracker.events else [])
        language = choose_language(current, message.get("metadata"), message.get("text"), guessed)
        return [] if language == current else [SlotSet("language", language)]
