"""A small real conversation written through the service's own functions (so the hash chain is genuine)."""
from __future__ import annotations

from handoff.core.handoffs import HandoffRequest, hand_to_people
from handoff.core.operations import Operations
from handoff.core.timeline import append_event
from handoff.reports import nlu_samples
from handoff.store.models import Case, Customer, Handoff

OPERATIONS = Operations(intent_teams={"nlu_fallback": "care", "return_request": "returns", "default": "care"},
                        teams={"care": {}, "returns": {}})


async def misunderstood_case(session, words: str = "mi paquete llego <b>roto</b> & quiero devolverlo",
                             intent: str = "nlu_fallback", confidence: float = 0.42) -> tuple[Case, Handoff]:
    """Customer writes, the assistant misses twice, then hands off with the payload Rasa would send."""
    customer = Customer(display_name="Ana <script>alert(1)</script>", language="es", facts={})
    session.add(customer)
    await session.flush()
    case = Case(customer_id=customer.id, channel="webchat", language="es", status="bot")
    session.add(case)
    await session.flush()
    for actor, text in (("customer", "hola"), ("bot", "Hola, en que te ayudo?"), ("customer", words + "?"),
                        ("bot", "Perdon, no entendi."), ("customer", words),
                        ("bot", "Te paso con una persona.")):
        await append_event(session, case, channel="webchat", direction="in" if actor == "customer" else "out",
                           actor=actor, kind="message", text=text)
    handoff = await hand_to_people(session, case, HandoffRequest(reason="repeated_fallback", intent=intent,
                                                                 confidence=confidence, summary="paquete roto",
                                                                 slots={"order_number": "100002"}),
                                   OPERATIONS, actor="bot")
    await nlu_samples.from_handoff(session, handoff)  # what the HandoffSamples listener adds after the commit
    return case, handoff
