"""A customer writing while the assistant's multi-message answer is being stored: no deadlock, one chain.

WhatsApp customers often send two messages in a row; the second arrives while the first one's answer
(several events in one transaction) is written. Appends to one case must queue in the database, never
wait on an in-process lock while holding a database lock.
"""
from __future__ import annotations

import asyncio

from handoff.core.cases import open_case
from handoff.core.customers import resolve_customer
from handoff.core.timeline import append_event, case_events, verify_case


async def test_a_transaction_appending_twice_and_a_concurrent_append_both_finish(sessions) -> None:
    async with sessions() as session, session.begin():
        customer = await resolve_customer(session, "phone", "+5215512345678", verified=True)
        case = await open_case(session, customer, "whatsapp", follow_up_window_hours=72)
    first_written = asyncio.Event()

    async def answer() -> None:  # like the assistant's turn: two messages, one transaction
        async with sessions() as session, session.begin():
            await append_event(session, case, channel="whatsapp", direction="out", actor="bot", kind="message",
                               text="uno")
            first_written.set()
            await asyncio.sleep(0.3)  # the customer's next message starts meanwhile
            await append_event(session, case, channel="whatsapp", direction="out", actor="bot", kind="message",
                               text="dos")

    async def customer_writes() -> None:
        await first_written.wait()
        async with sessions() as session, session.begin():
            await append_event(session, case, channel="whatsapp", direction="in", actor="customer",
                               kind="message", text="sigues ahi?", provider_id="wamid.NEXT")

    await asyncio.wait_for(asyncio.gather(answer(), customer_writes()), timeout=25)
    async with sessions() as session:
        events = await case_events(session, case.id)
        assert (await verify_case(session, case.id)).ok
    assert [e.text for e in events] == ["uno", "dos", "sigues ahi?"]
