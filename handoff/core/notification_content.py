"""What a notification says, pure: free text inside the customer's 24-hour WhatsApp window when the caller allows
it, else the approved template; and what the assistant is told of the last one sent on a case (`case.notified`,
passed to Rasa in the turn's metadata so "¿cuándo llega?" after "tu pedido salió" needs no order number)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

FREE_TEXT_LIMIT = 4096  # characters of a WhatsApp text message's body
VALUES_LIMIT = 20  # named values the assistant is given, each as given by the caller
SentAs = Literal["text", "template"]


def content_problem(template: str | None, text: str | None, allow_free_text: bool) -> tuple[str, str] | None:
    """Why the request cannot say anything (the field and the reason), or None: a template, or text the caller
    allowed as free text, or both (the template is the fallback when the window is closed)."""
    if text is not None and not allow_free_text:
        return "allow_free_text", ("text is sent only with allow_free_text: true (free text reaches the customer "
                                   "only inside their 24-hour WhatsApp window)")
    if text is not None and not text.strip():
        return "text", "text is empty"
    if text is not None and len(text) > FREE_TEXT_LIMIT:
        return "text", f"text is longer than WhatsApp's {FREE_TEXT_LIMIT} characters"
    if template is None and text is None:
        return "template", "give a template (notifications.templates), or text with allow_free_text: true"
    return None


def sent_as(has_template: bool, free_text: bool, window_open: bool) -> SentAs | None:
    """Free text while the customer's window is open, else the template when one was given; None: nothing may go
    (free text only, window closed)."""
    if free_text and window_open:
        return "text"
    return "template" if has_template else None


def assistant_context(notification_id: str, template: str | None, names: Sequence[str], parameters: Sequence[str],
                      named: Mapping[str, str], how: SentAs, sent_at: datetime) -> dict[str, Any]:
    """The last notification as the assistant reads it: which template (None for free text), its values by name
    (the template's parameters, or the caller's `values` for free text), how it went and when. Never the text."""
    values = dict(zip(names, parameters, strict=False)) if how == "template" and names else {}
    for key, value in list(named.items())[:VALUES_LIMIT]:
        values.setdefault(str(key), str(value))
    return {"id": notification_id, "template": template, "values": values, "sent_as": how,
            "sent_at": sent_at.isoformat()}
