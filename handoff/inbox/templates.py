"""Approved WhatsApp templates from the inbox: those offered on a case, prefilled from it, and the message an
agent's choice makes (pure; the routes read the case and its window, InboxActions sends)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handoff.channels.whatsapp.outbound import template_message
from handoff.channels.whatsapp.window import Template, language_first
from handoff.core.messages import OutboundMessage, TemplateUnavailable
from handoff.inbox.actions import InboxError


def offers(templates: list[Template], language: str, values: Mapping[str, object]) -> list[dict[str, Any]]:
    """Every approved template, the customer's language first, each parameter with the case's value (or empty)."""
    return [{"name": template.name, "language": template.language, "body": template.body,
             "parameters": [{"name": name, "value": _known(values.get(name))} for name in template.parameters]}
            for template in language_first(templates, language)]


def _known(value: object) -> str:
    """A case's value as a parameter's text: one line (Meta refuses new lines and tabs in parameters)."""
    return " ".join(str(value).split()) if value not in (None, "") else ""


def chosen(templates: list[Template], name: str, language: str, values: Mapping[str, str]) -> OutboundMessage:
    """The agent's template with its parameters in their approved order; refuses (400) an unknown template, a
    missing or unknown parameter, or a value Meta would refuse."""
    template = next((t for t in templates if t.name == name and t.language == language), None)
    if template is None:
        raise InboxError(400, f"no approved template {name!r} in {language!r}")
    unknown = sorted(set(values) - set(template.parameters))
    if unknown:
        raise InboxError(400, f"template {name} has no parameter {', '.join(unknown)}")
    missing = [parameter for parameter in template.parameters if parameter not in values]
    if missing:
        raise InboxError(400, f"a value is required for {', '.join(missing)}")
    try:
        return template_message(templates, name, language, [values[p].strip() for p in template.parameters])
    except TemplateUnavailable as exc:
        raise InboxError(400, str(exc)) from exc
