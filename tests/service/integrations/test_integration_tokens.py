"""Integration tokens on SQLite and PostgreSQL: stored only hashed, refused once revoked, scoped; the CLI prints a
token once; admins list, create and revoke through the inbox API; `require_scope` answers 401 and 403."""
from __future__ import annotations

import asyncio
import hashlib
import os
import re
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from handoff.core import audit
from handoff.integrations.deps import require_scope
from handoff.integrations.registry import Integrations
from handoff.integrations.tokens import IntegrationError, checked_scopes, checked_webhook, looks_like_token, new_token
from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditEntry, Integration
from tests.service.inbox.support import AgentClient, create_agent
from tests.service.support.processes import REPO, free_port
from tests.service.support.served_app import app_settings, served_app
from tests.service.support.stack import VENV

SECRET = "integration-tests-secret-0123456789"


def test_tokens_are_random_and_well_formed_and_scopes_and_webhooks_are_checked() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(looks_like_token(token) for token in tokens)
    assert not looks_like_token("fdi_short") and not looks_like_token(new_token() + "x")
    assert checked_scopes(["webhooks", " contacts:write", "webhooks"]) == ["contacts:write", "webhooks"]
    for bad in ([], [""], ["contacts:read"], ["admin"]):
        with pytest.raises(IntegrationError) as refused:
            checked_scopes(bad)
        assert refused.value.status == 422
    assert checked_webhook(None, [], ["cases:read"]) == (None, [])
    assert checked_webhook("https://crm.example.com/hook", [], ["webhooks"])[1] == [
        "case.handed_off", "case.assigned", "case.resolved", "csat.received", "commitment.due"]
    assert checked_webhook("https://crm.example.com/h", ["csat.received", "case.assigned"], ["webhooks"]) == (
        "https://crm.example.com/h", ["case.assigned", "csat.received"])
    for url, events, scopes in (("https://crm.example.com/h", [], ["cases:read"]),  # needs the webhooks scope
                                ("ftp://crm.example.com/h", [], ["webhooks"]), ("/relative", [], ["webhooks"]),
                                ("https://crm.example.com/h", ["case.deleted"], ["webhooks"]),
                                (None, ["case.assigned"], ["webhooks"])):
        with pytest.raises(IntegrationError):
            checked_webhook(url, events, scopes)
    with pytest.raises(ValueError):
        require_scope("contacts:read")  # a typo in a route fails when the route is declared


