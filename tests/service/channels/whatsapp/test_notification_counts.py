"""The dashboard's notification counts per template (reports/notifications.py) against numbers counted by hand, over
SQLite and PostgreSQL: notifications sent through the Graph API stand-in, Meta's statuses, the customers' replies
(one of them STOP) and a handoff, all through the service's own paths.

Before: nothing said what the business's first messages achieved.
"""
from __future__ import annotations

import json
from datetime import timedelta

from handoff.core.handoffs import HandoffRequest, hand_to_people
from handoff.core.notifications import NotificationRequest
from handoff.reports.notifications import notification_report
from handoff.store.models import Case, Notification, utcnow
from tests.service.channels.whatsapp.test_notifications import wamid_of
from tests.service.support.notifications import OPERATIONS, integration, notifier
from tests.service.support.whatsapp_webhooks import status_webhook, text_webhook

SHIPPED = {"customer_name": "Ana", "order_number": "A-1", "tracking_url": "https://t.example/A-1"}
PHONES = {name: f"1650555{number:04d}" for number, name in enumerate(["ana", "beto", "caro", "dani", "eva"])}


def reply(wa_id: str, text: str, wamid: str) -> bytes:
    """A text from another WhatsApp number than the stand-in's default."""
    data = json.loads(text_webhook(text, wamid=wamid))
    value = data["entry"][0]["changes"][0]["value"]
    value["messages"][0]["from"] = wa_id
    value["contacts"][0]["wa_id"] = wa_id
    return json.dumps(data).encode()


async def test_counts_per_template_match_the_hand_count(channel) -> None:
    notify = notifier(channel, max_per_customer_per_day=9)
    shop = await integration(channel)
    ids = {}
    for name, wa_id in PHONES.items():
        template, values = ("appointment_reminder", {"customer_name": "Eva", "when": "el lunes"}) if name == "eva" \
            else ("order_shipped", SHIPPED)
        done = await notify.submit(shop, NotificationRequest(to={"phone": f"+{wa_id}"}, template=template,
                                                             language="es", values=values, idempotency_key=name))
        ids[name] = done.id
    await channel.flush()
    async with channel.sessions() as session:
        events = {name: (await session.get_one(Notification, notification)).event_id
                  for name, notification in ids.items()}
    wamids = {name: await wamid_of(channel, event_id or 0) for name, event_id in events.items()}
    for name, status in [("ana", "delivered"), ("ana", "read"), ("beto", "delivered"), ("caro", "delivered"),
                         ("dani", "failed")]:
        await channel.webhook(status_webhook(wamids[name], status))
    await channel.webhook(reply(PHONES["ana"], "y cuando llega?", "wamid.R1"))
    await channel.webhook(reply(PHONES["caro"], "STOP", "wamid.R2"))
    async with channel.sessions() as session, session.begin():
        row = await session.get_one(Notification, ids["ana"])
        case = await session.get_one(Case, row.case_id)
        await hand_to_people(session, case, HandoffRequest(reason="explicit_request"), OPERATIONS, actor="system")
    refused = await notify.submit(shop, NotificationRequest(to={"phone": f"+{PHONES['caro']}"},
                                                            template="order_shipped", language="es", values=SHIPPED,
                                                            idempotency_key="caro-again"))
    assert refused.state == "refused"  # she opted out
    now = utcnow()
    async with channel.sessions() as session:
        report = await notification_report(session, now - timedelta(hours=1), now + timedelta(hours=1))
        earlier = await notification_report(session, now - timedelta(days=2), now - timedelta(days=1))
    zero = {"asked": 0, "sent": 0, "delivered": 0, "read": 0, "answered": 0, "failed": 0, "refused": 0,
            "opt_outs": 0, "reached_people": 0}
    # By hand: order_shipped asked 5 (ana, beto, caro, dani, caro again), refused 1, sent 4; delivered ana (read
    # too), beto, caro; dani failed; answered ana and caro (her STOP is a reply); caro opted out; ana reached people.
    assert report["templates"] == [
        {**zero, "template": "appointment_reminder", "asked": 1, "sent": 1},
        {"template": "order_shipped", "asked": 5, "sent": 4, "delivered": 3, "read": 1, "answered": 2, "failed": 1,
         "refused": 1, "opt_outs": 1, "reached_people": 1}]
    assert report["total"] == {"template": "", "asked": 6, "sent": 5, "delivered": 3, "read": 1, "answered": 2,
                               "failed": 1, "refused": 1, "opt_outs": 1, "reached_people": 1}
    assert earlier == {"templates": [], "total": {**zero, "template": ""}}
