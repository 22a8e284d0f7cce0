"""`PUT /api/v1/contacts/{crm_id}` over a served app: created once (201), completed after (200), another customer's
phone is a 409 naming them, a token without `contacts:write` gets 403, none 401; nothing is ever duplicated.

Before: other systems had no way to tell the service who their customers are.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from handoff.core.customers import resolve_contact
from handoff.core.signing import load_secret_key
from handoff.integrations.registry import Integrations
from handoff.settings import Settings
from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditEntry, Customer, Identity
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.served_app import app_settings, served_app, served_standin

PHONE = "+525512345678"


@pytest.fixture
async def served(workdir: Path) -> AsyncIterator[tuple[str, Settings, dict[str, str]]]:
    async with served_standin(RasaStandIn()) as rasa_url:
        settings = app_settings(workdir, rasa_url)
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            await resolve_contact(session, "whatsapp", PHONE, verified=True, verified_by="whatsapp",
                                  display_name="Ana")
        registry = Integrations(sessions, load_secret_key(settings.secret_key, workdir / "unused"))
        tokens = {scope: (await registry.create("cli", f"crm {scope}", [scope])).token
                  for scope in ("contacts:write", "cases:read")}
        await engine.dispose()
        async with served_app(settings) as base_url:
            yield base_url, settings, tokens


async def test_the_upsert_never_duplicates_and_refuses_the_wrong_scope(served) -> None:
    base_url, settings, tokens = served
    writer = {"Authorization": f"Bearer {tokens['contacts:write']}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        created = await http.put("/api/v1/contacts/CRM-7", headers=writer,
                                 json={"name": "Luis Gómez", "phone": "55 0000 0007", "language": "es-MX"})
        assert created.status_code == 201 and created.json()["created"] is True
        luis = created.json()["customer_id"]
        again = await http.put("/api/v1/contacts/CRM-7", headers=writer, json={"email": "Luis@Example.com"})
        assert again.status_code == 200 and again.json() == {"customer_id": luis, "created": False}
        # Ana wrote on WhatsApp; the CRM now tells us her id: she gets it, no second Ana
        ana = await http.put("/api/v1/contacts/CRM-1", headers=writer, json={"phone": "+52 55 1234 5678"})
        assert ana.status_code == 200 and ana.json()["created"] is False
        taken = await http.put("/api/v1/contacts/CRM-7", headers=writer, json={"phone": PHONE})
        assert taken.status_code == 409
        assert taken.json()["detail"] == (f"names two customers: crm_id CRM-7 is customer {luis}'s; "
                                          f"phone {PHONE} is customer {ana.json()['customer_id']}'s")
        second_id = await http.put("/api/v1/contacts/CRM-8", headers=writer, json={"email": "luis@example.com"})
        assert second_id.status_code == 409 and "already has crm_id CRM-7" in second_id.json()["detail"]
        wrong = await http.put("/api/v1/contacts/CRM-9", json={"name": "x"},
                               headers={"Authorization": f"Bearer {tokens['cases:read']}"})
        assert wrong.status_code == 403 and wrong.json()["detail"] == "this token lacks the scope contacts:write"
        assert (await http.put("/api/v1/contacts/CRM-9", json={"name": "x"})).status_code == 401
        bad = await http.put("/api/v1/contacts/CRM-9", headers=writer, json={"phone": "12"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "phone"]
        assert (await http.put("/api/v1/contacts/CRM-9", headers=writer, json={"nombre": "x"})).status_code == 422
    engine = create_engine(settings.database_url)
    async with session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 2  # Ana and Luis
        kinds = sorted((await session.execute(select(Identity.kind, Identity.value, Identity.verified)
                                              .where(Identity.customer_id == luis))).tuples().all())
        assert kinds == [("crm", "CRM-7", False), ("email", "luis@example.com", False),
                         ("phone", "+525500000007", False)]
        customer = await session.get_one(Customer, luis)
        assert (customer.display_name, customer.language) == ("Luis Gómez", "es")
        actors = set(await session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "contact_upsert")))
        assert len(actors) == 1 and next(iter(actors)).startswith("integration:")
    await engine.dispose()
