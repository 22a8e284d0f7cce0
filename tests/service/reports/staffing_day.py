"""A staffing day in Mexico City (UTC−6 all year): Monday 2026-11-23, four Mondays before it with calls at 09:00,
agents going online, away and logging out. Shared by the store test and the API test."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.operations import Operations
from handoff.reports.facts import CaseFact, HandoffFact
from handoff.store.models import Agent, PresenceChange
from tests.service.reports.month import seed

START = datetime(2026, 11, 23, 6, tzinfo=timezone.utc)  # local midnight of Monday 23 November
END = START + timedelta(days=1)
NINE = START + timedelta(hours=9)  # 09:00 local
EARLIER_MONDAYS = {4: 30, 3: 34, 2: 38, 1: 42}  # weeks back: calls at 09:00 that Monday, each handled in 240 s
OPERATIONS = Operations(timezone="America/Mexico_City",
                        sla={"voice": {"first_response": 20, "answer": 60},  # service_level: the default 0.8
                             "whatsapp": {"first_response": 300, "answer": 900, "service_level": 0.9}},
                        staffing={"max_occupancy": 0.85, "forecast_weeks": 6})  # two weeks before the data began
US = timedelta(microseconds=1)


def case(number: str, channel: str, handoffs: tuple[HandoffFact, ...]) -> CaseFact:
    opened = handoffs[0].queued_at - timedelta(seconds=30)
    return CaseFact(f"s{number}", f"c{number}", channel, "resolved", opened, opened + timedelta(hours=1),
                    handoffs=handoffs)


def handled(at: datetime, seconds: int, team: str | None = "care") -> HandoffFact:
    accepted = at + timedelta(seconds=10)
    return HandoffFact("to_human", "explicit_request", "request_human", team, 1, at, accepted,
                       accepted + timedelta(seconds=seconds), "resolved")


def unanswered(at: datetime, team: str = "care") -> HandoffFact:
    return HandoffFact("to_human", "explicit_request", "request_human", team, 1, at, None, at + timedelta(minutes=3),
                       "abandoned")


def cases() -> list[CaseFact]:
    """Voice for care at 09:00: 40 handled (20 in 200 s, 20 in 280 s: 240 s on average; the last queued a
    microsecond before 09:30) and 2 abandoned; WhatsApp for returns at 09:30: 10 handled in 600 s, 2 abandoned,
    and a transfer from care; one with no team; edges of the range; the four Mondays before."""
    found = []
    for n in range(40):
        at = NINE + timedelta(seconds=40 * n) if n < 39 else NINE + timedelta(minutes=30) - US
        found.append(case(f"v{n}", "voice", (handled(at, 200 if n % 2 else 280),)))
    found += [case(f"va{n}", "voice", (unanswered(NINE + timedelta(minutes=5 + n)),)) for n in range(2)]
    half = NINE + timedelta(minutes=30)
    found += [case(f"w{n}", "whatsapp", (handled(half + timedelta(minutes=n), 600, "returns"),)) for n in range(10)]
    found += [case(f"wa{n}", "whatsapp", (unanswered(half + timedelta(minutes=20 + n), "returns"),))
              for n in range(2)]
    transfer = handled(half + timedelta(minutes=5), 100, "care")
    found.append(case("t", "whatsapp", (
        transfer, HandoffFact("to_human", "transfer", "request_human", "returns", 0, transfer.ended_at,
                              transfer.ended_at, transfer.ended_at + timedelta(seconds=300), "resolved"))))
    found.append(case("noteam", "webchat", (handled(NINE + timedelta(hours=2), 120, None),)))
    found.append(case("first", "voice", (handled(START, 60),)))  # the range's first instant: in it
    found.append(case("after", "voice", (handled(END, 60),)))  # the first instant after it: not
    for back, calls in EARLIER_MONDAYS.items():
        monday = NINE - timedelta(weeks=back)
        found += [case(f"e{back}-{n}", "voice", (handled(monday + timedelta(seconds=30 * n), 240),))
                  for n in range(calls)]
    return found


PRESENCE = [  # (agent, minutes after 09:00 local, presence from then on)
    ("a4", -13 * 60, "online"), ("a4", -60, "offline"),  # online since 20:00 the day before
    ("a2", -60, "online"), ("a1", 0, "online"), ("a1", 45, "away"), ("a2", 60, "offline"),  # a2 logs out
    ("a3", 0, "online"), ("a3", 10, "offline")]
TEAMS = {"a1": ["care"], "a2": ["care", "returns"], "a3": ["fraud"], "a4": ["care"]}


async def seed_day(session: AsyncSession) -> None:
    await seed(session, cases())
    for agent, teams in TEAMS.items():
        session.add(Agent(id=agent, email=f"{agent}@example.com", display_name=agent, password_hash="x", teams=teams))
    await session.flush()
    for agent, minutes, presence in PRESENCE:
        session.add(PresenceChange(agent_id=agent, presence=presence, changed_at=NINE + timedelta(minutes=minutes)))
    await session.flush()
