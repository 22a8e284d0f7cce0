"""The routing policy offers WhatsApp only to a customer with a verified number who has not opted out (SQLite and
PostgreSQL)."""
from __future__ import annotations

from handoff.core.assignment import situation_of
from handoff.core.operations import load_operations
from handoff.settings import REPO_ROOT
from handoff.store.models import Case, Customer, Identity, utcnow


async def test_an_opted_out_customer_is_not_reachable_on_whatsapp(sessions) -> None:
    operations = load_operations(REPO_ROOT / "operations.yml")
    async with sessions() as session, session.begin():
        customer = Customer(display_name="Ana")
        session.add(customer)
        await session.flush()
        session.add(Identity(customer_id=customer.id, kind="phone", value="+525512345678", verified=True,
                             verified_by="whatsapp"))
        case = Case(customer_id=customer.id, status="queued", channel="webchat", team="care", queued_at=utcnow())
        session.add(case)
        await session.flush()
        assert (await situation_of(session, case, operations, None, None)).whatsapp_reachable
        customer.whatsapp_opted_out_at = utcnow()
        await session.flush()
        assert not (await situation_of(session, case, operations, None, None)).whatsapp_reachable
