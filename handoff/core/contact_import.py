"""Importing and upserting contacts: the existing owners read in batches, the plan (core.contact_plan), the writes.

A dry run reads and plans only. An import plans again inside its own transaction, under one lock (two imports
never interleave), and writes in batches: customers, their identities and their name keys (the keys the mapper
events keep for one customer at a time: here `CustomerKey` rows are written for the batch at once). Should a
door create one of the file's identities at the same moment (a unique violation), the whole import is planned
and written again: that row is then matched. The doors' per-identity locks are not taken for a whole file
(PostgreSQL's lock table holds a few thousand); an upsert, a few identities, takes them. Identities an import adds
are unverified: only a door, a code or a signed token proves one. 10,000 rows cost a few dozen statements.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import structlog
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.expression import bindparam

from handoff.core import audit
from handoff.core.contact_plan import CONFLICT, Owners, Plan, Planned, Write, plan_import
from handoff.core.contact_rows import BadRow, ContactRow
from handoff.core.locks import xact_lock, xact_locks
from handoff.store.db import read_only
from handoff.store.models import Customer, CustomerKey, Identity, new_id, utcnow
from handoff.store.search_keys import name_keys

log = structlog.get_logger(__name__)
CHUNK = 500  # values per IN (…): far below SQLite's and PostgreSQL's bound-parameter limits
ATTEMPTS = 3
LOOKED_UP = {"crm": ("crm",), "email": ("email",), "phone": ("phone", "whatsapp")}  # a phone is a WhatsApp number too
T = TypeVar("T")


@dataclass(frozen=True)
class ImportReport:
    dry_run: bool
    counts: dict[str, int]
    rows: list[Planned]
    created: int = 0  # customers
    updated: int = 0  # existing customers given identities, a name or a language


class ContactConflict(Exception):
    """An upsert that would make two customers one or give a customer a second crm_id: the reason says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


async def survivors(session: AsyncSession, customer_ids: Iterable[str]) -> dict[str, str]:
    """Each customer's survivor (itself unless merged away), a batch query per merge generation."""
    result = {customer_id: customer_id for customer_id in customer_ids}
    frontier, seen = set(result), set()
    while frontier:
        moved: dict[str, str] = {}
        for part in chunks(sorted(frontier)):
            for customer_id, survivor in await session.execute(select(Customer.id, Customer.merged_into_id).where(
                    Customer.id.in_(part), Customer.merged_into_id.is_not(None))):
                moved[customer_id] = str(survivor)
        seen |= frontier
        for customer_id, current in result.items():
            if current in moved:
                result[customer_id] = moved[current]
        frontier = set(moved.values()) - seen  # the next generation (a cycle stops here)
    return result


def identity_locks(rows: Sequence[ContactRow]) -> set[str]:
    """The doors' lock keys (core.customers) of every identity the rows name; a phone is a WhatsApp number too."""
    return {f"identity:{kind}:{value}" for row in rows for name, value in row.identities()
            for kind in LOOKED_UP[name]}


async def load_owners(session: AsyncSession, rows: Sequence[ContactRow]) -> tuple[Owners, dict[str, str]]:
    """Who owns each key the rows name (merges followed), and the crm_id those customers already have."""
    wanted: dict[str, set[str]] = {kind: set() for kind in LOOKED_UP}
    for row in rows:
        for kind, value in row.identities():
            wanted[kind].add(value)
    found: list[tuple[str, str, str]] = []
    for kind, values in wanted.items():
        for part in chunks(sorted(values)):
            found.extend((await session.execute(select(Identity.kind, Identity.value, Identity.customer_id).where(
                Identity.kind.in_(LOOKED_UP[kind]), Identity.value.in_(part)))).tuples().all())
    alive = await survivors(session, {customer_id for _, _, customer_id in found})
    owners: dict[tuple[str, str], set[str]] = {}
    for kind, value, customer_id in found:
        owners.setdefault(("phone" if kind == "whatsapp" else kind, value), set()).add(alive[customer_id])
    crm_of: dict[str, str] = {}
    for part in chunks(sorted(set(alive.values()))):
        for customer_id, value in await session.execute(select(Identity.customer_id, Identity.value).where(
                Identity.kind == "crm", Identity.customer_id.in_(part)).order_by(Identity.id)):
            crm_of.setdefault(customer_id, value)
    return {key: frozenset(ids) for key, ids in owners.items()}, crm_of


async def _in_batches(session: AsyncSession, statement: Any, rows: Sequence[dict[str, Any]]) -> None:
    """One executemany per batch of rows."""
    for part in chunks(rows):
        await session.execute(statement, list(part))


