"""Finding the customer behind an identity, so every door leads to the same person."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from handoff.core.cases import latest_case, remember_latest
from handoff.core.identity import InvalidIdentity, normalize_phone
from handoff.core.locks import xact_lock
from handoff.core.messages import InboundMessage
from handoff.store.models import Case, Customer, Identity

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Contact:
    """The customer behind an identity with all their identities and their latest case, read together."""

    customer: Customer
    identities: list[Identity]
    latest_case: Case | None
    # (kind, value, owner): identities proved for this customer that another customer owns (merges decide)
    kept_elsewhere: list[tuple[str, str, Customer]] = field(default_factory=list)


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


async def find_by_identity(session: AsyncSession, kind: str, value: str, *,
                           verified_only: bool = False) -> Customer | None:
    """The customer owning an (already normalized) identity, if any (only a verified one: `verified_only`); a
    merged owner's survivor."""
    query = (select(Customer).join(Identity, Identity.customer_id == Customer.id)
             .where(Identity.kind == kind, Identity.value == value))
    if verified_only:
        query = query.where(Identity.verified.is_(True))
    customer = await session.scalar(query)
    return await follow_merges(session, customer) if customer else None


def _contact_query() -> Select[tuple[Customer, Identity, Case]]:
    """Customer ⋈ all their identities ⟕ their latest case, for one identity given as (:kind, :value)."""
    via, prior = aliased(Identity), aliased(Case)
    latest = (select(prior.id).where(prior.customer_id == Customer.id).order_by(prior.created_at.desc())
              .limit(1).correlate(Customer).scalar_subquery())
    return (select(Customer, Identity, Case).select_from(Customer)
            .join(via, (via.customer_id == Customer.id) & (via.kind == bindparam("kind"))
                  & (via.value == bindparam("value")))
            .join(Identity, Identity.customer_id == Customer.id)
            .outerjoin(Case, Case.id == latest)
            .order_by(Identity.id))


_CONTACT = _contact_query()  # built once: building this select costs more than running it


async def find_contact(session: AsyncSession, kind: str, value: str) -> Contact | None:
    """The identity's customer, their identities and latest case in one statement (every message asks)."""
    rows = (await session.execute(_CONTACT, {"kind": kind, "value": value})).all()
    if not rows:
        return None
    customer, case = rows[0][0], rows[0][2]
    if customer.merged_into_id:  # conversations continue on the survivor
        survivor = await follow_merges(session, customer)
        return Contact(survivor, await identities_of(session, survivor.id), await latest_case(session, survivor.id))
    remember_latest(session, customer.id, case)
    return Contact(customer, [row[1] for row in rows], case)


async def resolve_contact(
    session: AsyncSession,
    kind: str,
    value: str,
    *,
    verified: bool = False,
    verified_by: str | None = None,
    display_name: str | None = None,
    language: str | None = None,
    linked: Sequence[tuple[str, str]] = (),
    handle: str | None = None,
) -> Contact:
    """The customer for this identity, created with it on first contact; the caller commits.

    `linked` are more identities the same door proves for the same person (WhatsApp: the phone and the
    business-scoped user id): the customer is the one owning the identity, else any linked one, and gets the
    others with the same verification. One owned by another customer stays theirs (logged, in `kept_elsewhere`):
    two customers become one only through a merge. `handle` (a WhatsApp username) replaces the customer's
    handle: users change it.
    The identities stay locked until that commit (core.locks.xact_lock), so two workers receiving messages of
    one identity at once create one customer and open one case, in turn.
    """
    for lock_kind, lock_value in sorted({(kind, value), *linked}):
        await xact_lock(session, f"identity:{lock_kind}:{lock_value}")
    contact = await find_contact(session, kind, value)
    wanted = [*linked] if contact is not None else [(kind, value), *linked]  # found by it: it is theirs
    for other_kind, other_value in linked if contact is None else ():
        contact = await find_contact(session, other_kind, other_value)
        if contact is not None:
            break
    if contact is None:
        customer = Customer(display_name=display_name, language=language, handle=handle, facts={})
        session.add(customer)
        await session.flush()
        remember_latest(session, customer.id, None)
        contact = Contact(customer, [], None)
    customer = contact.customer
    if display_name and not customer.display_name:
        customer.display_name = display_name
    if language and not customer.language:
        customer.language = language
    if handle and customer.handle != handle:
        customer.handle = handle
    await _add_identities(session, contact, wanted, verified, verified_by if verified else None)
    return contact


async def resolve_sender(session: AsyncSession, inbound: InboundMessage) -> Contact:
    """The customer who wrote `inbound`, as its door names them (see resolve_contact); the caller commits."""
    return await resolve_contact(
        session, inbound.identity_kind, inbound.identity_value, verified=inbound.verified,
        verified_by=inbound.verified_by, display_name=inbound.display_name, language=inbound.language,
        linked=inbound.linked_identities, handle=inbound.handle)


async def link_identities(session: AsyncSession, customer: Customer, identities: Sequence[tuple[str, str]], *,
                          verified_by: str) -> list[tuple[str, str, Customer]]:
    """Verified identities a channel proves for a customer it already wrote to (a WhatsApp status names the phone
    and the business-scoped id of whoever got the message); returns those another customer owns (kept theirs)."""
    for kind, value in sorted(set(identities)):
        await xact_lock(session, f"identity:{kind}:{value}")
    contact = Contact(customer, [], None)
    await _add_identities(session, contact, identities, True, verified_by)
    return contact.kept_elsewhere


async def _add_identities(session: AsyncSession, contact: Contact, identities: Sequence[tuple[str, str]],
                          verified: bool, verified_by: str | None) -> None:
    """The identities the customer lacks, unless another customer owns one (then it stays theirs: logged, and
    listed in the contact's `kept_elsewhere`)."""
    known = {(identity.kind, identity.value) for identity in contact.identities}
    added = False
    for kind, value in identities:
        if (kind, value) in known:
            continue
        known.add((kind, value))
        owner = await find_by_identity(session, kind, value)
        if owner is not None:
            if owner.id != contact.customer.id:
                log.warning("identity_owned_by_another_customer", kind=kind, customer_id=contact.customer.id,
                            owner_id=owner.id)
                contact.kept_elsewhere.append((kind, value, owner))
            continue
        identity = Identity(customer_id=contact.customer.id, kind=kind, value=value, verified=verified,
                            verified_by=verified_by)
        session.add(identity)
        contact.identities.append(identity)
        added = True
    if added:
        await session.flush()


async def resolve_customer(session: AsyncSession, kind: str, value: str, *, verified: bool = False,
                           verified_by: str | None = None, display_name: str | None = None,
                           language: str | None = None) -> Customer:
    """The customer for this identity (see resolve_contact); the caller commits."""
    return (await resolve_contact(session, kind, value, verified=verified, verified_by=verified_by,
                                  display_name=display_name, language=language)).customer


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
