"""WhatsApp's 24-hour customer-service window and the approved templates allowed outside it (pure)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from handoff.core.messages import ChannelRefused, TemplateUnavailable

WINDOW = timedelta(hours=24)
# Meta's rules for a body parameter's text at send time: at most 1,024 characters (a body sent with other
# components; 32,768 alone), no new-line or tab characters, never more than 4 consecutive spaces.
PARAMETER_LIMIT = 1024
_FORBIDDEN_IN_PARAMETER = re.compile(r"[\n\r\t]| {5,}")


@dataclass(frozen=True)
class Template:
    """An approved template as configured in the operations file."""

    name: str
    language: str
    parameters: tuple[str, ...] = ()
    body: str | None = None  # the approved text with {{1}}, {{2}}…, for agents to read

    def label(self) -> str:
        params = f" ({', '.join(self.parameters)})" if self.parameters else ""
        return f"{self.name} [{self.language}]{params}"

    def preview(self, values: list[str]) -> str:
        """What the customer will read, for the timeline."""
        if not self.body:
            return f"[template {self.name}] " + " | ".join(values)
        text = self.body
        for number, value in enumerate(values, start=1):
            text = text.replace(f"{{{{{number}}}}}", value)
        return text


class UnknownTemplate(TemplateUnavailable):
    """Not a configured template, or the wrong parameters for it."""


class OutsideWindow(ChannelRefused):
    """Free text refused: the customer last wrote more than 24 hours ago."""

    def __init__(self, last_inbound_at: datetime | None, templates: list[Template]) -> None:
        self.last_inbound_at = last_inbound_at
        self.templates = templates
        since = f"was at {last_inbound_at:%Y-%m-%d %H:%M} UTC" if last_inbound_at else "never came on WhatsApp"
        allowed = "; ".join(t.label() for t in templates) or "none configured (operations file: whatsapp_templates)"
        super().__init__(f"WhatsApp only allows approved templates more than 24 hours after the customer's last "
                         f"message (it {since}). Free text was not sent. Templates you can use: {allowed}.")


def load_templates(raw: list[Any]) -> list[Template]:
    """The `whatsapp_templates` of the operations file (YAML: entries that are not mappings are skipped)."""
    return [Template(name=str(item["name"]), language=str(item["language"]),
                     parameters=tuple(str(p) for p in item.get("parameters") or ()), body=item.get("body"))
            for item in raw if isinstance(item, dict) and item.get("name") and item.get("language")]


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def window_closes_at(last_inbound_at: datetime | None) -> datetime | None:
    return as_utc(last_inbound_at) + WINDOW if last_inbound_at else None


def can_send_free_text(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Inside the 24 hours that follow the customer's last WhatsApp message."""
    closes = window_closes_at(last_inbound_at)
    return closes is not None and as_utc(now) < closes


def template_language(templates: list[Template], name: str, configured: str, customer_language: str | None) -> str:
    """The configured language, unless the same template is approved in the customer's own language."""
    if customer_language and not configured.lower().startswith(customer_language.lower()):
        for template in templates:
            if template.name == name and template.language.lower().startswith(customer_language.lower()):
                return template.language
    return configured


def language_first(templates: list[Template], language: str) -> list[Template]:
    """The templates approved in the customer's language (es → es_MX) first, the others after, each in file order."""
    return sorted(templates, key=lambda template: not template.language.lower().startswith(language.lower()))


def find_template(templates: list[Template], name: str, language: str | None, values: list[str]) -> Template:
    """The configured template by name (and language), with exactly its parameters filled."""
    matches = [t for t in templates if t.name == name and (language is None or t.language == language)]
    if not matches:
        names = "; ".join(t.label() for t in templates) or "none configured"
        raise UnknownTemplate(f"No approved template {name!r}{f' in {language}' if language else ''}. "
                              f"Configured: {names}.")
    template = matches[0]
    if len(values) != len(template.parameters):
        raise UnknownTemplate(f"Template {template.label()} needs {len(template.parameters)} parameter(s), "
                              f"got {len(values)}.")
    for name, value in zip(template.parameters, values, strict=True):
        problem = parameter_problem(str(value))
        if problem:
            raise UnknownTemplate(f"Template {template.label()}: {name} {problem}.")
    return template


def parameter_problem(value: str) -> str | None:
    """Why Meta would refuse this text as a template's body parameter, or None when it may go."""
    if not value.strip():
        return "cannot be empty"
    if len(value) > PARAMETER_LIMIT:
        return f"is longer than {PARAMETER_LIMIT} characters"
    if _FORBIDDEN_IN_PARAMETER.search(value):
        return "cannot hold a new line, a tab or more than 4 spaces in a row"
    return None
