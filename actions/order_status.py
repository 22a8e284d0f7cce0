"""Order status: the order form's question and validation, and the answer from the OrderBackend."""
from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend_http import BackendUnavailable
from actions.orders import Order, OrderBackend, normalize_order_number, order_backend_from_env
from actions.replies import ask, pick_language, reply
from actions.session import NOTIFICATION_SLOT, metadata_notification, notified_order

logger = logging.getLogger(__name__)
MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre")
MONTHS_PT = ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro",
             "novembro", "dezembro")
# Languages that write a day as "15 de enero de 2026": their month names.
MONTHS_BY_LANGUAGE = {"es": MONTHS_ES, "pt": MONTHS_PT}


def format_date(value: Optional[str], language: str) -> str:
    """ISO date → "15 de enero de 2026" / "15 de janeiro de 2026" / "January 15, 2026" (else as it is)."""
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    if language in MONTHS_BY_LANGUAGE:
        return f"{day.day} de {MONTHS_BY_LANGUAGE[language][day.month - 1]} de {day.year}"
    return f"{day.strftime('%B')} {day.day}, {day.year}"


def describe_order(order: Order, language: str) -> str:
    """The customer-facing sentence for one order."""
    values = {
        "number": order.number,
        "tracking_url": order.tracking_url or "",
        "date": format_date(order.delivered_on, language),
        "eta": format_date(order.eta, language),
    }
    key = f"order_{order.status}" if f"order_{order.status}" in {
        "order_processing", "order_shipped", "order_delivered", "order_delayed", "order_cancelled"
    } else "order_processing"
    return reply(key, language, **values)


class ActionAskOrderNumber(Action):
    """The order form's question, in the customer's language."""

    def name(self) -> Text:
        return "action_ask_order_number"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        ask(dispatcher, "ask_order_number", tracker.get_slot("language"), "order_number")
        return []


class ValidateOrderForm(FormValidationAction):
    """Keeps only well-formed 6-digit order numbers ("#100002" → "100002")."""

    def name(self) -> Text:
        return "validate_order_form"

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Normalizes the number; an unusable one is cleared so the form asks again."""
        return {"order_number": normalize_order_number(value)}


class ActionOrderStatus(Action):
    """Looks the order up and tells the customer; records the outcome in `order_lookup` for the dialogue."""

    def __init__(self, backend: Optional[OrderBackend] = None) -> None:
        self._backend = backend

    def name(self) -> Text:
        return "action_order_status"

    @property
    def backend(self) -> OrderBackend:
        """The injected backend (tests) or the one configured by the environment."""
        return self._backend or order_backend_from_env()

    @staticmethod
    def notified(tracker: Tracker) -> Optional[str]:
        """The order of the last notification sent on the case (the slot, else this message's metadata): the
        customer who answers "¿cuándo llega?" to "tu pedido salió" means that one."""
        remembered = notified_order(tracker.get_slot(NOTIFICATION_SLOT))
        return remembered or notified_order(metadata_notification((tracker.latest_message or {}).get("metadata")))

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        language = pick_language(tracker.get_slot("language"))
        number = normalize_order_number(tracker.get_slot("order_number") or self.notified(tracker))
        if not number:
            ask(dispatcher, "ask_order_number", language, "order_number")
            return [SlotSet("order_number", None), SlotSet("order_lookup", "not_found")]
        try:
            order = await asyncio.to_thread(self.backend.get_order, number)
        except BackendUnavailable as exc:
            logger.warning("order backend unavailable: %s", exc)
            dispatcher.utter_message(text=reply("order_backend_down", language))
            return [SlotSet("order_lookup", "unavailable")]
        if order is None:
            dispatcher.utter_message(text=reply("order_not_found", language, number=number))
            return [SlotSet("order_number", None), SlotSet("order_lookup", "not_found")]
        dispatcher.utter_message(text=describe_order(order, language))
        return [SlotSet("order_lookup", "found")]
