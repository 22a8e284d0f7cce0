"""Notifications as free text (core.notification_content) over a real database and the Graph API stand-in: the
caller's text goes instead of a template while the customer's 24-hour WhatsApp window is open; outside it the
given template goes, and free text alone is refused (422 before it is recorded, `window_closed` when the window
closed while it was held). The case remembers what was sent, the assistant's next turn gets it in its metadata
(never the text), and an erasure forgets both.

Before: a notification could only be an approved template, and the assistant never knew what had been sent.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from handoff.core.erasure import erase_customer
from handoff.core.notifications import NotificationInvalid, NotificationRequest
from handoff.store.models import Case, Notification
from tests.service.support.notifications import integration, notifier
from tests.service.support.whatsapp_webhooks import WA_ID, text_webhook

PHONE = f"+{WA_ID}"  # the stand-in webhooks' sender (+1 650: America/Los_Angeles)
SHIPPED = {"customer_name": "Sheena", "order_number": "100002", "tracking_url": "https://t.example/100002"}
TEXT = "Sheena, tu pedido 100002 salió hoy y llega mañana antes de las 14:00."


def request(key: str, *, template: str | None = "order_shipped", text: str | None = TEXT,
            allow: bool = True) -> NotificationRequest:
    return NotificationRequest(to={"phone": PHONE}, template=template, language="es", values=SHIPPED,
                               idempotency_key=key, text=text, allow_free_text=allow)


async def test_free_text_inside_the_window_and_the_assistant_told_what_was_sent(channel, tmp_path) -> None:
    notify, shop = notifier(channel), await integration(channel)
    await channel.webhook(text_webhook("hola", wamid="wamid.HELLO"))  # the customer wrote: the window is open
    sent = await notify.submit(shop, request("free-1"))
    await channel.flush()
    texts = [s for s in channel.graph.sends() if s["type"] == "text"]
    assert texts[-1]["text"]["body"] == TEXT and texts[-1]["to"] == WA_ID
    assert not [s for s in channel.graph.sends() if s["type"] == "template"]
    view = await notify.view(shop, sent.id) or {}
    assert (view["state"], view["sent_as"], view["template"]) == ("sent", "text", "order_shipped")
    async with channel.sessions() as session:
        row = await session.get_one(Notification, sent.id)
        case = await session.get_one(Case, row.case_id)
    assert case.notified is not None and case.notified["sent_as"] == "text"
    assert case.notified["values"] == SHIPPED and TEXT not in str(case.notified)
    events = await channel.events(case_id=case.id)
    [note] = [e for e in events if e.kind == "notification"]
    assert note.payload["sent_as"] == "text" and note.payload["integration"] == "shop"
    assert [e.text for e in events if e.kind == "message" and e.direction == "out"][-1] == TEXT
    await channel.webhook(text_webhook("y cuando llega?", wamid="wamid.REPLY"))
    told = channel.rasa.asked[-1]["metadata"]["notification"]
    assert (told["id"], told["values"]["order_number"], told["sent_as"]) == (sent.id, "100002", "text")
    assert TEXT not in str(channel.rasa.asked[-1])  # the assistant gets the values, never the text
    async with channel.sessions() as session, session.begin():
        assert await erase_customer(session, case.customer_id, actor="admin:1", reason="request",
                                    media_dir=tmp_path) is not None
    async with channel.sessions() as session:
        row = await session.get_one(Notification, sent.id)
        case = await session.get_one(Case, row.case_id)
        assert (row.detail, case.notified) == ({}, None)


async def test_outside_the_window_the_template_goes_and_free_text_alone_is_refused(channel) -> None:
    notify, shop = notifier(channel), await integration(channel)
    with pytest.raises(NotificationInvalid) as refused:  # a phone never seen: no window
        await notify.submit(shop, request("free-only", template=None))
    assert refused.value.field == "template" and "24-hour WhatsApp window" in str(refused.value)
    with pytest.raises(NotificationInvalid) as unallowed:
        await notify.submit(shop, request("not-allowed", allow=False))
    assert unallowed.value.field == "allow_free_text"
    with pytest.raises(NotificationInvalid) as nothing:
        await notify.submit(shop, request("nothing", template=None, text=None))
    assert nothing.value.field == "template"
    fallback = await notify.submit(shop, request("fallback"))
    await channel.flush()
    [sent] = channel.graph.sends()
    assert sent["template"]["name"] == "order_shipped"
    assert (await notify.view(shop, fallback.id) or {})["sent_as"] == "template"
    async with channel.sessions() as session:
        row = await session.get_one(Notification, fallback.id)
        case = await session.get_one(Case, row.case_id)
    assert case.notified is not None
    assert (case.notified["template"], case.notified["values"]) == ("order_shipped", SHIPPED)


async def test_held_past_the_window_free_text_is_refused_and_a_template_goes_instead(channel) -> None:
    notify, shop = notifier(channel, quiet_hours=("21:00", "08:00")), await integration(channel)
    await channel.webhook(text_webhook("hola", wamid="wamid.HELLO2"))
    los_angeles = ZoneInfo("America/Los_Angeles")
    late = datetime.now(los_angeles).replace(hour=23, minute=30, second=0, microsecond=0)
    late = (late if late > datetime.now(los_angeles) else late + timedelta(days=1)).astimezone(timezone.utc)
    alone = await notify.submit(shop, request("night-text", template=None), now=late)
    with_template = await notify.submit(shop, request("night-both"), now=late)
    assert (alone.state, with_template.state) == ("held", "held")
    ends = (await notify.view(shop, alone.id) or {})["due_at"]
    assert await notify.release_due(ends + timedelta(days=1)) == 2  # the customer's window closed meanwhile
    await channel.flush()
    view = await notify.view(shop, alone.id) or {}
    assert (view["state"], view["reason"]) == (
        "refused", "free text only, and the customer's 24-hour WhatsApp window closed before it could go")
    assert (await notify.view(shop, with_template.id) or {})["sent_as"] == "template"
    sent = [s["type"] for s in channel.graph.sends() if s["type"] in ("text", "template")]
    assert sent[-1] == "template" and sent.count("template") == 1
