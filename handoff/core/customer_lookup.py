"""Finding a customer by what an agent has at hand: a phone in any format, an email, a name, an order number.

Every probe is an index lookup (identities' (kind, value), customer_keys' (kind, value) and a prefix range
of it for names), so a search costs the same at 100 or 100,000 customers. The case-reading rule applies:
an agent sees a customer only through a case they may read (`case_scope.readable`), and only those cases;
a customer none of whose cases the agent may read is not listed to them (its name and numbers are another
team's business). Supervisors and admins see every customer. Merged-away customers are never listed, nor a
case merged into another (its conversation continues on the kept one).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.case_scope import readable
from handoff.core.hashchain import utc_iso
from handoff.core.identity import InvalidIdentity, normalize_email, normalize_told_phone
from handoff.core.merge_rules import MERGED
from handoff.core.permissions import Reader, sees_all_teams
from handoff.store.models import Case, Customer, CustomerKey, Identity, TimelineEvent
from handoff.store.search_keys import fold, order_key

Q_MIN, Q_MAX = 2, 100
LIMIT_DEFAULT, LIMIT_MAX = 20, 50
CASES_PER_CUSTOMER = 20
PHONE_CHARS = re.compile(r"^\+?[\d\s().\-/]+$")
PHONE_KINDS = ("phone", "whatsapp")
TOP = "\U0010ffff"  # sorts after every character: value in [prefix, prefix + TOP) is a prefix match


@dataclass(frozen=True)
class Probes:
    """What a typed query can be, each an exact key or a name prefix."""

    identities: list[tuple[str, str]] = field(default_factory=list)  # (kind, normalized value)
    keys: list[tuple[str, str]] = field(default_factory=list)  # customer_keys (kind, value)
    name_prefix: str | None = None


def probes(query: str, region: str) -> Probes:
    """Reads the query as every kind it can be: "+52 55 1234 5678", "55-1234-5678", "ANA@x.mx", "#100002", "pérez"."""
    text = query.strip()
    found = Probes()
    if "@" in text:
        try:
            email = normalize_email(text)
        except InvalidIdentity:
            return found
        found.identities.append(("email", email))
        found.keys.append(("email", email))
        return found
    digits = sum(ch.isdigit() for ch in text)
    if PHONE_CHARS.match(text) and digits >= 7:
        try:
            phone = normalize_told_phone(text, region)
        except InvalidIdentity:
            phone = None
        if phone:
            found.identities.extend((kind, phone) for kind in PHONE_KINDS)
            found.keys.append(("phone", phone))
    order = order_key(text)
    if order:
        found.keys.append(("order", order))
    name = fold(text)
    if len(name) >= Q_MIN and any(ch.isalpha() for ch in name):
        return Probes(found.identities, found.keys, name)
    return found


def visible(reader: Reader) -> ColumnElement[bool]:
    """Customers the reader may find: not merged away, and (for agents) with a case they may read."""
    alive = Customer.merged_into_id.is_(None)
    if sees_all_teams(reader.role):
        return alive
    return and_(alive, exists().where(Case.customer_id == Customer.id, Case.status != MERGED, readable(reader)))


async def find_customers(session: AsyncSession, reader: Reader, query: str, *, region: str,
                         limit: int = LIMIT_DEFAULT) -> list[dict[str, Any]]:
    """Customers matching the query, exact matches (phone, email, order) first, then names in order."""
    found = probes(query, region)
    ids: list[str] = []
    exact = []
    if found.identities:
        exact.append(select(Identity.customer_id.label("id")).where(or_(  # (kind, value) pairs use the index
            *(and_(Identity.kind == kind, Identity.value == value) for kind, value in found.identities))))
    if found.keys:
        exact.append(select(CustomerKey.customer_id.label("id")).where(or_(
            *(and_(CustomerKey.kind == kind, CustomerKey.value == value) for kind, value in found.keys))))
    if exact:
        matched = union(*exact).subquery() if len(exact) > 1 else exact[0].subquery()
        ids.extend(await session.scalars(
            select(Customer.id).where(Customer.id.in_(select(matched.c.id)), visible(reader))
            .order_by(Customer.created_at.desc(), Customer.id).limit(limit)))
    if found.name_prefix and len(ids) < limit:
        prefix = found.name_prefix
        rows = await session.scalars(
            select(CustomerKey.customer_id).join(Customer, Customer.id == CustomerKey.customer_id)
            .where(CustomerKey.kind == "name", CustomerKey.value >= prefix, CustomerKey.value < prefix + TOP,
                   visible(reader))
            .order_by(CustomerKey.value, CustomerKey.customer_id).limit(limit * 3))
        for customer_id in rows:  # a customer may match by two words: keep the first, in name order
            if customer_id not in ids:
                ids.append(customer_id)
    return await cards(session, reader, ids[:limit])


async def customer_card(session: AsyncSession, reader: Reader, customer_id: str) -> dict[str, Any] | None:
    """One customer as the lookup shows it; None when missing, merged away or not the reader's to see."""
    listed = await session.scalar(select(Customer.id).where(Customer.id == customer_id, visible(reader)))
    return (await cards(session, reader, [listed]))[0] if listed else None


async def listed_customer(session: AsyncSession, customer_id: str) -> bool:
    """Whether the customer exists and was not merged into another (403 or 404 for a reader who may not see it)."""
    return await session.scalar(select(Customer.id).where(Customer.id == customer_id,
                                                          Customer.merged_into_id.is_(None))) is not None


async def cards(session: AsyncSession, reader: Reader, ids: list[str]) -> list[dict[str, Any]]:
    """Customers with their identities and the cases the reader may read, in four statements for any number."""
    if not ids:
        return []
    names = dict((await session.execute(select(Customer.id, Customer.display_name)
                                        .where(Customer.id.in_(ids)))).tuples().all())
    identities: dict[str, list[dict[str, Any]]] = {}
    for customer_id, kind, value, verified in await session.execute(
            select(Identity.customer_id, Identity.kind, Identity.value, Identity.verified)
            .where(Identity.customer_id.in_(ids)).order_by(Identity.id)):
        # webchat identities are signed session ids: say the customer has one, never show it
        identities.setdefault(customer_id, []).append(
            {"kind": kind, "value": value if kind != "webchat" else "visitor", "verified": bool(verified)})
    cases: dict[str, list[dict[str, Any]]] = {}
    channels: dict[str, set[str]] = {}
    for case_id, customer_id, status, channel, created_at in await session.execute(
            select(Case.id, Case.customer_id, Case.status, Case.channel, Case.created_at)
            .where(Case.customer_id.in_(ids), Case.status != MERGED, readable(reader))
            .order_by(Case.created_at.desc(), Case.id)):
        listed = cases.setdefault(customer_id, [])
        if len(listed) < CASES_PER_CUSTOMER:
            listed.append({"id": case_id, "status": status, "channels": [], "created_at": utc_iso(created_at)})
            channels[case_id] = {channel}
    if channels:
        for case_id, channel in await session.execute(
                select(TimelineEvent.case_id, TimelineEvent.channel).where(TimelineEvent.case_id.in_(list(channels)))
                .distinct()):
            channels[case_id].add(channel)
    for listed in cases.values():
        for case in listed:
            case["channels"] = sorted(channels[case["id"]])
    return [{"id": i, "name": names[i], "identities": identities.get(i, []), "cases": cases.get(i, [])}
            for i in ids if i in names]