async def test_a_token_is_stored_only_hashed_and_refused_once_revoked(database_url: str) -> None:
    engine = create_engine(database_url)
    registry = Integrations(session_factory(engine), SECRET.encode())
    try:
        created = await registry.create("cli", "  CRM   sync ", ["contacts:write", "cases:read"])
        token = created.token
        assert created.integration["name"] == "CRM sync" and created.webhook_secret is None
        caller = await registry.caller(token)
        assert caller is not None and caller.scopes == {"contacts:write", "cases:read"}
        async with engine.connect() as connection:  # nowhere in the table is the token itself
            rows = (await connection.execute(text("SELECT * FROM integrations"))).all()
        assert len(rows) == 1 and token not in repr(rows) and token[4:] not in repr(rows)
        async with session_factory(engine)() as session:
            row = (await session.scalars(select(Integration))).one()
            assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and row.last_used_at is not None
        assert await registry.caller(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        assert await registry.caller("") is None and await registry.caller("fdi_" + "é" * 43) is None
        revoked = await registry.revoke("cli", created.integration["id"])
        assert revoked["revoked_at"] is not None
        assert await registry.caller(token) is None
        again = await registry.revoke("cli", created.integration["id"])  # once in the audit log
        assert again["revoked_at"] == revoked["revoked_at"]
        with pytest.raises(IntegrationError) as missing:
            await registry.revoke("cli", "nosuchintegration")
        assert missing.value.status == 404
        async with session_factory(engine)() as session:
            actions = [entry.action for entry in await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
            assert actions == ["create_integration", "revoke_integration"] and (await audit.verify(session)).ok
    finally:
        await engine.dispose()


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV / "bin" / "python"), "-m", "handoff", "integrations", *args], cwd=REPO,
                          text=True, capture_output=True,
                          env={**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_cli_prints_the_token_once_lists_and_revokes(database_url: str) -> None:
    made = cli(database_url, "create", "--name", "Shop", "--scopes", "notifications:send,webhooks",
               "--webhook-url", "https://shop.example.com/frontdoor", "--events", "case.resolved")
    assert made.returncode == 0, made.stderr
    token = re.search(r"token \(shown only now, keep it secret\): (fdi_\S+)", made.stdout)
    secret = re.search(r"webhook signing secret \(shown only now\): (whsec_[0-9a-f]{64})", made.stdout)
    assert token and secret and "for case.resolved" in made.stdout
    listed = cli(database_url, "list")
    assert listed.returncode == 0 and "Shop" in listed.stdout and "webhooks,notifications:send" in listed.stdout
    assert token.group(1) not in listed.stdout and secret.group(1) not in listed.stdout and "active" in listed.stdout
    integration_id = listed.stdout.split()[0]
    hooked = cli(database_url, "webhook", integration_id, "--url", "https://shop.example.com/v2")
    assert hooked.returncode == 0 and "to https://shop.example.com/v2 for case.handed_off," in hooked.stdout
    rotated = cli(database_url, "rotate-secret", integration_id)
    new_secret = re.search(r"webhook signing secret \(shown only now\): (whsec_[0-9a-f]{64})", rotated.stdout)
    assert new_secret and new_secret.group(1) != secret.group(1)
    assert cli(database_url, "revoke", integration_id).returncode == 0
    assert "revoked" in cli(database_url, "list").stdout
    refused = cli(database_url, "create", "--name", "Bad", "--scopes", "contacts:read")
    assert refused.returncode == 2 and "unknown scope contacts:read" in refused.stderr


@dataclass
class Served:
    base_url: str
    admin: AgentClient
    agent: AgentClient


@pytest.fixture
async def served(tmp_path: Path, database_url: str) -> AsyncIterator[Served]:
    for email, role in (("root@example.com", "admin"), ("ana@example.com", "supervisor")):
        await asyncio.to_thread(create_agent, database_url, email, role)
    settings = app_settings(tmp_path, f"http://127.0.0.1:{free_port()}", database_url=database_url)
    async with served_app(settings) as url:
        admin, agent = AgentClient(url), AgentClient(url)
        assert (await admin.login("root@example.com")).status_code == 200
        assert (await agent.login("ana@example.com")).status_code == 200
        yield Served(url, admin, agent)
        await admin.close()
        await agent.close()


async def test_admins_create_list_and_revoke_and_require_scope_answers_401_and_403(served: Served) -> None:
    admin, supervisor = served.admin, served.agent
    assert (await supervisor.get("/integrations")).status_code == 403
    assert (await supervisor.post("/integrations", {"name": "x", "scopes": ["cases:read"]})).status_code == 403
    assert (await admin.post("/integrations", {"name": "x", "scopes": ["cases:read"]}, csrf=False)).status_code == 403
    bad = await admin.post("/integrations", {"name": "x", "scopes": ["everything"]})
    assert bad.status_code == 422 and "unknown scope" in bad.text
    made = await admin.post("/integrations", {"name": "Helpdesk", "scopes": ["cases:read"]})
    assert made.status_code == 201, made.text
    token, integration = made.json()["token"], made.json()["integration"]
    hooked = await admin.post("/integrations", {"name": "CRM", "scopes": ["webhooks", "contacts:write"],
                                                "webhook_url": "https://crm.example.com/in"})
    assert hooked.status_code == 201 and hooked.json()["webhook_secret"].startswith("whsec_")
    listed = await admin.get("/integrations")
    assert [row["name"] for row in listed.json()] == ["Helpdesk", "CRM"] and token not in listed.text
    assert listed.json()[1]["webhook_events"][0] == "case.handed_off"
    assert integration["created_by"].startswith("agent:")

    async with httpx.AsyncClient(base_url=served.base_url) as other_system:
        def bearer(value: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {value}"}

        me = await other_system.get("/api/v1/integrations/me", headers=bearer(token))
        assert me.status_code == 200 and me.json() == {"id": integration["id"], "name": "Helpdesk",
                                                       "scopes": ["cases:read"]}
        nobody = await other_system.get("/api/v1/integrations/me")
        assert nobody.status_code == 401 and nobody.headers["www-authenticate"] == "Bearer"
        assert (await other_system.get("/api/v1/integrations/me", headers=bearer(new_token()))).status_code == 401
        wrong = await other_system.get("/api/v1/webhooks/deliveries", headers=bearer(token))  # no webhooks scope
        assert wrong.status_code == 403 and "webhooks" in wrong.json()["detail"]
        own = await other_system.get("/api/v1/webhooks/deliveries", headers=bearer(hooked.json()["token"]))
        assert own.status_code == 200 and own.json() == []
        revoked = await admin.post(f"/integrations/{integration['id']}/revoke")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        assert (await other_system.get("/api/v1/integrations/me", headers=bearer(token))).status_code == 401
    crm = hooked.json()["integration"]["id"]
    moved = await admin.http.put(f"/inbox/api/integrations/{crm}/webhook", headers={"X-CSRF-Token": admin.csrf},
                                 json={"webhook_url": "https://crm.example.com/v2",
                                       "webhook_events": ["case.resolved"]})
    assert moved.status_code == 200 and moved.json()["webhook_events"] == ["case.resolved"]
    refused = await admin.http.put(f"/inbox/api/integrations/{integration['id']}/webhook",  # revoked
                                   headers={"X-CSRF-Token": admin.csrf}, json={"webhook_url": None})
    assert refused.status_code == 409
    rotated = await admin.post(f"/integrations/{crm}/secret")
    assert rotated.status_code == 200 and rotated.json()["webhook_secret"] != hooked.json()["webhook_secret"]
    assert (await supervisor.post(f"/integrations/{crm}/secret")).status_code == 403
    assert (await admin.post("/integrations/nosuchone/revoke")).status_code == 404
    assert (await supervisor.post(f"/integrations/{integration['id']}/revoke")).status_code == 403
