"""Joining a site's customer on SQLite and PostgreSQL: at once from two tabs, and undone by an agent (issue 13)."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from handoff.channels.webchat.identified import Joined, join_site_customer
from handoff.channels.webchat.identity_token import SiteIdentity
from handoff.core.customers import find_by_identity
from handoff.core.merges import undo_merge
from handoff.store.models import Identity, Merge
from tests.service.support.merging import Sessions, chains_ok, snapshot, two_customers


async def owner(sessions: Sessions, kind: str, value: str) -> str | None:
    async with sessions() as session:
        found = await find_by_identity(session, kind, value)
    return found.id if found else None


async def test_two_tabs_signing_in_at_once_become_one_customer(sessions: Sessions) -> None:
    identity = SiteIdentity(crm_id="crm-9", email="nueva@example.mx")
    joined = await asyncio.gather(*(join_site_customer(sessions, "webchat", tab, identity, "es")
                                    for tab in ("tab-1", "tab-2", "tab-3")))
    assert all(isinstance(one, Joined) for one in joined)
    customer = await owner(sessions, "crm", "crm-9")
    assert customer is not None
    assert {await owner(sessions, "webchat", tab) for tab in ("tab-1", "tab-2", "tab-3")} == {customer}
    async with sessions() as session:
        crm = list(await session.scalars(select(Identity).where(Identity.kind == "crm")))
    assert [(row.value, row.verified, row.verified_by) for row in crm] == [("crm-9", True, "site_token")]
    await chains_ok(sessions)


async def test_the_site_phone_merges_into_the_whatsapp_customer_and_undo_restores_every_row(
        sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    before = await snapshot(sessions)
    # No language: the join itself would give the visitor one before the merge, and undo restores the merge only.
    joined = await join_site_customer(sessions, "webchat", "visitor-1",
                                      SiteIdentity(crm_id="crm-ana", phone=ids["phone"]), None)
    assert joined == Joined(ids["ana"], ids["ana_open"])
    assert await owner(sessions, "webchat", "visitor-1") == ids["ana"]
    await chains_ok(sessions)
    async with sessions() as session, session.begin():
        merge = await session.scalar(select(Merge))
        assert merge is not None and merge.evidence["verified_by"] == "site_token"
        await undo_merge(session, merge.id, "agent:x")
    after = await snapshot(sessions)
    for table in ("customers", "cases", "handoffs", "calls", "merge_suggestions", "timeline_events"):
        assert after[table] == before[table], table
    # The site's id stays where it was given (the visitor's session); everything that moved is back.
    assert [row for row in after["identities"] if row not in before["identities"]] == [
        {**after["identities"][-1], "kind": "crm", "value": "crm-ana", "customer_id": ids["visitor"]}]
    await chains_ok(sessions)
