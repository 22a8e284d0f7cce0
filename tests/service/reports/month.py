"""A realistic November: every day a bot-only case, a handoff resolved then recontacted on WhatsApp, a case
returned to the assistant, a call abandoned in queue; plus one customer back after the follow-up window.
Overflow: the webchat handoff overflowed on even days (its customer chose to wait on days 0, 4, … 28, to go on
with the assistant on days 2, 6, … 26); every call overflowed (a callback asked for on days 0, 3, … 27, no answer
otherwise); the WhatsApp handoff never did."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.reports.facts import CaseFact, HandoffFact
from handoff.store.models import Case, Customer, Handoff, TimelineEvent

START = datetime(2026, 11, 1, tzinfo=timezone.utc)
END = datetime(2026, 12, 1, tzinfo=timezone.utc)
SLA = {"webchat": 60, "whatsapp": 300, "voice": 20}


def webchat_overflow(day: int) -> tuple[str, str | None]:
    """The webchat handoff's routing decision and the customer's choice on that day."""
    if day % 2:
        return "assign", None
    return "overflow", "wait" if day % 4 == 0 else "assistant"


def day_cases(day: int) -> list[CaseFact]:
    """Five cases of one day, starting 15:00 UTC (09:00 in Mexico City)."""
    t = START + timedelta(days=day, hours=15)
    m = lambda minutes, seconds=0: t + timedelta(minutes=minutes, seconds=seconds)  # noqa: E731
    fast_whatsapp = day % 3 == 0  # every third day the returns team answers WhatsApp within its 300 s target
    return [
        CaseFact(f"bot{day}", f"A{day}", "webchat", "resolved", m(0), m(5), csat=5),
        CaseFact(f"handed{day}", f"B{day}", "webchat", "resolved", m(0), m(11, 30), csat=4, handoffs=(
            HandoffFact("to_human", "explicit_request", "request_human", "care", 2, m(1), m(1, 30), m(11, 30),
                        "resolved", m(1, 40), *webchat_overflow(day)),),
            reask_turns=day % 2),  # asked again for the order every other day
        CaseFact(f"recontact{day}", f"B{day}", "whatsapp", "resolved", m(131, 30), m(135)),
        CaseFact(f"returned{day}", f"C{day}", "whatsapp", "resolved", m(0), m(20), handoffs=(
            HandoffFact("to_human", "complex_intent", "return_request", "returns", 3, m(2), m(7), m(12),
                        "returned_to_bot", m(7) if fast_whatsapp else m(8), "queue"),
            HandoffFact("to_bot", "returned_by_agent", None, "returns", 0, m(12), m(12), m(12), "returned_to_bot"))),
        CaseFact(f"abandoned{day}", f"D{day}", "voice", "abandoned", m(0), m(10), handoffs=(
            HandoffFact("to_human", "repeated_fallback", "nlu_fallback", "care", 4, m(0, 30), None, m(10),
                        "abandoned", None, "overflow", "callback" if day % 3 == 0 else None),),
            reask_turns=2),  # the caller was asked twice for what they had said
    ]


def month() -> list[CaseFact]:
    """152 cases: 30 days of five, and customer E twice, 96 hours apart (outside the 72-hour window)."""
    cases = [case for day in range(30) for case in day_cases(day)]
    for day in (0, 4):
        opened = START + timedelta(days=day, hours=15)
        cases.append(CaseFact(f"again{day}", "E", "webchat", "resolved", opened, opened + timedelta(minutes=3)))
    return cases


async def seed_cases(session: AsyncSession, cases: list[CaseFact]) -> None:
    """The customers and case rows of the facts."""
    for customer in sorted({case.customer_id for case in cases}):
        session.add(Customer(id=customer, display_name=customer, facts={}))
    await session.flush()
    for case in cases:
        session.add(Case(id=case.id, customer_id=case.customer_id, channel=case.channel, status=case.status,
                         created_at=case.created_at, resolved_at=case.resolved_at, csat=case.csat,
                         handoff_count=len(case.to_human), reask_turns=case.reask_turns,
                         last_customer_message_at=case.last_customer_at))
    await session.flush()
    merged = [case for case in cases if case.merged_into]
    for case in merged:  # once every case exists (the key points at another case)
        (await session.get_one(Case, case.id)).merged_into_case_id = case.merged_into
    if merged:
        await session.flush()


def handoff_row(case: CaseFact, handoff: HandoffFact) -> Handoff:
    return Handoff(case_id=case.id, direction=handoff.direction, reason=handoff.reason, intent=handoff.intent,
                   team=handoff.team, bot_turns=handoff.bot_turns, queued_at=handoff.queued_at,
                   accepted_at=handoff.accepted_at, ended_at=handoff.ended_at, outcome=handoff.outcome, slots={},
                   decision=handoff.decision, overflow_choice=handoff.overflow_choice, agent_id=handoff.agent_id)


async def seed(session: AsyncSession, cases: list[CaseFact]) -> None:
    """Writes the facts as the service would have: customers, cases, handoff rows, agent replies."""
    await seed_cases(session, cases)
    for case in cases:
        seq = 0
        for handoff in case.handoffs:
            session.add(handoff_row(case, handoff))
            if handoff.first_response_at is not None:
                seq += 1
                session.add(TimelineEvent(case_id=case.id, customer_id=case.customer_id, seq=seq,
                                          channel=case.channel, direction="out", actor="agent:a1", kind="message",
                                          text="hola", payload={}, created_at=handoff.first_response_at,
                                          prev_hash="0" * 64, hash="0" * 64))
            await session.flush()  # handoff ids follow the order of the transitions
