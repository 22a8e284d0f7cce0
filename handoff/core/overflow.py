"""Overflow, pure: the choices offered when the wait passes the channel's target or nobody is online, and reading
the customer's one answer (a button payload, its label typed out, or its digit).

The offer is open on the handoff (`overflow_offered_at` set, no `overflow_choice` yet) while the case waits in
people's queue and nobody took it; `core.overflow_answers` catches the answer before the assistant sees it.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable

from handoff.core.messages import OutboundMessage, QuickReply
from handoff.core.routing_policy import OFFERS, Decision
from handoff.core.texts import TEXTS, folded
from handoff.core.texts import text as service_text
from handoff.store.models import Case, Handoff

WAIT, WHATSAPP, CALLBACK, ASSISTANT = OFFERS
DIGITS = {WAIT: "1", WHATSAPP: "2", CALLBACK: "3", ASSISTANT: "4"}  # the same digit on every door, phone included
EVENT_KIND = "overflow"  # the timeline event of the customer's choice
NO_ASSISTANT_REASONS = frozenset({"bot_unavailable"})  # handed off because the assistant is down: not offered
NOT_OFFERED_REASONS = frozenset({"no_input"})  # a silent caller cannot choose: they wait for a person
STILL_QUEUED = "still_queued"  # `custom["overflow"]` of the notice a second handoff request gets while keeping company
_PAYLOAD = re.compile(r"^/overflow(\{.*\})$")


def payload(choice: str) -> str:
    """The button payload of a choice (Rasa's intent-with-entities shape, like CSAT's)."""
    return f'/overflow{{"choice":"{choice}"}}'


def offers_for(decision: Decision, handoff_reason: str | None) -> tuple[str, ...]:
    """What this customer is offered: the policy's offers, without the assistant when the handoff happened because
    it is down; nothing to a silent caller, or when waiting is all that is left."""
    if handoff_reason in NOT_OFFERED_REASONS:
        return ()
    offers = tuple(offer for offer in decision.offers
                   if not (offer == ASSISTANT and handoff_reason in NO_ASSISTANT_REASONS))
    return offers if offers and offers != (WAIT,) else ()


def offer_message(decision: Decision, offers: Iterable[str], language: str, tone: str = "tuteo") -> OutboundMessage:
    """The offer: where the customer stands, and one button per choice (at most 4; WhatsApp never offers itself,
    so its reply buttons hold them all). Rendered like an assistant message, as CSAT's question is."""
    if decision.wait_seconds is None:
        text = service_text("overflow_offer_unstaffed", language, tone, position=decision.position)
    else:
        minutes = max(1, round(decision.wait_seconds / 60))
        text = service_text("overflow_offer_wait", language, tone, position=decision.position, minutes=minutes)
    replies = tuple(QuickReply(service_text(f"overflow_choice_{offer}", language, tone), payload(offer))
                    for offer in offers)
    return OutboundMessage(actor="bot", text=text, quick_replies=replies)


def parse_choice(bot_input: str, offers: Iterable[str]) -> str | None:
    """The offered choice an answer names: the button payload, its digit, or its label in any language we speak
    (accents and case aside); else None (the message is not an answer)."""
    offered = tuple(offers)
    value = bot_input.strip()
    match = _PAYLOAD.match(value)
    if match:
        try:
            choice = json.loads(match.group(1)).get("choice")
        except (ValueError, AttributeError):
            return None
        return choice if choice in offered else None
    by_digit = {digit: choice for choice, digit in DIGITS.items()}
    if value.rstrip("#") in by_digit:
        choice = by_digit[value.rstrip("#")]
        return choice if choice in offered else None
    said = folded(value)
    for choice in offered:
        if said and said in {folded(label) for label in TEXTS[f"overflow_choice_{choice}"].values()}:
            return choice
    return None


def _waiting_untaken(case: Case, handoff: Handoff | None) -> bool:
    return (handoff is not None and case.status == "queued" and case.assignee_id is None
            and handoff.case_id == case.id and handoff.direction == "to_human" and handoff.ended_at is None
            and handoff.accepted_at is None and handoff.overflow_offered_at is not None)


def offer_open(case: Case, handoff: Handoff | None) -> bool:
    """The customer was offered the choices on this handoff, has not answered, and nobody took the case yet."""
    return _waiting_untaken(case, handoff) and handoff is not None and handoff.overflow_choice is None


def accompanied(case: Case, handoff: Handoff | None) -> bool:
    """The customer chose to go on with the assistant while keeping their place: their messages are the
    assistant's turns until a person takes the case (the handoff is never withdrawn for it)."""
    return _waiting_untaken(case, handoff) and handoff is not None and handoff.overflow_choice == ASSISTANT


def voice_menu(offers: Iterable[str], language: str, tone: str = "tuteo") -> tuple[str, list[dict[str, str]]]:
    """The phone's menu: each offered choice read with its fixed digit, and the digit → payload map for the call."""
    options = [{"digit": DIGITS[offer], "title": service_text(f"overflow_choice_{offer}", language, tone),
                "payload": payload(offer)} for offer in OFFERS if offer in set(offers)]
    line = " ".join(service_text(f"voice_overflow_{option_choice(option)}_option", language, tone)
                    for option in options)
    return line, options


def option_choice(option: dict[str, str]) -> str:
    """The choice a menu option stands for."""
    return parse_choice(option["payload"], OFFERS) or WAIT


def offered_in(replies: Iterable[QuickReply]) -> list[str]:
    """The choices among a message's quick replies (the offer's), in order."""
    return [choice for choice in (parse_choice(reply.payload, OFFERS) for reply in replies
                                  if reply.payload.startswith("/overflow")) if choice is not None]
