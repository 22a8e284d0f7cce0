"""Retention erases old content by kind, marks each case, keeps every chain verifiable, and never erases one item
twice even when two workers run the round at once."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import func, select

from handoff.core import audit
from handoff.core.operations import RetentionOperations
from handoff.core.retention import Retention, cutoffs
from handoff.core.timeline import verify_case
from handoff.store.models import AuditEntry, Call, InboundWebhook, TimelineEvent, utcnow
from tests.service.reports.conversation import misunderstood_case

POLICY = RetentionOperations(message_text=30, recordings=90, webhook_bodies=7)


def later(days: int):
    return lambda: utcnow() + timedelta(days=days)


def test_cutoffs_per_kind_and_none_kept() -> None:
    now = datetime(2026, 12, 1)
    assert cutoffs(POLICY, now) == {"message_text": datetime(2026, 11, 1), "recordings": datetime(2026, 9, 2),
                                    "webhook_bodies": datetime(2026, 11, 24)}
    assert cutoffs(RetentionOperations(recordings=10), now) == {"recordings": datetime(2026, 11, 21)}


async def test_old_content_is_erased_by_kind_and_chains_still_verify(sessions, tmp_path) -> None:
    async with sessions() as session, session.begin():
        case, _ = await misunderstood_case(session)
        session.add(Call(provider="twilio", provider_call_id="CA9", case_id=case.id, customer_id=case.customer_id,
                         direction="inbound", from_number="+525512345678", status="completed", transcript="hola"))
        session.add(InboundWebhook(channel="whatsapp", body=b'{"text":"hola"}', processed_at=utcnow()))

    only_webhooks = await Retention(sessions, POLICY, tmp_path, clock=later(10)).sweep()
    assert (only_webhooks.events, only_webhooks.calls, only_webhooks.webhooks) == (0, 0, 1)

    first, second = Retention(sessions, POLICY, tmp_path, batch=3, clock=later(31)), \
        Retention(sessions, POLICY, tmp_path, batch=3, clock=later(31))
    rounds = await asyncio.gather(first.sweep(), second.sweep())  # two workers at once
    assert sum(r.events for r in rounds) == 7  # each of the 7 events erased once
    async with sessions() as session:
        assert (await verify_case(session, case.id)).ok
        texts = list(await session.scalars(select(TimelineEvent.text).where(TimelineEvent.case_id == case.id)))
        markers = list(await session.scalars(select(TimelineEvent.payload).where(
            TimelineEvent.case_id == case.id, TimelineEvent.kind == "erasure")))
        call = await session.scalar(select(Call))
        assert call is not None and call.transcript == "hola"  # recordings are kept 90 days
        assert (await audit.verify(session)).ok
        entries = await session.scalar(select(func.count()).select_from(AuditEntry)
                                       .where(AuditEntry.action == "retention_erased"))
    assert set(texts) == {None} and markers and markers[0]["erased_by"] == "system:retention"
    assert entries >= 2

    again = await Retention(sessions, POLICY, tmp_path, clock=later(91)).sweep()
    assert (again.events, again.calls) == (0, 1)  # markers are never erased; the call's turn came