async def _renames(session: AsyncSession, existing: Sequence[Write], now: datetime) -> list[dict[str, Any]]:
    """The existing customers whose name or language the rows change, as update parameters."""
    current: dict[str, tuple[str | None, str | None]] = {}
    for ids in chunks([write.customer_id for write in existing if write.customer_id]):
        for customer_id, name, language in await session.execute(
                select(Customer.id, Customer.display_name, Customer.language).where(Customer.id.in_(ids))):
            current[customer_id] = (name, language)
    changed = []
    for write in existing:
        if write.customer_id is None:
            continue
        name, language = current[write.customer_id]
        wanted = (write.name or name, write.language or language)
        if wanted != (name, language):
            changed.append({"b_id": write.customer_id, "b_name": wanted[0], "b_language": wanted[1],
                            "b_now": now, "renamed": wanted[0] != name})
    return changed


async def write_plan(session: AsyncSession, writes: Sequence[Write]) -> tuple[dict[int, str], int]:
    """Carries out the writes in batches; returns each new customer's id by its first row, and how many changed."""
    created = {write.rows[0]: new_id() for write in writes if write.customer_id is None}
    now = utcnow()
    new_customers: list[dict[str, Any]] = [
        {"id": created[w.rows[0]], "display_name": w.name, "language": w.language, "facts": {}, "created_at": now,
         "updated_at": now} for w in writes if w.customer_id is None]
    existing = [w for w in writes if w.customer_id is not None]
    changed = await _renames(session, existing, now)
    named: list[tuple[str, str | None]] = [(c["id"], c["display_name"]) for c in new_customers]
    named += [(c["b_id"], c["b_name"]) for c in changed if c["renamed"]]
    identities = [{"customer_id": w.customer_id or created[w.rows[0]], "kind": kind, "value": value,
                   "verified": False, "created_at": now} for w in writes for kind, value in w.identities]
    keys = [{"customer_id": customer_id, "kind": "name", "value": key}
            for customer_id, name in named for key in dict.fromkeys(name_keys(name))]
    table, keys_table = Customer.__table__, CustomerKey.__table__
    await _in_batches(session, insert(table), new_customers)
    await _in_batches(session, update(table).where(table.c.id == bindparam("b_id")).values(
        display_name=bindparam("b_name"), language=bindparam("b_language"), updated_at=bindparam("b_now")),
        [{key: value for key, value in c.items() if key != "renamed"} for c in changed])
    for ids in chunks([c["b_id"] for c in changed if c["renamed"]]):
        await session.execute(delete(keys_table).where(keys_table.c.customer_id.in_(ids), keys_table.c.kind == "name"))
    await _in_batches(session, insert(Identity.__table__), identities)
    await _in_batches(session, insert(keys_table), keys)
    touched = {c["b_id"] for c in changed} | {w.customer_id for w in existing if w.identities}
    return created, len(touched)


def _report(plan: Plan, dry_run: bool, created: dict[int, str] | None = None, updated: int = 0) -> ImportReport:
    """The plan's rows, with the new customers' ids once they exist."""
    created = created or {}
    rows = [Planned(p.row, p.outcome, p.customer_id or created.get(p.same_as or p.row), p.same_as, p.reason)
            for p in plan.rows]
    return ImportReport(dry_run, plan.counts(), rows, len(created), updated)


async def import_contacts(sessions: async_sessionmaker[AsyncSession], rows: Sequence[ContactRow],
                          bad: Sequence[BadRow], *, actor: str, dry_run: bool, source: str = "csv") -> ImportReport:
    """The dry run's report, or the import's (planned again under the import lock, then written, audited)."""
    if dry_run:
        async with sessions() as session:
            await read_only(session)  # a snapshot: a dry run never waits for SQLite's write lock
            owners, crm_of = await load_owners(session, rows)
        return _report(plan_import(list(rows), list(bad), owners, crm_of), True)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with sessions() as session, session.begin():
                await xact_lock(session, "contacts:import")
                owners, crm_of = await load_owners(session, rows)
                plan = plan_import(list(rows), list(bad), owners, crm_of)
                created, updated = await write_plan(session, plan.writes)
                await audit.record(session, actor, "contacts_import", source=source, created=len(created),
                                   updated=updated, counts=plan.counts())
            return _report(plan, False, created, updated)
        except IntegrityError:
            if attempt == ATTEMPTS:
                raise
            log.warning("contacts_import_raced", attempt=attempt)  # a door made one of the identities meanwhile
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Upserted:
    customer_id: str
    created: bool


async def upsert_contact(sessions: async_sessionmaker[AsyncSession], row: ContactRow, *, actor: str) -> Upserted:
    """The customer of `row.crm_id` created or completed (never a second one); ContactConflict says why not."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with sessions() as session, session.begin():
                await xact_locks(session, identity_locks([row]))
                owners, crm_of = await load_owners(session, [row])
                plan = plan_import([row], [], owners, crm_of)
                [planned] = plan.rows
                if planned.outcome == CONFLICT:
                    raise ContactConflict(planned.reason or "conflict")
                created, _ = await write_plan(session, plan.writes)
                customer_id = planned.customer_id or created[row.row]
                await audit.record(session, actor, "contact_upsert", customer=customer_id, created=bool(created))
            return Upserted(customer_id, bool(created))
        except IntegrityError:
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")
