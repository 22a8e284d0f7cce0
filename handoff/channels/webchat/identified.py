"""A webchat session the site vouched for joins its customer: their identities, their open case, their history.

The session's own (anonymous) customer gets the site's identities verified (`site_token`); where another customer
already owns one verified, core.merge_evidence merges the session's customer into them (a merge agents can undo),
so the next message continues that customer's open case on whatever door it began (the kept one, when it was
merged into another). The site's identities stay locked until the commit, so two tabs signing in with one token at
once make one customer.
"""
from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.channels.webchat.identity_token import VERIFIED_BY, SiteIdentity
from handoff.core.cases import continued_case, latest_case
from handoff.core.customers import resolve_contact
from handoff.core.locks import xact_lock
from handoff.core.merge_evidence import link_verified_identity
from handoff.core.merge_rules import MergeRefused
from handoff.store.models import Identity

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Joined:
    """The customer the session now belongs to and their latest case (whose screens should refresh)."""

    customer_id: str
    case_id: str | None


@dataclass(frozen=True)
class OtherCustomer:
    """The session already belongs to another of the site's customers (a shared browser): never merge them."""


class _Another(Exception):
    """Leaves the transaction without writing anything."""


async def _site_ids(session: AsyncSession, customer_id: str) -> set[str]:
    return set(await session.scalars(select(Identity.value).where(Identity.customer_id == customer_id,
                                                                  Identity.kind == "crm")))


async def join_site_customer(sessions: async_sessionmaker[AsyncSession], channel: str, session_id: str,
                             identity: SiteIdentity, language: str | None) -> Joined | OtherCustomer | None:
    """Links the site's identities to the session's customer (merging where the evidence says so).

    OtherCustomer (nothing written) when the session's customer is already another site customer; None when the
    merge was refused (another worker merged the same customers at the same moment: the next token joins them).
    """
    try:
        async with sessions() as session, session.begin():
            for kind, value in sorted({(channel, session_id), *identity.identities()}):  # two tabs, one token: in turn
                await xact_lock(session, f"identity:{kind}:{value}")
            contact = await resolve_contact(session, channel, session_id, display_name=identity.name,
                                            language=language)
            customer = contact.customer
            known = await _site_ids(session, customer.id)
            if known and identity.crm_id not in known:
                raise _Another
            for kind, value in identity.identities():
                customer = await link_verified_identity(session, customer, kind, value, VERIFIED_BY)
            if identity.name and not customer.display_name:
                customer.display_name = identity.name
            case = await continued_case(session, await latest_case(session, customer.id))
            joined = Joined(customer.id, case.id if case else None)
    except _Another:
        return OtherCustomer()
    except MergeRefused as exc:
        log.warning("site_identity_not_joined", status=exc.status)
        return None
    log.info("site_identity_joined", customer_id=joined.customer_id, case_id=joined.case_id)
    return joined
