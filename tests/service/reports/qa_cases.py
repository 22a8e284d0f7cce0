"""Cases for the quality-review tests, written through the service's own timeline (so the chain is genuine)."""
from __future__ import annotations

from datetime import datetime

from handoff.core.handoffs import HandoffRequest, hand_to_people
from handoff.core.operations import Operations
from handoff.core.timeline import append_event
from handoff.store.models import Agent, Case, Customer, Handoff

OPERATIONS = Operations.model_validate({
    "timezone": "America/Mexico_City", "teams": {"care": {}, "returns": {}},
    "intent_teams": {"request_human": "care", "return_request": "returns", "default": "care"},
    "qa": {"sample_share": 0.5, "scorecards": [{"key": "standard", "scale": 4, "criteria": [
        {"key": "greeting", "weight": 1, "label": {"es": "Saludo", "en": "Greeting", "pt": "Saudação"}},
        {"key": "resolution", "weight": 3,
         "label": {"es": "Resolvió el caso", "en": "Resolved the case", "pt": "Resolveu o caso"}},
        {"key": "identity", "weight": 1, "critical": True,
         "label": {"es": "Verificó la identidad", "en": "Verified the identity", "pt": "Verificou a identidade"}},
    ]}]}})

THREE_CHANNELS = (  # the customer starts on the website, goes on on WhatsApp, and calls
    ("webchat", "customer", "in", "hola, mi pedido 100077 no llegó"),
    ("webchat", "bot", "out", "¿Me das tu número de pedido?"),
    ("whatsapp", "customer", "in", "ya te lo dije: 100077"),
    ("whatsapp", "bot", "out", "Te paso con una persona."),
)


async def three_channel_case(session, agent: Agent, accepted_at: datetime, *, team_intent: str = "request_human",
                             name: str = "Lucía Pérez") -> tuple[Case, Handoff]:
    """The assistant on the web and WhatsApp, then the agent on the phone; the handoff accepted at `accepted_at`."""
    customer = Customer(display_name=name, language="es", facts={})
    session.add(customer)
    await session.flush()
    case = Case(customer_id=customer.id, channel="webchat", language="es", status="bot")
    session.add(case)
    await session.flush()
    for channel, actor, direction, text in THREE_CHANNELS:
        case.channel = channel
        await append_event(session, case, channel=channel, direction=direction, actor=actor, kind="message",
                           text=text)
    handoff = await hand_to_people(session, case, HandoffRequest(reason="explicit_request", intent=team_intent,
                                                                 confidence=0.97, summary="pedido no llegó"),
                                   OPERATIONS, actor="bot")
    handoff.queued_at, handoff.accepted_at, handoff.agent_id = accepted_at, accepted_at, agent.id
    case.channel, case.status, case.assignee_id = "voice", "assigned", agent.id
    await append_event(session, case, channel="voice", direction="out", actor=f"agent:{agent.id}", kind="message",
                       text="Hola Lucía, soy Ana; ya veo tu pedido 100077.")
    await session.flush()
    return case, handoff
