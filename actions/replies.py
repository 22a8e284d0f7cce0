"""Customer-facing texts said by custom actions, in Spanish and English (rule-driven ones live in domain.yml)."""
from __future__ import annotations

from typing import Any, Dict

from rasa_sdk.executor import CollectingDispatcher

from actions.operations import SUPPORTED_LANGUAGES, default_language

REPLIES: Dict[str, Dict[str, str]] = {
    "ask_order_number": {
        "es": "Claro 🙂 ¿Me compartes tu número de pedido? Son 6 dígitos, por ejemplo 100002.",
        "en": "Sure 🙂 What's your order number? It has 6 digits, for example 100002.",
    },
    "order_processing": {
        "es": "Tu pedido {number} está en preparación. Te avisaremos cuando salga a entrega.",
        "en": "Your order {number} is being prepared. We'll let you know when it ships.",
    },
    "order_shipped": {
        "es": "Tu pedido {number} ya fue enviado 🚚 Puedes seguirlo aquí: {tracking_url}",
        "en": "Your order {number} has shipped 🚚 You can track it here: {tracking_url}",
    },
    "order_delivered": {
        "es": "Tu pedido {number} fue entregado el {date}.",
        "en": "Your order {number} was delivered on {date}.",
    },
    "order_delayed": {
        "es": "Tu pedido {number} viene con retraso 😕 La nueva fecha estimada de entrega es {eta}. Disculpa la molestia.",
        "en": "Your order {number} is delayed 😕 The new estimated delivery date is {eta}. Sorry about that.",
    },
    "order_cancelled": {
        "es": "Tu pedido {number} fue cancelado. Si no reconoces la cancelación, escribe 'asesor' y te atiende una persona.",
        "en": "Your order {number} was canceled. If you don't recognize this, type 'agent' and a person will help you.",
    },
    "order_not_found": {
        "es": "No encuentro el pedido {number}. Revisa el número (6 dígitos, viene en tu correo de confirmación) y mándamelo de nuevo.",
        "en": "I can't find order {number}. Please check the number (6 digits, it's in your confirmation email) and send it again.",
    },
    "order_backend_down": {
        "es": "Ahorita no puedo consultar pedidos 😓 Intenta en unos minutos.",
        "en": "I can't check orders right now 😓 Please try again in a few minutes.",
    },
    "commitment": {
        "es": "Tu asesor se comprometió a: «{text}» para el {date}.",
        "en": "Your agent committed to: “{text}” by {date}.",
    },
    "commitment_overdue": {
        "es": "Tu asesor se comprometió a: «{text}» para el {date}. Esa fecha ya pasó, lo siento mucho 😕",
        "en": "Your agent committed to: “{text}” by {date}. That date has passed, I'm very sorry 😕",
    },
    "commitment_one_more": {
        "es": "Tienes 1 compromiso más pendiente.",
        "en": "You have 1 more pending commitment.",
    },
    "commitment_more": {
        "es": "Tienes {count} compromisos más pendientes.",
        "en": "You have {count} more pending commitments.",
    },
    "no_commitment": {
        "es": "No veo ningún compromiso pendiente a tu nombre.",
        "en": "I don't see any pending commitment on your record.",
    },
    "ask_account_field": {
        "es": "¿Qué dato quieres actualizar: correo, teléfono o dirección de envío?",
        "en": "What would you like to update: email, phone or shipping address?",
    },
    "ask_new_value_email": {
        "es": "¿Cuál es tu nuevo correo?",
        "en": "What's your new email address?",
    },
    "ask_new_value_phone": {
        "es": "¿Cuál es tu nuevo número de teléfono? (con lada, por ejemplo 55 1234 5678)",
        "en": "What's your new phone number? (with area code, e.g. +1 415 555 0100)",
    },
    "ask_new_value_address": {
        "es": "¿Cuál es tu nueva dirección de envío? (calle, número, colonia, ciudad y código postal)",
        "en": "What's your new shipping address? (street, number, city and postal code)",
    },
    "invalid_email": {
        "es": "Mmm, '{value}' no parece un correo válido. Revísalo por favor (ejemplo: nombre@correo.com).",
        "en": "Hmm, '{value}' doesn't look like a valid email. Please check it (e.g. name@example.com).",
    },
    "invalid_phone": {
        "es": "Mmm, '{value}' no parece un teléfono válido. Mándalo con lada, por ejemplo 55 1234 5678.",
        "en": "Hmm, '{value}' doesn't look like a valid phone number. Please include the area code, e.g. +1 415 555 0100.",
    },
    "invalid_address": {
        "es": "Necesito la dirección completa: calle, número, ciudad y código postal.",
        "en": "I need the full address: street, number, city and postal code.",
    },
    "account_updated": {
        "es": "Listo ✅ Actualicé tu {field_name}: {value}",
        "en": "Done ✅ I updated your {field_name}: {value}",
    },
    "account_backend_down": {
        "es": "Ahorita no puedo actualizar tus datos 😓 Intenta en unos minutos o pide hablar con un asesor.",
        "en": "I can't update your details right now 😓 Please try again in a few minutes or ask for an agent.",
    },
    "handoff": {
        "es": "Te comunico con una persona del equipo de {team}. Seguirá la conversación aquí mismo y ya tendrá todo lo que me contaste, no tienes que repetir nada.",
        "en": "I'm passing you to a person from our {team} team. They'll continue right here and will already have everything you told me, so you won't need to repeat yourself.",
    },
    "handoff_verification": {
        "es": "Por seguridad, para cambiar datos de tu cuenta necesitamos verificar tu identidad. Te comunico con una persona del equipo de {team}; seguirá aquí mismo y no tienes que repetir nada.",
        "en": "For your security, changing account details needs an identity check. I'm passing you to a person from our {team} team; they'll continue right here and you won't need to repeat anything.",
    },
    "ask_callback_window": {
        "es": "Claro, te llamamos 📞 ¿Cuándo te queda mejor?",
        "en": "Sure, we'll call you 📞 When suits you best?",
    },
    "ask_callback_phone": {
        "es": "¿A qué número te llamamos? (con lada, por ejemplo 55 1234 5678)",
        "en": "What number should we call? (with the area code, e.g. +1 415 555 0100)",
    },
    "ask_phone_for_code": {
        "es": "Para confirmar que eres tú, ¿me compartes el número de teléfono con el que nos escribes por WhatsApp? (con lada, por ejemplo 55 1234 5678)",
        "en": "To confirm it's you, what's the phone number you use with us on WhatsApp? (with the area code, e.g. +1 415 555 0100)",
    },
    "verification_declined": {
        "es": "De acuerdo, seguimos sin verificar. ¿En qué te puedo ayudar?",
        "en": "All right, we'll carry on without verifying. How can I help you?",
    },
}

FIELD_NAMES: Dict[str, Dict[str, str]] = {
    "email": {"es": "correo", "en": "email"},
    "phone": {"es": "teléfono", "en": "phone number"},
    "address": {"es": "dirección de envío", "en": "shipping address"},
}


def pick_language(value: Any) -> str:
    """A supported language code, or the operations default when unknown."""
    return value if value in SUPPORTED_LANGUAGES else default_language()


def reply(key: str, language: Any, **values: Any) -> str:
    """The text for `key` in the customer's language, with values filled in."""
    return REPLIES[key][pick_language(language)].format(**values)


def ask(dispatcher: CollectingDispatcher, key: str, language: Any, fact: str) -> None:
    """Utters the question `key` marked with the fact it asks for (`{"asked": fact}`): the service counts asking
    for a fact the customer already gave as a re-ask."""
    dispatcher.utter_message(text=reply(key, language), json_message={"asked": fact})
