"""Notifications other systems ask for (core/notifications.py) over a real database and the Graph API stand-in:
the approved template goes out once per idempotency key on a proactive case the customer's reply continues,
Meta's statuses become its state, and opt-outs, the daily cap and quiet hours hold or refuse it.

Before: nothing outside the inbox could write to a customer first.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from handoff.core.consent import set_whatsapp_opt_out
from handoff.core.erasure import erase_customer
from handoff.core.notifications import NotificationRequest
from handoff.store.models import Case, Customer, Notification, Outbox
from tests.service.support.notifications import integration, notifier
from tests.service.support.whatsapp_webhooks import WA_ID, status_webhook, text_webhook

PHONE = f"+{WA_ID}"  # the stand-in webhooks' sender (+1 650: America/Los_Angeles)
SHIPPED = {"customer_name": "Sheena", "order_number": "A-1001", "tracking_url": "https://t.example/A-1001"}


def shipped(key: str, **to: str) -> NotificationRequest:
    return NotificationRequest(to=to or {"phone": PHONE}, template="order_shipped", language="es", values=SHIPPED,
                               idempotency_key=key)


async def wamid_of(channel, event_id: int) -> str:
    async with channel.sessions() as session:
        return str(await session.scalar(select(Outbox.provider_message_id).where(Outbox.event_id == event_id)))


async def test_sent_once_on_a_proactive_case_its_statuses_and_the_reply_continuing_it(channel) -> None:
    notify, shop = notifier(channel), await integration(channel)
    first = await notify.submit(shop, shipped("order-A-1001"))
    assert first.state == "queued"  # staged on the outbox for a phone never seen before
    await channel.flush()
    again = await notify.submit(shop, shipped("order-A-1001"))
    await channel.flush()
    assert again.id == first.id
    [sent] = channel.graph.sends()
    assert sent["to"] == WA_ID and sent["template"]["name"] == "order_shipped"
    assert sent["template"]["language"]["code"] == "es_MX"
    assert [p["text"] for p in sent["template"]["components"][0]["parameters"]] == list(SHIPPED.values())
    view = await notify.view(shop, first.id)
    assert view is not None and view["state"] == "sent"
    assert await notify.view("someone-else", first.id) is None
    async with channel.sessions() as session:
        row = await session.get_one(Notification, first.id)
        case = await session.get_one(Case, row.case_id)
        assert (case.proactive, case.status, case.channel) == (True, "bot", "whatsapp")
    assert row.event_id is not None
    wamid = await wamid_of(channel, row.event_id)
    await channel.webhook(status_webhook(wamid, "delivered"))
    assert (await notify.view(shop, first.id) or {})["state"] == "delivered"
    await channel.webhook(status_webhook(wamid, "read"))
    assert (await notify.view(shop, first.id) or {})["state"] == "read"
    await channel.webhook(text_webhook("y cuando llega?", wamid="wamid.REPLY1"))
    assert (await notify.view(shop, first.id) or {})["state"] == "answered"
    kinds = [(e.kind, e.direction) for e in await channel.events(case_id=case.id) if e.kind != "delivery"]
    assert kinds[:3] == [("notification", "internal"), ("message", "out"), ("message", "in")]
    assert channel.rasa.asked[-1]["message"] == "y cuando llega?"


async def test_opted_out_refused_daily_cap_and_a_failure_with_metas_reason(channel) -> None:
    notify, shop = notifier(channel, max_per_customer_per_day=1), await integration(channel)
    one = await notify.submit(shop, shipped("k1"))
    await channel.flush()
    capped = await notify.submit(shop, shipped("k2"))
    assert (capped.state, capped.reason) == (
        "refused", "the customer already got notifications.max_per_customer_per_day in the last 24 hours")
    assert len(channel.graph.sends()) == 1
    async with channel.sessions() as session:
        row = await session.get_one(Notification, one.id)
    failed = [{"code": 131026, "title": "Message undeliverable", "error_data": {"details": "Message Undeliverable."}}]
    assert row.event_id is not None
    await channel.webhook(status_webhook(await wamid_of(channel, row.event_id), "failed", errors=failed))
    view = await notify.view(shop, one.id) or {}
    assert (view["state"], view["reason"]) == (
        "failed", "Not delivered: (131026) Message undeliverable: Message Undeliverable.")
    async with channel.sessions() as session, session.begin():
        case = await session.get_one(Case, row.case_id)
        await set_whatsapp_opt_out(session, case, await session.get_one(Customer, case.customer_id), opted_out=True,
                                   actor="customer", channel="whatsapp")
    refused = await notify.submit(shop, shipped("k3"))
    assert (refused.state, refused.reason) == ("refused", "the customer opted out of WhatsApp messages")
    await channel.flush()
    assert len(channel.graph.sends()) == 1


async def test_held_in_the_customers_quiet_hours_and_sent_when_they_end(channel) -> None:
    notify, shop = notifier(channel, quiet_hours=("21:00", "08:00")), await integration(channel)
    los_angeles = ZoneInfo("America/Los_Angeles")
    late = datetime.now(los_angeles).replace(hour=23, minute=30, second=0, microsecond=0).astimezone(timezone.utc)
    held = await notify.submit(shop, shipped("night"), now=late)
    ends = (late.astimezone(los_angeles) + timedelta(days=1)).replace(hour=8, minute=0).astimezone(timezone.utc)
    view = await notify.view(shop, held.id) or {}
    assert (view["state"], view["reason"]) == ("held", "held until the customer's quiet hours end")
    assert view["due_at"] == ends
    assert await notify.release_due(ends - timedelta(minutes=1)) == 0
    await channel.flush()
    assert channel.graph.sends() == []
    assert await notify.release_due(ends) == 1
    await channel.flush()
    assert [s["template"]["name"] for s in channel.graph.sends()] == ["order_shipped"]
    assert (await notify.view(shop, held.id) or {})["state"] == "sent"


async def test_an_erased_customers_held_notification_is_never_sent_and_its_values_are_gone(channel, tmp_path) -> None:
    notify, shop = notifier(channel, quiet_hours=("21:00", "08:00")), await integration(channel)
    los_angeles = ZoneInfo("America/Los_Angeles")
    late = datetime.now(los_angeles).replace(hour=23, minute=30, second=0, microsecond=0).astimezone(timezone.utc)
    held = await notify.submit(shop, shipped("night"), now=late)
    async with channel.sessions() as session, session.begin():
        row = await session.get_one(Notification, held.id)
        assert await erase_customer(session, row.customer_id, actor="admin:1", reason="request",
                                    media_dir=tmp_path) is not None
    assert await notify.release_due(late + timedelta(days=2)) == 0
    await channel.flush()
    assert channel.graph.sends() == []
    async with channel.sessions() as session:
        row = await session.get_one(Notification, held.id)
        assert (row.status, row.reason, row.parameters, row.detail) == ("refused", "erased", [], {})
