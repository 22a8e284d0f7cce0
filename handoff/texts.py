"""What the service itself says to customers, in each language it speaks."""
from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "bot_unavailable": {
        "es": "Recibimos tu mensaje. Nuestro asistente no esta disponible en este momento, "
              "asi que una persona del equipo te respondera aqui mismo. No necesitas repetir nada.",
        "en": "We got your message. Our assistant is not available right now, so a person from our team "
              "will answer you right here. You don't need to repeat anything.",
    },
    "rate_limited": {
        "es": "Estas enviando mensajes muy rapido. Espera unos segundos e intentalo de nuevo.",
        "en": "You are sending messages too fast. Please wait a few seconds and try again.",
    },
    "message_too_large": {
        "es": "Tu mensaje es demasiado largo (maximo {limit} caracteres).",
        "en": "Your message is too long (at most {limit} characters).",
    },
    "invalid_message": {
        "es": "No pudimos leer ese mensaje.",
        "en": "We could not read that message.",
    },
}


def text(key: str, language: str, **values: object) -> str:
    """The text in `language`, falling back to Spanish, our first market's language."""
    variants = TEXTS[key]
    return variants.get(language, variants["es"]).format(**values)
