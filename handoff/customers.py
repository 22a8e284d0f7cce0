"""Finding the customer behind an identity, so every door leads to the same person."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.identity import InvalidIdentity, normalize_phone
from handoff.store.models import Customer, Identity


async def follow_merges(session: AsyncSession, customer: Customer) -> Customer:
    """A merged customer points at its survivor; conversations continue there."""
    seen = {customer.id}
    while customer.merged_into_id and customer.merged_into_id not in seen:
        survivor = await session.get(Customer, customer.merged_into_id)
        if survivor is None:
            break
        seen.add(survivor.id)
        customer = survivor
    return customer


async def find_by_identity(session: AsyncSession, kind: str, value: str) -> Customer | None:
    """The customer owning an (already normalized) identity, if any."""
    customer = await session.scalar(
        select(Customer).join(Identity, Identity.customer_id == Customer.id)
        .where(Identity.kind == kind, Identity.value == value)
    )
    return await follow_merges(session, customer) if customer else None


async def resolve_customer(
    session: AsyncSession,
    kind: str,
    value: str,
    *,
    verified: bool = False,
    verified_by: str | None = None,
    display_name: str | None = None,
    language: str | None = None,
) -> Customer:
    """The customer for this identity, created with it on first contact; the caller commits."""
    customer = await find_by_identity(session, kind, value)
    if customer is None:
        customer = Customer(display_name=display_name, language=language, facts={})
        session.add(customer)
        await session.flush()
        session.add(Identity(customer_id=customer.id, kind=kind, value=value, verified=verified,
                             verified_by=verified_by if verified else None))
        await session.flush()
        return customer
    if display_name and not customer.display_name:
        customer.display_name = display_name
    if language and not customer.language:
        customer.language = language
    return customer


async def identities_of(session: AsyncSession, customer_id: str) -> list[Identity]:
    """All identities of a customer, oldest first."""
    result = await session.scalars(
        select(Identity).where(Identity.customer_id == customer_id).order_by(Identity.id)
    )
    return list(result)


async def link_told_phone(session: AsyncSession, customer: Customer, raw: object) -> bool:
    """A phone (E.164) the customer told the assistant becomes an unverified identity, so a later call from
    it finds them; a number that is already someone's identity is left alone (merging is a person's call)."""
    if not isinstance(raw, str) or not raw.strip().startswith("+"):
        return False
    try:
        value = normalize_phone(raw)
    except InvalidIdentity:
        return False
    if await session.scalar(select(Identity.id).where(Identity.kind == "phone", Identity.value == value)):
        return False
    session.add(Identity(customer_id=customer.id, kind="phone", value=value, verified=False))
    await session.flush()
    return True
