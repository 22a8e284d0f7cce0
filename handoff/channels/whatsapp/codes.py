"""Verification codes on WhatsApp: an approved authentication template with a copy-code button (operations.yml
`verification_code`), sent straight through the Graph client, never through the outbox (whose rows keep the
body) nor onto the timeline."""
from __future__ import annotations

from handoff.channels.whatsapp import CHANNEL
from handoff.channels.whatsapp.graph import GraphClient
from handoff.channels.whatsapp.graph_bodies import authentication_body
from handoff.channels.whatsapp.numbers import wa_id_of
from handoff.core.operations import VerificationCodeOperations


def template_language(languages: list[str], customer_language: str, default_language: str) -> str | None:
    """The customer's language when the template is approved in it, else the default language's, else the first."""
    for wanted in (customer_language, default_language):
        for language in languages:
            if language.lower().split("_")[0] == wanted.lower():
                return language
    return languages[0] if languages else None


class WhatsAppCodeCourier:
    """Delivers a code to a phone's WhatsApp when the template is configured in some language."""

    channel = CHANNEL

    def __init__(self, graph: GraphClient, config: VerificationCodeOperations, default_language: str) -> None:
        self.graph = graph
        self.template = config.whatsapp_template
        self.languages = list(config.languages)
        self.default_language = default_language

    @property
    def configured(self) -> bool:
        return self.graph.configured and bool(self.languages)

    async def deliver(self, phone: str, code: str, language: str) -> str | None:
        """None when Meta accepted the message, else Meta's error."""
        chosen = template_language(self.languages, language, self.default_language)
        if not self.graph.configured or chosen is None:
            return "WhatsApp or its verification_code template is not configured"
        result = await self.graph.send(authentication_body(wa_id_of(phone), self.template, chosen, code))
        if result.message_id:
            return None
        return result.error.summary if result.error else "not sent"
