"""What notifications did, per template (README: Notifications): sent, delivered, read, answered, the opt-outs they
brought and the replies that reached people, for notifications asked for in a period.

One row per notification is read with its facts (the sent message's delivery status, and whether the customer
later wrote, opted out or was handed to people on its case); the counting is a pure fold over those facts.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from handoff.store.models import Handoff, Notification, TimelineEvent

REACHED = ("delivered", "read")  # the message's delivery status when it reached the customer
ANSWERED_BY_KEY = ("confirmed", "answered")  # a voice notification's digit (core.notification_calls)


class NotificationFact(NamedTuple):
    """One notification as the counts see it."""

    template: str
    channel: str
    status: str  # queued held sent refused (confirmed, answered: a voice notification's digit)
    delivery: str | None  # the sent message's delivery status
    replied: bool  # the customer wrote on its case after it
    opted_out: bool  # … and opted out of WhatsApp messages there
    reached_people: bool  # the case went to people after it was sent


@dataclass
class TemplateCounts:
    template: str
    asked: int = 0  # requests accepted in the period, whatever became of them
    sent: int = 0
    delivered: int = 0  # reached the customer (a voice call picked up)
    read: int = 0
    answered: int = 0  # the customer wrote back, or pressed a key on the call
    failed: int = 0
    refused: int = 0  # opted out before, the daily limit, no address
    opt_outs: int = 0  # customers who opted out after it
    reached_people: int = 0  # replies that reached people: the case handed to them after it was sent

    def add(self, fact: NotificationFact) -> None:
        self.asked += 1
        if fact.status == "refused":
            self.refused += 1
        if fact.status in ("queued", "held", "refused"):
            return
        self.sent += 1
        keyed = fact.status in ANSWERED_BY_KEY
        if fact.delivery == "failed" and not keyed:
            self.failed += 1
            return
        self.delivered += fact.delivery in REACHED or keyed
        self.read += fact.delivery == "read"
        self.answered += fact.replied or keyed
        self.opt_outs += fact.opted_out
        self.reached_people += fact.reached_people


def counts(facts: Iterable[NotificationFact]) -> dict[str, Any]:
    """Per template (by name) and in all; pure."""
    by_template: dict[str, TemplateCounts] = {}
    total = TemplateCounts("")
    for fact in facts:
        by_template.setdefault(fact.template, TemplateCounts(fact.template)).add(fact)
        total.add(fact)
    return {"templates": [asdict(row) for _, row in sorted(by_template.items())], "total": asdict(total)}


async def notification_facts(session: AsyncSession, start: datetime, end: datetime) -> list[NotificationFact]:
    """The facts of every notification asked for in [start, end): one query, each fact an EXISTS on its case."""
    message = aliased(TimelineEvent)
    later = aliased(TimelineEvent)
    after = (later.case_id == Notification.case_id, later.id > Notification.event_id)
    replied = exists().where(*after, later.direction == "in", later.kind == "message")
    opted_out = exists().where(*after, later.kind == "consent",
                               later.payload["whatsapp"].as_string() == "opted_out")
    people = exists().where(Handoff.case_id == Notification.case_id, Handoff.direction == "to_human",
                            Handoff.queued_at >= Notification.sent_at)
    rows = await session.execute(
        select(Notification.template, Notification.channel, Notification.status, message.delivery_status,
               replied.label("replied"), opted_out.label("opted_out"), people.label("people"))
        .outerjoin(message, message.id == Notification.event_id)
        .where(Notification.created_at >= start, Notification.created_at < end))
    return [NotificationFact(row.template, row.channel, row.status, row.delivery_status, bool(row.replied),
                             bool(row.opted_out), bool(row.people)) for row in rows]


async def notification_report(session: AsyncSession, start: datetime, end: datetime) -> dict[str, Any]:
    """The dashboard's notifications section for [start, end)."""
    return counts(await notification_facts(session, start, end))
