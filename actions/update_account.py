"""Account updates (email, phone, shipping address): the form's questions, validation and the change."""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Dict, List, Optional, Text

import phonenumbers
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.accounts import FIELDS, AccountBackend, account_backend_from_env
from actions.backend_http import BackendUnavailable
from actions.handoff import hand_off
from actions.operations import default_region
from actions.replies import field_name, pick_language, reply

logger = logging.getLogger(__name__)
EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
FIELD_WORDS = {
    "email": ("correo", "email", "e-mail", "mail", "emial", "corre", "gmail", "hotmail"),
    "phone": ("telefono", "teléfono", "tel", "cel", "celular", "phone", "mobile", "cell", "numero", "número",
              "whatsapp", "wsp", "wpp", "telefone", "fone", "zap", "whats"),
    "address": ("direccion", "dirección", "direcion", "domicilio", "address", "envio", "envío", "shipping",
                "calle", "entrega", "endereço", "endereco", "cep", "rua"),
}
WORD = re.compile(r"[\w\-]+", re.UNICODE)


def valid_email(value: Any) -> Optional[str]:
    """The lower-cased address when its syntax is valid, else None."""
    text = str(value or "").strip().strip(".,;").lower()
    return text if EMAIL.match(text) and ".." not in text else None


def normalize_phone(value: Any, region: str = "MX") -> Optional[str]:
    """The number in E.164 (local numbers read in `region`), or None when it is not a valid number."""
    text = str(value or "").strip()
    if not re.search(r"\d{3}", re.sub(r"[\s\-.()]", "", text)):
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


ADDRESS_PREFIX = re.compile(
    r"^(my new (shipping |delivery )?address is|new address:?|it'?s|mi nueva direccion es|"
    r"mi direccion nueva es|la nueva es|nueva direccion:?|es|meu novo endere(c|ç)o (é|e)|novo endere(c|ç)o:?|"
    r"o novo (é|e)|(é|e))\s+",
    re.IGNORECASE,
)


def valid_address(value: Any) -> Optional[str]:
    """A plausible shipping address (long enough, with a number), without "my new address is"."""
    text = ADDRESS_PREFIX.sub("", " ".join(str(value or "").split()))
    return text if len(text) >= 10 and re.search(r"\d", text) and re.search(r"[A-Za-z]{3}", text) else None


def field_from_text(text: Optional[str]) -> Optional[str]:
    """Which account field a message talks about ("mi correo" → email), or None."""
    words = {w.lower() for w in WORD.findall(text or "")}
    for field, keys in FIELD_WORDS.items():
        if words & set(keys):
            return field
    return None


def entity_value(tracker: Tracker, entity: str) -> Optional[str]:
    """The latest message's first value for `entity`."""
    values = list(tracker.get_latest_entity_values(entity))
    return str(values[0]) if values else None


class ActionAskAccountField(Action):
    """Asks which detail to change, with one button per field."""

    def name(self) -> Text:
        return "action_ask_account_field"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        language = pick_language(tracker.get_slot("language"))
        names = [field_name(field, language) for field in FIELDS]
        buttons = [{"title": name[:1].upper() + name[1:], "payload": name} for name in names]
        dispatcher.utter_message(text=reply("ask_account_field", language), buttons=buttons)
        return []


class ActionAskNewValue(Action):
    """Asks for the new email, phone or address."""

    def name(self) -> Text:
        return "action_ask_new_value"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        field = tracker.get_slot("account_field") or "address"
        dispatcher.utter_message(text=reply(f"ask_new_value_{field}", tracker.get_slot("language")))
        return []


class ValidateAccountForm(FormValidationAction):
    """Reads the field and the new value from free text and validates them before anything changes."""

    def name(self) -> Text:
        return "validate_account_form"

    async def extract_account_field(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Field from an email/phone entity or from keywords; only while it is still unknown."""
        if tracker.get_slot("account_field"):
            return {}
        text = (tracker.latest_message or {}).get("text")
        field = field_from_text(text)
        if field is None and entity_value(tracker, "email"):
            field = "email"
        if field is None and entity_value(tracker, "phone"):
            field = "phone"
        if field is None and tracker.get_slot("requested_slot") == "account_field":
            return {"account_field": text}  # let validation complain and ask again
        return {"account_field": field} if field else {}

    async def extract_new_value(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The value: an entity of the field's type, or the whole answer once we asked for it."""
        field = tracker.get_slot("account_field")
        if tracker.get_slot("new_value") or field not in FIELDS:
            return {}
        entity = {"email": entity_value(tracker, "email"), "phone": entity_value(tracker, "phone")}.get(field)
        if entity:
            return {"new_value": entity}
        if tracker.get_slot("requested_slot") == "new_value":
            return {"new_value": (tracker.latest_message or {}).get("text")}
        return {}

    def validate_account_field(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Only email, phone and address can be changed here."""
        return {"account_field": value if value in FIELDS else None}

    def validate_new_value(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Email syntax, phone as E.164, address completeness; a bad value is explained and asked again."""
        field = tracker.get_slot("account_field")
        language = tracker.get_slot("language")
        checks = {
            "email": valid_email,
            "phone": lambda v: normalize_phone(v, default_region()),
            "address": valid_address,
        }
        if field not in checks:
            return {"new_value": None}
        clean = checks[field](value)
        if clean is None:
            dispatcher.utter_message(text=reply(f"invalid_{field}", language, value=value))
        return {"new_value": clean}


class ActionUpdateAccount(Action):
    """Applies the validated change through the AccountBackend, for verified customers only."""

    def __init__(self, backend: Optional[AccountBackend] = None) -> None:
        self._backend = backend

    def name(self) -> Text:
        return "action_update_account"

    @property
    def backend(self) -> AccountBackend:
        """The injected backend (tests) or the one configured by the environment."""
        return self._backend or account_backend_from_env()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        language = pick_language(tracker.get_slot("language"))
        field, value = tracker.get_slot("account_field"), tracker.get_slot("new_value")
        reset: List[EventType] = [SlotSet("account_field", None), SlotSet("new_value", None)]
        customer_id = tracker.get_slot("customer_id")
        if tracker.get_slot("verified") is not True or not customer_id:
            hand_off(dispatcher, tracker, reason="verification_required")
            return reset
        if field not in FIELDS or not value:
            dispatcher.utter_message(text=reply("ask_account_field", language))
            return reset
        try:
            await asyncio.to_thread(self.backend.update, str(customer_id), field, str(value))
        except BackendUnavailable as exc:
            logger.warning("account backend unavailable: %s", exc)
            dispatcher.utter_message(text=reply("account_backend_down", language))
            return reset
        dispatcher.utter_message(
            text=reply("account_updated", language, field_name=field_name(field, language), value=value)
        )
        known = [SlotSet(field, value)] if field in ("email", "phone") else []
        return reset + known
