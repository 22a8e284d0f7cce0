"""Builds the short agent-facing summary of a handoff (pure: no Rasa import)."""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

WANTS: Dict[str, Dict[str, str]] = {
    "return_request": {"es": "quiere devolver un producto", "en": "wants to return a product"},
    "report_fraud": {"es": "reporta un posible fraude", "en": "reports possible fraud"},
    "complaint": {"es": "tiene una queja", "en": "has a complaint"},
    "request_human": {"es": "pidió hablar con una persona", "en": "asked to talk to a person"},
    "nlu_fallback": {"es": "no fue entendido dos veces seguidas", "en": "was not understood twice in a row"},
    "update_account": {
        "es": "quiere actualizar datos de su cuenta; falta verificar su identidad",
        "en": "wants to update account details; identity not verified",
    },
}
FALLBACK_WANT = {"es": "aceptó que lo atienda una persona", "en": "accepted to be helped by a person"}
KNOWN_LABELS: Dict[str, Dict[str, str]] = {
    "order_number": {"es": "pedido {} conocido", "en": "order {} known"},
    "email": {"es": "correo {}", "en": "email {}"},
    "phone": {"es": "teléfono {}", "en": "phone {}"},
}
LOOKUP = {
    "not_found": {"es": "no encontré su pedido", "en": "order not found"},
    "unavailable": {"es": "el sistema de pedidos no respondió", "en": "order system unavailable"},
}
VERIFIED = {"es": "identidad verificada", "en": "identity verified"}
SAID = {"es": "dijo", "en": "said"}
CUSTOMER = {"es": "Cliente", "en": "Customer"}
MAX_QUOTE = 160


def build_summary(
    intent: Optional[str],
    slots: Mapping[str, Any],
    text: Optional[str],
    summary_language: str = "es",
    reason: Optional[str] = None,
) -> str:
    """E.g. "Cliente (es, webchat) quiere devolver un producto; pedido 100002 conocido; dijo: '...'"."""
    lang = summary_language if summary_language in ("es", "en") else "en"
    who = str(slots.get("customer_name") or CUSTOMER[lang])
    context = ", ".join(str(slots[k]) for k in ("language", "channel") if slots.get(k))
    head = f"{who} ({context})" if context else who
    key = "nlu_fallback" if reason == "repeated_fallback" else intent or ""
    want = WANTS.get(key, FALLBACK_WANT)[lang]
    parts = [f"{head} {want}"]
    parts += [label[lang].format(slots[name]) for name, label in KNOWN_LABELS.items() if slots.get(name)]
    if slots.get("order_lookup") in LOOKUP:
        parts.append(LOOKUP[slots["order_lookup"]][lang])
    if slots.get("verified") is True:
        parts.append(VERIFIED[lang])
    quote = " ".join((text or "").split())
    if quote:
        quote = quote if len(quote) <= MAX_QUOTE else quote[: MAX_QUOTE - 1] + "…"
        parts.append(f"{SAID[lang]}: '{quote}'")
    return "; ".join(parts)
