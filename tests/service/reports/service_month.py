"""month.py's November with what the service KPIs need on top, every day (t = 15:00 UTC, 09:00 in Mexico City):
- tried{d}: a webchat customer F the assistant served alone (resolved); on even days F calls 37 minutes after it
  closed and reaches people (called{d}: answered in 15 s, 600 s handled by Ana): contained, but not durably;
- hungup{d}: a caller who left people's queue after 4 s (a short abandon);
- gaveup{d}, days 0, 3 … 27: a WhatsApp customer who left people's queue after 120 s (within the 900 s target);
- looping{d}, days 0, 5 … 25: a webchat the assistant still holds after two fallbacks, silent since (frustration);
- reasked{d}, days 7, 17, 27: the same after a re-ask; chatting (day 1): one fallback only, not frustration;
  recent (day 29): three fallbacks, but the customer wrote five minutes before the report;
- moved{d}, days 1, 7 … 25: a WhatsApp customer who also wrote on the web chat in the case (two contacts).
Ana (a1) takes the webchat handoffs and the calls, Beto (a2) WhatsApp's; one call Ana took before the month
("early") ran 10 minutes into it. Ana is online 15:00–17:00 and 17:30–18:00 (away between), Beto 15:00–16:00,
and Beto was online from 23:00 on Oct 31 to 01:00 on Nov 1 (one hour of it in the month)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.reports.facts import CaseFact, HandoffFact
from handoff.reports.occupancy import PresenceFact
from handoff.store.models import Agent, NluSample, PresenceChange, TimelineEvent
from tests.service.reports.month import END, START, month, seed

ANSWER = {"webchat": 120, "whatsapp": 900, "voice": 60}  # sla.answer (operations.yml)
FIRST_RESPONSE = {"webchat": 60, "whatsapp": 300, "voice": 20}
AGENTS = {"a1": "Ana", "a2": "Beto"}


def _agents(case: CaseFact) -> CaseFact:
    """month.py's transitions with the agent who took them: Ana the webchat's, Beto WhatsApp's."""
    agent = {"webchat": "a1", "whatsapp": "a2"}.get(case.channel)
    handoffs = tuple(replace(h, agent_id=agent) if h.accepted_at is not None and h.direction == "to_human" else h
                     for h in case.handoffs)
    return replace(case, handoffs=handoffs)


def extra_cases(day: int) -> list[CaseFact]:
    """What one day adds to month.py's five cases."""
    t = START + timedelta(days=day, hours=15)
    m = lambda minutes, seconds=0: t + timedelta(minutes=minutes, seconds=seconds)  # noqa: E731
    cases = [
        CaseFact(f"tried{day}", f"F{day}", "webchat", "resolved", m(200), m(203)),
        CaseFact(f"hungup{day}", f"G{day}", "voice", "abandoned", m(300), m(300, 4), handoffs=(
            HandoffFact("to_human", "explicit_request", "request_human", "care", 1, m(300), None, m(300, 4),
                        "abandoned"),)),
    ]
    if day % 2 == 0:
        cases.append(CaseFact(f"called{day}", f"F{day}", "voice", "resolved", m(240), m(251), handoffs=(
            HandoffFact("to_human", "explicit_request", "request_human", "care", 1, m(240, 10), m(240, 25),
                        m(250, 25), "resolved", agent_id="a1"),)))
    if day % 3 == 0:
        cases.append(CaseFact(f"gaveup{day}", f"H{day}", "whatsapp", "abandoned", m(310), m(312), handoffs=(
            HandoffFact("to_human", "complex_intent", "return_request", "returns", 2, m(310), None, m(312),
                        "abandoned"),)))
    if day % 5 == 0:
        cases.append(CaseFact(f"looping{day}", f"I{day}", "webchat", "bot", m(320), fallbacks=2,
                              last_customer_at=m(322)))
    if day in (7, 17, 27):
        cases.append(CaseFact(f"reasked{day}", f"K{day}", "webchat", "bot", m(330), reask_turns=1,
                              last_customer_at=m(331)))
    if day % 6 == 1:
        cases.append(CaseFact(f"moved{day}", f"M{day}", "whatsapp", "resolved", m(340), m(350),
                              inbound_channels=2))
    if day == 1:
        cases.append(CaseFact("chatting", "J", "webchat", "bot", m(360), fallbacks=1, last_customer_at=m(361)))
    if day == 29:
        opened = END - timedelta(minutes=10)
        cases.append(CaseFact("recent", "L", "webchat", "bot", opened, fallbacks=3,
                              last_customer_at=END - timedelta(minutes=5)))
    return cases


def early() -> CaseFact:
    """A call Ana took before the month began: ten of its minutes fall in the month."""
    opened = START - timedelta(minutes=20)
    return CaseFact("early", "Z", "voice", "resolved", opened, START + timedelta(minutes=10), handoffs=(
        HandoffFact("to_human", "explicit_request", "request_human", "care", 1, opened, START - timedelta(minutes=10),
                    START + timedelta(minutes=10), "resolved", agent_id="a1"),))


def service_month() -> list[CaseFact]:
    """253 cases in the month (month.py's 152 and 101 more), and the early call before it."""
    return [*(_agents(case) for case in month()), *(case for day in range(30) for case in extra_cases(day)), early()]


def presence() -> list[PresenceFact]:
    """Ana's and Beto's presence changes."""
    changes = [PresenceFact("a2", "online", START - timedelta(hours=1)),
               PresenceFact("a2", "offline", START + timedelta(hours=1))]
    for day in range(30):
        t = START + timedelta(days=day, hours=15)
        changes += [PresenceFact("a1", "online", t), PresenceFact("a1", "away", t + timedelta(hours=2)),
                    PresenceFact("a1", "online", t + timedelta(hours=2, minutes=30)),
                    PresenceFact("a1", "offline", t + timedelta(hours=3)),
                    PresenceFact("a2", "online", t), PresenceFact("a2", "offline", t + timedelta(hours=1))]
    return changes


async def seed_service_month(session: AsyncSession, cases: list[CaseFact],
                             changes: list[PresenceFact]) -> None:
    """The agents, month.py's rows, the assistant's fallbacks (as the harvester stores them), the customers'
    messages on a second channel, and the presence history."""
    for agent_id, name in AGENTS.items():
        session.add(Agent(id=agent_id, email=f"{agent_id}@example.com", display_name=name, password_hash="x",
                          role="agent", teams=["care"], skills=[], capacity=3, presence="offline", active=True))
    await session.flush()
    await seed(session, cases)
    for case in cases:
        for number in range(case.fallbacks):
            session.add(NluSample(case_id=case.id, source="nlu_fallback", text=f"not understood {number}",
                                  status="open", created_at=case.created_at))
        if case.inbound_channels > 1:
            for seq, channel in enumerate((case.channel, "webchat"), start=100):
                session.add(TimelineEvent(case_id=case.id, customer_id=case.customer_id, seq=seq, channel=channel,
                                          direction="in", actor="customer", kind="message", text="hola",
                                          payload={}, created_at=case.created_at, prev_hash="0" * 64,
                                          hash="0" * 64))
    for change in changes:
        session.add(PresenceChange(agent_id=change.agent_id, presence=change.presence, changed_at=change.changed_at))
    await session.flush()


def in_month(cases: list[CaseFact], start: datetime = START, end: datetime = END) -> list[CaseFact]:
    """The cases created within [start, end)."""
    return [case for case in cases if start <= case.created_at < end]
