"""The outbox against the Graph API stand-in: retries by error code, never twice, failures shown to agents."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from handoff.core.cases import open_case
from handoff.core.customers import resolve_customer
from handoff.core.messages import OutboundMessage
from handoff.core.outbox import OutboxWorker
from handoff.store.models import Outbox, TimelineEvent, utcnow
from tests.service.support.graph_api import fixture, graph_error
from tests.service.support.whatsapp_webhooks import text_webhook


async def new_case(channel, number: str = "+5215512345678") -> str:
    async with channel.sessions() as session, session.begin():
        customer = await resolve_customer(session, "phone", number, verified=True, verified_by="whatsapp")
        return (await open_case(session, customer, "whatsapp", follow_up_window_hours=72)).id


async def say(channel, case_id: str, text: str) -> int:
    return await channel.deliverer.send(case_id, "system", OutboundMessage(actor="system", text=text))


async def outbox_rows(channel) -> list[Outbox]:
    async with channel.sessions() as session:
        return list(await session.scalars(select(Outbox).order_by(Outbox.id)))


async def event(channel, event_id: int) -> TimelineEvent:
    async with channel.sessions() as session:
        return await session.get(TimelineEvent, event_id)


async def test_rate_limited_then_accepted_is_delivered_exactly_once(channel) -> None:
    channel.graph.script.append((400, fixture("error_response_130429.json")))
    event_id = await say(channel, await new_case(channel), "Tu pedido sale hoy")
    await channel.flush()
    first, second = channel.graph.sends()
    assert first == second and first["to"] == "5215512345678" and first["text"]["body"] == "Tu pedido sale hoy"
    [row] = await outbox_rows(channel)
    assert (row.status, row.attempts) == ("sent", 2) and row.provider_message_id == "wamid.standin000001"
    assert (await event(channel, event_id)).delivery_status == "accepted"
    await channel.flush()
    assert len(channel.graph.sends()) == 2  # nothing left to send, nothing sent again


async def test_server_errors_are_retried_with_backoff_but_not_forever(channel) -> None:
    channel.graph.script.extend([(500, {"error": {"message": "Internal", "code": 2}})] * 6)
    event_id = await say(channel, await new_case(channel), "hola")
    await channel.flush()
    assert len(channel.graph.sends()) == channel.outbox.max_attempts == 4
    [row] = await outbox_rows(channel)
    assert row.status == "failed" and row.last_error.endswith("(gave up after 4 attempts)")
    assert (await event(channel, event_id)).delivery_status == "failed"


async def test_outside_the_window_and_undeliverable_fail_at_once_with_the_reason_shown(channel) -> None:
    case_id = await new_case(channel)
    channel.graph.script.extend([(400, graph_error(131047, "Re-engagement message")),
                                 (400, graph_error(131026, "Message undeliverable"))])
    late = await say(channel, case_id, "seguimos?")
    gone = await say(channel, case_id, "hola?")
    await channel.flush()
    assert len(channel.graph.sends()) == 2
    assert [(await event(channel, e)).delivery_status for e in (late, gone)] == ["failed", "failed"]
    notices = {e.payload["message_event_id"]: e for e in await channel.events(kind="delivery")}
    assert notices[late].text.startswith("Not delivered: (131047) Re-engagement message: More than 24 hours")
    assert notices[late].payload["error_code"] == 131047
    assert notices[gone].text.startswith("Not delivered: (131026) Message undeliverable: Message undeliverable: the")


async def test_two_workers_never_send_a_row_twice(channel) -> None:
    for n in range(12):
        await say(channel, await new_case(channel, f"+1650555{n:04d}"), f"mensaje {n}")
    other = OutboxWorker(channel.sessions, {"whatsapp": channel.client}, max_attempts=4, backoff=0.01)
    await asyncio.gather(channel.outbox.drain(), other.drain(), channel.outbox.drain())
    bodies = sorted(body["text"]["body"] for body in channel.graph.sends())
    assert bodies == sorted(f"mensaje {n}" for n in range(12))
    assert {row.status for row in await outbox_rows(channel)} == {"sent"}


async def test_later_messages_wait_behind_a_retry_so_the_customer_reads_them_in_order(channel) -> None:
    case_id = await new_case(channel)
    channel.graph.script.append((400, graph_error(131056, "Pair rate limit hit")))
    await say(channel, case_id, "uno")
    await say(channel, case_id, "dos")
    await channel.flush()
    assert [body["text"]["body"] for body in channel.graph.sends()] == ["uno", "uno", "dos"]


async def test_a_send_cut_off_by_a_crash_is_shown_failed_not_sent_again(channel) -> None:
    event_id = await say(channel, await new_case(channel), "hola")
    async with channel.sessions() as session, session.begin():
        await session.execute(update(Outbox).values(status="sending", attempts=1,
                                                    updated_at=utcnow() - timedelta(hours=1)))
    await channel.flush()
    assert channel.graph.sends() == []
    [row] = await outbox_rows(channel)
    assert row.status == "failed" and "interrupted" in row.last_error
    assert (await event(channel, event_id)).delivery_status == "failed"


async def test_the_assistants_choices_go_out_as_a_list_when_there_are_more_than_three(channel) -> None:
    channel.rasa.reply = lambda message: [{"text": "Elige un tema", "buttons": [
        {"title": f"Tema {n}", "payload": f"/tema{n}"} for n in range(5)]}]
    await channel.webhook(text_webhook("menu"))
    [menu] = channel.graph.sends()
    assert menu["interactive"]["type"] == "list"
    rows = menu["interactive"]["action"]["sections"][0]["rows"]
    assert [row["id"] for row in rows] == [f"/tema{n}" for n in range(5)]
