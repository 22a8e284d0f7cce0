"""Migration 0012_content_digest recomputes every chain: exports made before it and after it both verify."""
from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any

from sqlalchemy import select, update

from handoff.core import audit
from handoff.core.timeline import verify_case
from handoff.reports.audit_export import LEGACY_FORMAT, export_case, verify_export
from handoff.store.migrate import MIGRATIONS
from handoff.store.models import AuditEntry, TimelineEvent
from tests.service.reports.conversation import misunderstood_case


def migration(name: str = "0012_content_digest") -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, MIGRATIONS / "versions" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def rechain(sessions, new: bool) -> None:
    """What the migration's upgrade (new) or downgrade (old) does to the rows, on this database."""
    module, audit_salts = migration(), migration("0012_audit_digest")
    async with sessions() as session, session.begin():
        if not new:
            await session.execute(update(TimelineEvent).values(content_salt=None, content_digest=None))
            await session.execute(update(AuditEntry).values(content_salt=None, content_digest=None))
        connection = await session.connection()
        await connection.run_sync(lambda sync: module._rechain(sync, new=new))
        await connection.run_sync(lambda sync: module._rechain_audit(sync, new=new))
        if new:  # then 0012_audit_digest: the audit log's details salted too
            await connection.run_sync(lambda sync: audit_salts._rechain(sync, salted=True))


def as_before(document: dict[str, Any]) -> dict[str, Any]:
    """An export as the service wrote them before the migration: format 1, no salts or digests."""
    events = [{k: v for k, v in event.items() if k not in ("content_salt", "content_digest")}
              for event in document["events"]]
    return {**document, "format": LEGACY_FORMAT, "events": events}


async def test_chains_recomputed_and_old_and_new_exports_verify(sessions) -> None:
    async with sessions() as session, session.begin():
        case, _ = await misunderstood_case(session)
        await audit.record(session, "cli", "test_entry", case_id=case.id, note="before")
    await rechain(sessions, new=False)  # the database as it was before 0012_content_digest
    async with sessions() as session:
        before = as_before(await export_case(session, case.id))
    assert verify_export(before).ok
    tampered = {**before, "events": [dict(e) for e in before["events"]]}
    tampered["events"][2]["text"] = "otra cosa"
    assert not verify_export(tampered).ok  # the old format is still checked, not waved through

    await rechain(sessions, new=True)
    async with sessions() as session:
        assert (await verify_case(session, case.id)).ok
        assert (await audit.verify(session)).ok
        assert None not in set(await session.scalars(select(AuditEntry.content_salt)))
        after = await export_case(session, case.id)
        salts = set(await session.scalars(select(TimelineEvent.content_salt).where(TimelineEvent.case_id == case.id)))
    assert verify_export(after).ok and verify_export(before).ok
    assert None not in salts and len(salts) == after["head"]["count"]  # one random salt per event
    assert after["events"][0]["text"] == before["events"][0]["text"]  # content unchanged, only the chain form
    assert after["head"]["hash"] != before["head"]["hash"]
