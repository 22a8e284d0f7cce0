"""Evidence that two customers are one person: verified evidence merges them, unverified evidence is a suggestion.

Verified: an identity a door or a check proved (WhatsApp's number, a caller id, a signed site token, a code) that
another customer already owns verified. Unverified: a phone or email told to the assistant that is someone else's
identity, or the same name and order number; agents see it in the customer panel and decide.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.customers import find_by_identity, follow_merges, link_told_phone
from handoff.core.identity import InvalidIdentity, normalize_email, normalize_phone
from handoff.core.merge_rules import NAME_AND_ORDER, same_person_by_name_and_order
from handoff.core.merges import merge_customers
from handoff.store.models import Customer, CustomerKey, Identity, MergeSuggestion, utcnow
from handoff.store.search_keys import order_key

SYSTEM = "system"
NAME_CANDIDATES = 20  # customers with the same order number looked at for a name match


async def link_verified_identity(session: AsyncSession, customer: Customer, kind: str, value: str,
                                 verified_by: str) -> Customer:
    """Gives `customer` a verified identity (normalized value); the caller commits.

    When another customer already owns it verified, the two are one person: `customer` is merged into that owner
    (actor system, the identity as evidence) and the owner, who continues the conversation, is returned. When the
    owner's claim was only told (unverified), agents get a suggestion and nothing moves.
    """
    identity = await session.scalar(select(Identity).where(Identity.kind == kind, Identity.value == value))
    if identity is None:
        session.add(Identity(customer_id=customer.id, kind=kind, value=value, verified=True, verified_by=verified_by))
        await session.flush()
        return customer
    owner = await session.get_one(Customer, identity.customer_id)
    owner = await follow_merges(session, owner)
    if owner.id == customer.id:
        if not identity.verified:
            identity.verified, identity.verified_by = True, verified_by
        return customer
    if not identity.verified:
        await suggest(session, customer, owner, f"told_{kind}", value)
        return customer
    await merge_customers(session, owner, customer, SYSTEM,
                          {"kind": "verified_identity", "identity_kind": kind, "value": value,
                           "verified_by": verified_by, "owner_verified_by": identity.verified_by})
    return owner


async def weigh_proved(session: AsyncSession, customer: Customer, proved: Iterable[tuple[str, str, Customer]],
                       verified_by: str | None) -> None:
    """Identities a door proved for `customer` (`verified_by`) that other customers own, e.g. a WhatsApp webhook
    naming both a phone and a business-scoped id: when the owner's identity is verified too, the two are one
    person and the owner is merged into `customer` (actor system, undoable), who continues the conversation;
    otherwise agents get a suggestion."""
    for kind, value, owner in proved:
        owner = await follow_merges(session, owner)
        if owner.id == customer.id:
            continue
        identity = await session.scalar(select(Identity).where(Identity.kind == kind, Identity.value == value))
        if verified_by and identity is not None and identity.verified:
            await merge_customers(session, customer, owner, SYSTEM,
                                  {"kind": "verified_identity", "identity_kind": kind, "value": value,
                                   "verified_by": verified_by, "owner_verified_by": identity.verified_by})
        else:
            await suggest(session, customer, owner, kind, value)


async def suggest(session: AsyncSession, customer: Customer, other: Customer, kind: str, value: str) -> None:
    """Records a suggestion once per pair and evidence (either way round); never fails the caller's transaction."""
    if customer.id == other.id:
        return
    pairs = ((MergeSuggestion.customer_id == customer.id) & (MergeSuggestion.other_customer_id == other.id)) | (
        (MergeSuggestion.customer_id == other.id) & (MergeSuggestion.other_customer_id == customer.id))
    if await session.scalar(select(MergeSuggestion.id).where(pairs, MergeSuggestion.evidence_kind == kind,
                                                             MergeSuggestion.evidence_value == value)):
        return
    try:
        async with session.begin_nested():  # another worker may record the same one at the same moment
            session.add(MergeSuggestion(customer_id=customer.id, other_customer_id=other.id, evidence_kind=kind,
                                        evidence_value=value[:320], created_at=utcnow()))
    except IntegrityError:
        return


async def weigh_told(session: AsyncSession, customer: Customer, facts: dict[str, Any]) -> None:
    """What the customer told the assistant (phone, email, order number and name), weighed as unverified evidence:
    a told phone nobody has becomes the customer's unverified identity; someone else's phone or email, or another
    customer with the same name and order number, becomes a suggestion. Never a merge."""
    phone = facts.get("phone")
    if isinstance(phone, str) and not await link_told_phone(session, customer, phone):
        try:
            value = normalize_phone(phone) if phone.strip().startswith("+") else None
        except InvalidIdentity:
            value = None
        owner = await find_by_identity(session, "phone", value) if value else None
        if owner is not None and value is not None:
            await suggest(session, customer, owner, "told_phone", value)
    email = facts.get("email")
    if isinstance(email, str):
        try:
            address: str | None = normalize_email(email)
        except InvalidIdentity:
            address = None
        owner = await find_by_identity(session, "email", address) if address else None
        if owner is not None and address is not None:
            await suggest(session, customer, owner, "told_email", address)
    await _suggest_by_name_and_order(session, customer, facts)


async def _suggest_by_name_and_order(session: AsyncSession, customer: Customer, facts: dict[str, Any]) -> None:
    order = facts.get("order_number")
    name = customer.display_name or facts.get("customer_name")
    if order in (None, "") or not isinstance(name, str):
        return
    key = order_key(order)
    if key is None:
        return
    candidates = await session.scalars(  # the lookup's indexed keys: no scan of every customer's facts
        select(Customer).join(CustomerKey, CustomerKey.customer_id == Customer.id)
        .where(CustomerKey.kind == "order", CustomerKey.value == key, Customer.id != customer.id,
               Customer.merged_into_id.is_(None)).limit(NAME_CANDIDATES))
    for other in candidates:
        other_name = other.display_name or (other.facts or {}).get("customer_name")
        if same_person_by_name_and_order(name, key, other_name, order_key((other.facts or {}).get("order_number"))):
            await suggest(session, customer, other, NAME_AND_ORDER, f"{name} · {order}")


async def open_suggestions(session: AsyncSession, customer_id: str) -> list[tuple[MergeSuggestion, Customer]]:
    """The customer's open suggestions (either side), each with the other customer."""
    rows = list(await session.scalars(
        select(MergeSuggestion).where(MergeSuggestion.status == "open",
                                      (MergeSuggestion.customer_id == customer_id)
                                      | (MergeSuggestion.other_customer_id == customer_id))
        .order_by(MergeSuggestion.id).limit(20)))
    found: list[tuple[MergeSuggestion, Customer]] = []
    for row in rows:
        other_id = row.other_customer_id if row.customer_id == customer_id else row.customer_id
        other = await session.get(Customer, other_id)
        if other is not None and other.merged_into_id is None:
            found.append((row, other))
    return found
