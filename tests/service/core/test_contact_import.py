"""A CSV of 10,000 contacts with duplicates, conflicts and bad rows: the dry run's counts, the import, no duplicate.

On SQLite and PostgreSQL. The counts are worked out from how the file is made, not read back from the plan.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy import func, select

from handoff.core.contact_import import ContactConflict, import_contacts, upsert_contact
from handoff.core.contact_rows import ContactRow, read_contacts
from handoff.core.customer_lookup import find_customers
from handoff.core.customers import resolve_contact
from handoff.store.models import AuditEntry, Customer, Identity

EXISTING = 200  # E0..E99 WhatsApp only; E100..E199 WhatsApp and crm_id OLD-j


@dataclass(frozen=True)
class Boss:
    id: str = "boss"
    role: str = "supervisor"
    teams: tuple[str, ...] = ()


def existing_phone(j: int) -> str:
    return f"+5255900{j:05d}"


async def seed_existing(sessions) -> dict[int, str]:
    ids = {}
    async with sessions() as session, session.begin():
        for j in range(EXISTING):
            contact = await resolve_contact(session, "whatsapp", existing_phone(j), verified=True,
                                            verified_by="whatsapp", display_name=f"Existente {j}")
            if j >= 100:
                session.add(Identity(customer_id=contact.customer.id, kind="crm", value=f"OLD-{j}"))
            ids[j] = contact.customer.id
    return ids


def ten_thousand_rows() -> bytes:
    lines = ["name,phone,email,crm_id,language"]
    lines += [f"Cliente {i},55 {80000000 + i},{f'c{i}@example.com' if i % 3 == 0 else ''},C-{i},es"
              for i in range(9000)]  # A: 9,000 customers, national numbers (read in MX)
    lines += [f"Cliente {i},+52 55 {8000_0000 + i:08d},,C-{i}," for i in range(500)]  # B: the same 500 again
    lines += [f"Cliente {i},+52 55 7000 {i:04d},,C-{i}," for i in range(500, 800)]  # C: C-500…799, another phone
    lines += [f"Nuevo {j},{existing_phone(j)},,N-{j},en" for j in range(100)]  # D: E0..E99's phones, new crm ids
    lines += [f"X {k},{existing_phone(100 + k)},,OLD-{150 + k}," for k in range(50)]  # E: phone of one, crm of other
    lines += [f"Malo {k},12,,BAD-{k}," for k in range(50)]  # F: not a phone
    return ("\n".join(lines) + "\n").encode()


async def customer_count(sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Customer)) or 0)


async def test_ten_thousand_rows_dry_run_then_import_and_no_duplicate_customer(sessions) -> None:
    existing = await seed_existing(sessions)
    rows, bad = read_contacts(ten_thousand_rows(), "MX")
    assert len(rows) + len(bad) == 10_000
    started = time.perf_counter()
    dry = await import_contacts(sessions, rows, bad, actor="cli", dry_run=True)
    dry_seconds = time.perf_counter() - started
    # new: A less the 300 whose crm_id comes back with another phone; matched: B (same as A's row) and D;
    # conflict: C, the 300 rows of A they contradict, and E; invalid: F
    assert dry.counts == {"new": 8700, "matched": 600, "conflict": 650, "invalid": 50}
    by_row = {planned.row: planned for planned in dry.rows}
    assert by_row[9002].reason == "same customer as row 2" and by_row[9002].same_as == 2  # B's first = A's first
    assert by_row[502].outcome == "conflict" and by_row[9502].outcome == "conflict"  # C-500 twice
    assert by_row[502].reason == "crm_id C-500 with two phones: +525570000500 (row 9502), +525580000500 (row 502)"
    assert by_row[9802].customer_id == existing[0]  # D: E0's phone
    assert by_row[9902].reason.startswith("names two customers")  # E
    assert by_row[9952].outcome == "invalid"
    assert await customer_count(sessions) == EXISTING  # a dry run writes nothing

    started = time.perf_counter()
    done = await import_contacts(sessions, rows, bad, actor="cli", dry_run=False)
    import_seconds = time.perf_counter() - started
    assert done.counts == dry.counts and (done.created, done.updated) == (8700, 100)
    assert await customer_count(sessions) == EXISTING + 8700
    print(f"\n10,000 rows: dry run {dry_seconds:.2f} s, import {import_seconds:.2f} s")
    assert import_seconds < 60 and dry_seconds < 30  # batches, not a query per row (a few seconds here)
    async with sessions() as session:
        crm_owners = dict((await session.execute(select(Identity.value, func.count()).where(
            Identity.kind == "crm").group_by(Identity.value))).tuples().all())
        names = (await session.execute(select(Customer.display_name, func.count()).group_by(Customer.display_name)
                                       .having(func.count() > 1))).all()
        assert names == []  # every name in the file is one customer, once
        assert all(count == 1 for count in crm_owners.values())
        assert "C-0" in crm_owners and "C-500" not in crm_owners and "BAD-0" not in crm_owners
        e0 = await session.get_one(Customer, existing[0])
        assert e0.display_name == "Nuevo 0" and e0.language == "en"
        kinds = sorted(await session.scalars(select(Identity.kind).where(Identity.customer_id == existing[0])))
        assert kinds == ["crm", "whatsapp"]  # the phone is their WhatsApp number: not added twice
        [found] = await find_customers(session, Boss(), "Cliente 8999", region="MX")  # name keys written
        assert [i["value"] for i in found["identities"]] == ["C-8999", "+525580008999"]
        assert [c["id"] for c in await find_customers(session, Boss(), "nuevo 7", region="MX")][0] == existing[7]
        assert await find_customers(session, Boss(), "existente 7", region="MX") == []  # old name keys gone
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "contacts_import"))
        assert audit is not None and audit.detail["counts"]["new"] == 8700

    again = await import_contacts(sessions, rows, bad, actor="cli", dry_run=True)
    assert again.counts == {"new": 0, "matched": 9300, "conflict": 650, "invalid": 50}
    await import_contacts(sessions, rows, bad, actor="cli", dry_run=False)
    assert await customer_count(sessions) == EXISTING + 8700  # importing the file twice duplicates nobody


async def test_a_merged_owner_is_matched_through_its_survivor(sessions) -> None:
    existing = await seed_existing(sessions)
    async with sessions() as session, session.begin():
        absorbed = await session.get_one(Customer, existing[1])
        absorbed.merged_into_id = existing[2]
    report = await import_contacts(sessions, [ContactRow(2, "Uno", existing_phone(1), None, "M-1")], [],
                                   actor="cli", dry_run=False)
    assert [(r.outcome, r.customer_id) for r in report.rows] == [("matched", existing[2])]


async def test_the_upsert_creates_once_completes_and_refuses_another_customers_phone(sessions) -> None:
    existing = await seed_existing(sessions)
    first = await upsert_contact(sessions, ContactRow(0, "Ana", "+525511110000", None, "CRM-1"), actor="t")
    again = await upsert_contact(sessions, ContactRow(0, "Ana María", None, "ana@x.mx", "CRM-1", "pt"), actor="t")
    assert first.created and not again.created and again.customer_id == first.customer_id
    async with sessions() as session:
        ana = await session.get_one(Customer, first.customer_id)
        assert (ana.display_name, ana.language) == ("Ana María", "pt")
    try:
        await upsert_contact(sessions, ContactRow(0, None, existing_phone(3), None, "CRM-1"), actor="t")
    except ContactConflict as exc:
        assert exc.reason == (f"names two customers: crm_id CRM-1 (row 0) is customer {first.customer_id}'s; "
                              f"phone {existing_phone(3)} (row 0) is customer {existing[3]}'s")
    else:
        raise AssertionError("another customer's phone was accepted")
    assert await customer_count(sessions) == EXISTING + 1


async def test_concurrent_upserts_of_one_crm_id_make_one_customer(sessions) -> None:
    """Ten integrations' calls at once (identities locked in turn, owners read after the lock): one customer."""
    rows = [ContactRow(0, f"Caller {n}", "+525544440000", None, "CRM-RACE") for n in range(10)]
    done = await asyncio.gather(*(upsert_contact(sessions, row, actor="t") for row in rows))
    assert len({result.customer_id for result in done}) == 1 and sum(result.created for result in done) == 1
    assert await customer_count(sessions) == 1




async def test_a_door_writing_the_phone_meanwhile_is_waited_for_and_matched_by_the_upsert(sessions) -> None:
    """A WhatsApp message from the number arrives while the CRM's upsert runs: the upsert waits for the door's
    transaction (the doors' identity locks, a phone's WhatsApp one too; SQLite's one writer), then matches its
    customer instead of making a second one."""
    phone = "+525533330001"
    async with sessions() as door, door.begin():
        contact = await resolve_contact(door, "whatsapp", phone, verified=True, verified_by="whatsapp",
                                        display_name="Door")
        upserting = asyncio.create_task(upsert_contact(sessions, ContactRow(0, "CRM", phone, None, "R-9"), actor="t"))
        await asyncio.sleep(1)
        assert not upserting.done()  # waiting for the door
    assert (await upserting).customer_id == contact.customer.id
    assert await customer_count(sessions) == 1
