"""The satisfaction question after a resolution, and catching its answer before it opens a new case."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.cases import case_language, latest_case
from handoff.core.messages import Deliverer, InboundMessage, OutboundMessage, QuickReply
from handoff.core.operations import Operations
from handoff.core.sending import Staged, stage_to_customer
from handoff.core.texts import TEXTS, folded
from handoff.core.texts import text as service_text
from handoff.core.timeline import append_event
from handoff.store.models import Case, Customer, utcnow

ANSWER_WINDOW = timedelta(hours=24)
SCORES = (("csat_good", 5), ("csat_neutral", 3), ("csat_bad", 1))
_PAYLOAD = re.compile(r"^/csat(\{.*\})$")


def question(language: str, tone: str = "tuteo") -> OutboundMessage:
    """Three quick replies: WhatsApp shows at most three buttons, so the scale fits every channel.

    Rendered like an assistant message (widgets show quick replies only there); stored with actor `system`.
    """
    replies = tuple(QuickReply(service_text(key, language, tone), f'/csat{{"score":{score}}}') for key, score in SCORES)
    return OutboundMessage(actor="bot", text=service_text("csat_question", language, tone), quick_replies=replies)


def parse_answer(bot_input: str) -> int | None:
    """The score in a CSAT answer: the button payload, a digit 1-5, or a button title typed out (in any of our
    languages: a customer may answer in another one than the case's)."""
    value = bot_input.strip()
    match = _PAYLOAD.match(value)
    if match:
        try:
            score = json.loads(match.group(1)).get("score")
        except (ValueError, AttributeError):
            return None
        return score if isinstance(score, int) and 1 <= score <= 5 else None
    if value.isdigit() and 1 <= int(value) <= 5:
        return int(value)
    titles = {folded(title): score for key, score in SCORES for title in TEXTS[key].values()}
    return titles.get(folded(value))


async def awaiting_answer(session: AsyncSession, customer: Customer) -> Case | None:
    """The customer's latest case if it was resolved, asked for CSAT recently and not answered yet."""
    latest = await latest_case(session, customer.id)
    if latest is None or latest.status != "resolved" or latest.csat is not None or latest.csat_requested_at is None:
        return None
    asked = latest.csat_requested_at
    now = utcnow() if asked.tzinfo else utcnow().replace(tzinfo=None)
    return latest if now - asked <= ANSWER_WINDOW else None


class CsatAnswers:
    """Catches a customer's answer to the CSAT question inside the storing transaction, and thanks them."""

    def __init__(self, operations: Operations, deliverers: Mapping[str, Deliverer]) -> None:
        self.operations = operations
        self.deliverers = deliverers

    async def answer_to(self, session: AsyncSession, customer: Customer,
                        inbound: InboundMessage) -> tuple[Case, int] | None:
        """The resolved case this message answers the CSAT question of, with the score; else None."""
        case = await awaiting_answer(session, customer)
        if case is None:
            return None
        score = parse_answer(inbound.bot_input)
        return (case, score) if score is not None else None

    async def record(self, session: AsyncSession, case: Case, score: int, channel: str,
                     address: str) -> list[Staged]:
        """Stores the score on the case and thanks the customer; the caller commits, then delivers."""
        case.csat = score
        await append_event(session, case, channel=channel, direction="internal", actor="customer", kind="csat",
                           text=str(score), payload={"score": score})
        language = case_language(self.operations, case)
        thanks = OutboundMessage(actor="system", text=service_text("csat_thanks", language, self.operations.tone))
        return [await stage_to_customer(session, case, self.deliverers, channel=channel, address=address,
                                        message=thanks, actor="system")]
