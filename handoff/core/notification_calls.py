"""Voice notifications (`"channel": "voice"`): a call that reads the notification and asks for one digit.

Channel-free: the call is staged on the outbox (channel `voice_call`, sent by the voice channel's Twilio REST
sender) with the words read out as an outbound message on the case's timeline, so the call's fate is that
message's delivery status and the notification's state. The customer's digit is decided here too: 1 confirms,
2 hands the case to people with the notification as context (reason `notification_person`).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.handoffs import HandoffRequest, hand_to_people
from handoff.core.operations import Operations
from handoff.core.timeline import CaseKey, append_event
from handoff.store.models import Case, Handoff, Notification, Outbox

VOICE = "voice"
CALL_CHANNEL = "voice_call"  # the outbox's channel for calls placed through Twilio REST
ANSWER_KIND = "notify_answer"  # the timeline event of the customer's digit
PERSON_REASON = "notification_person"  # the handoff reason when the customer pressed 2
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
# What a digit means, and the notification's state after it.
DIGITS = {"1": "confirmed", "2": "answered"}


def spoken(entry: Mapping[str, Any], values: list[str]) -> str:
    """The template's words with its values in place: `voice` when the entry has one (said, not read), else `body`."""
    body = str(entry.get("voice") or entry.get("body") or "")

    def value(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return values[index] if 0 <= index < len(values) else ""
    return PLACEHOLDER.sub(value, body).strip()


def call_language(template_language: str) -> str:
    """The notification's language as the voice channel names languages (es_MX → es, pt_BR → pt)."""
    return template_language.replace("-", "_").split("_")[0].lower() or "es"


async def stage_call(session: AsyncSession, case: CaseKey, row: Notification, phone: str,
                     entry: Mapping[str, Any]) -> int:
    """The words as an outbound message on the case and the call on the outbox; the caller commits and wakes the
    calls' worker. Returns the message's event id (its delivery status is the call's)."""
    words = spoken(entry, list(row.parameters))
    event = await append_event(session, case, channel=VOICE, direction="out", actor="system", kind="message",
                               text=words, payload={"notification_id": row.id, "template": row.template,
                                                    "call": True, "language": row.language})
    session.add(Outbox(case_id=case.id, event_id=event.id, channel=CALL_CHANNEL, recipient=phone,
                       payload={"kind": "message", "body": {"to": phone, "notification_id": row.id}}))
    return event.id


@dataclass(frozen=True)
class Answered:
    """What the customer's digit did: the notification's new state and, for 2, the handoff made."""

    state: str
    event_id: int
    handoff: Handoff | None = None


def meaning(digits: str | None) -> str | None:
    """The state one keypad answer means: 1 confirmed, 2 answered (a person asked for); anything else nothing."""
    return DIGITS.get((digits or "").strip()[:1]) if digits and len(digits.strip()) == 1 else None


async def record_answer(session: AsyncSession, row: Notification, case: Case, state: str, *, call_id: str,
                        operations: Operations) -> Answered | None:
    """The digit on the case's timeline and the notification's state; 2 hands the case to people with the
    notification as context. None when the notification was already answered (Twilio asking twice)."""
    if row.status != "sent":
        return None
    row.status = state
    digit = next(key for key, value in DIGITS.items() if value == state)
    said = "confirmed" if state == "confirmed" else "asked to talk to a person"
    event = await append_event(session, case, channel=VOICE, direction="in", actor="customer", kind=ANSWER_KIND,
                               text=f"Pressed {digit} on the {row.template} call: {said}",
                               payload={"notification_id": row.id, "template": row.template, "digit": digit,
                                        "state": state, "call_id": call_id})
    if state != "answered":
        return Answered(state, event.id)
    request = HandoffRequest(reason=PERSON_REASON,
                             summary=f"Asked for a person on the {row.template} notification call",
                             slots={"notification_id": row.id, "notification_template": row.template})
    return Answered(state, event.id, await hand_to_people(session, case, request, operations, actor="customer"))
