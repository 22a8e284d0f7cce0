"""The timeline on SQLite and on a real PostgreSQL: order, hash chain, idempotency."""
import asyncio
import itertools

import pytest
from sqlalchemy import select, update

from handoff.core.cases import open_case
from handoff.core.customers import resolve_customer
from handoff.core.timeline import DuplicateProviderMessage, append_event, case_events, verify_case
from handoff.store.models import Case, TimelineEvent


async def new_case(sessions, value: str = "session-1") -> Case:
    async with sessions() as session, session.begin():
        customer = await resolve_customer(session, "webchat", value)
        return await open_case(session, customer, "webchat", follow_up_window_hours=72)


async def add(sessions, case: Case, text: str, **extra) -> TimelineEvent:
    async with sessions() as session, session.begin():
        return await append_event(session, case, channel="webchat", direction="in", actor="customer",
                                  kind="message", text=text, **extra)


async def test_events_are_ordered_and_chained(sessions) -> None:
    case = await new_case(sessions)
    for number in range(5):
        await add(sessions, case, f"mensaje {number}")
    async with sessions() as session:
        events = await case_events(session, case.id)
        check = await verify_case(session, case.id)
    assert [event.seq for event in events] == [1, 2, 3, 4, 5]
    assert [event.text for event in events] == [f"mensaje {n}" for n in range(5)]
    assert all(a.created_at <= b.created_at for a, b in itertools.pairwise(events))
    assert check.ok and check.checked == 5


async def test_concurrent_appends_keep_one_chain(sessions) -> None:
    case = await new_case(sessions)
    await asyncio.gather(*(add(sessions, case, f"m{n}") for n in range(20)))
    async with sessions() as session:
        check = await verify_case(session, case.id)
        events = await case_events(session, case.id)
    assert check.ok and [e.seq for e in events] == list(range(1, 21))


@pytest.mark.parametrize("tamper", ["text", "delete", "swap"])
async def test_tampering_in_the_database_breaks_verification(sessions, tamper: str) -> None:
    case = await new_case(sessions)
    for number in range(4):
        await add(sessions, case, f"mensaje {number}")
    async with sessions() as session, session.begin():
        events = await case_events(session, case.id)
        if tamper == "text":
            await session.execute(update(TimelineEvent).where(TimelineEvent.id == events[1].id)
                                  .values(text="mensaje X"))
        elif tamper == "delete":
            await session.delete(events[1])
        else:
            first, second = events[1], events[2]
            await session.execute(update(TimelineEvent).where(TimelineEvent.id == first.id).values(seq=-1))
            await session.execute(update(TimelineEvent).where(TimelineEvent.id == second.id).values(seq=2))
            await session.execute(update(TimelineEvent).where(TimelineEvent.id == first.id).values(seq=3))
    async with sessions() as session:
        assert not (await verify_case(session, case.id)).ok


async def test_a_repeated_provider_id_is_refused_and_stores_nothing(sessions) -> None:
    case = await new_case(sessions)
    await add(sessions, case, "hola", provider_id="wamid.1")
    with pytest.raises(DuplicateProviderMessage):
        await add(sessions, case, "hola", provider_id="wamid.1")
    async with sessions() as session:
        assert len(await case_events(session, case.id)) == 1


async def test_the_same_identity_is_the_same_customer_and_case(sessions) -> None:
    first = await new_case(sessions, "visitor-a")
    again = await new_case(sessions, "visitor-a")
    other = await new_case(sessions, "visitor-b")
    assert first.id == again.id and other.id != first.id
    async with sessions() as session:
        assert len((await session.scalars(select(Case))).all()) == 2
