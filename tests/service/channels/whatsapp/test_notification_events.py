"""The inbox hears about notifications without a refresh: a notification that opens a proactive case publishes
CaseChanged after its commit (the inbox's live pushes send the new case), one on an open case EventsAdded (its
timeline grows on screen). Real database, the Graph API stand-in and the inbox's own LivePushes listener.

Before: the proactive case appeared in the inbox only when an agent reloaded it.
"""
from __future__ import annotations

from typing import Any

from handoff.core.events import EventBus
from handoff.core.notifications import NotificationRequest
from handoff.inbox.live_pushes import LivePushes
from handoff.store.models import Notification
from tests.service.support.notifications import integration, notifier
from tests.service.support.whatsapp_webhooks import WA_ID

SHIPPED = {"customer_name": "Sheena", "order_number": "A-1001", "tracking_url": "https://t.example/A-1001"}


class Live:
    """The Socket.IO side of the inbox, as the pushes it would send."""

    def __init__(self) -> None:
        self.pushes: list[tuple[str, dict[str, Any]]] = []

    async def case_updated(self, summary: dict[str, Any], *, previous_team: str | None = None) -> None:
        self.pushes.append(("case_updated", summary))

    async def case_event(self, case_id: str, team: str | None, assignee_id: str | None,
                         event: dict[str, Any]) -> None:
        self.pushes.append(("case_event", {"case_id": case_id, **event}))

    async def panel_changed(self) -> None:
        return None


async def test_a_new_proactive_case_and_a_notification_on_it_are_pushed_live(channel) -> None:
    live = Live()
    notify = notifier(channel, events=EventBus([LivePushes(channel.sessions, live)]))  # type: ignore[arg-type]
    shop = await integration(channel)
    first = await notify.submit(shop, NotificationRequest(to={"phone": f"+{WA_ID}"}, template="order_shipped",
                                                          language="es", values=SHIPPED, idempotency_key="one"))
    async with channel.sessions() as session:
        case_id = (await session.get_one(Notification, first.id)).case_id
    assert [(kind, push["id"], push["status"]) for kind, push in live.pushes] == [("case_updated", case_id, "bot")]
    live.pushes.clear()
    await notify.submit(shop, NotificationRequest(to={"phone": f"+{WA_ID}"}, template="order_shipped",
                                                  language="es", values={**SHIPPED, "order_number": "A-1002"},
                                                  idempotency_key="two"))
    assert [(kind, push["case_id"], push["kind"]) for kind, push in live.pushes] == [
        ("case_event", case_id, "notification"), ("case_event", case_id, "message")]
    assert "A-1002" in live.pushes[1][1]["text"]
