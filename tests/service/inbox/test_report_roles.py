"""The supervisors' and designers' endpoints over HTTP: roles (401/403), tag a transition, label it, download YAML."""
from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest
import yaml

from handoff.reports.audit_export import verify_export, verify_file
from tests.service.inbox.support import AgentClient, create_agent
from tests.service.support.polling import until
from tests.service.support.webchat_client import Visitor

TODAY = date.today()
WINDOW = f"start={(TODAY - timedelta(days=1)).isoformat()}&end={(TODAY + timedelta(days=1)).isoformat()}"
ENDPOINTS = [  # (method, path, body, roles allowed)
    ("GET", f"/reports/kpis?{WINDOW}", None, {"supervisor", "admin"}),
    ("GET", f"/reports/staffing?{WINDOW}&interval_minutes=15", None, {"supervisor", "admin"}),
    ("GET", "/transitions", None, {"supervisor", "admin"}),
    ("POST", "/transitions/999999/review", {"tag": "correct"}, {"supervisor", "admin"}),
    ("GET", "/cases/CASE/export.json", None, {"supervisor", "admin"}),
    ("GET", "/cases/CASE/export.html", None, {"supervisor", "admin"}),
    ("GET", "/nlu-samples", None, {"designer", "admin"}),
    ("POST", "/nlu-samples/999999", {"dismiss": True}, {"designer", "admin"}),
    ("GET", "/nlu-export.yml", None, {"designer", "admin"}),
]


async def logged_in(service, role: str) -> AgentClient:
    address = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    create_agent(service.database_url, address, role=role)
    client = AgentClient(service.base_url)
    assert (await client.login(address)).status_code == 200
    return client


async def call(client: AgentClient, method: str, path: str, body, csrf: bool = True):
    return await client.get(path) if method == "GET" else await client.post(path, body, csrf=csrf)


async def test_anonymous_gets_401_everywhere(inbox_service) -> None:
    anonymous = AgentClient(inbox_service.base_url)
    for method, path, body, _roles in ENDPOINTS:
        assert (await call(anonymous, method, path, body)).status_code == 401, path
    await anonymous.close()


@pytest.mark.parametrize("role", ["agent", "supervisor", "designer", "admin"])
async def test_each_role_gets_403_outside_its_permission(inbox_service, role: str) -> None:
    client = await logged_in(inbox_service, role)
    for method, path, body, roles in ENDPOINTS:
        status = (await call(client, method, path, body)).status_code
        assert (status == 403) == (role not in roles), (role, path, status)
        if method == "POST" and role in roles:
            assert (await call(client, method, path, body, csrf=False)).status_code == 403  # CSRF still needed
    await client.close()


async def test_supervisor_tags_a_transition_and_the_designer_labels_and_downloads_it(inbox_service,
                                                                                     tmp_path) -> None:
    words = f"mi reembolso {uuid.uuid4().hex[:6]} no aparece en la tarjeta"
    visitor = Visitor(inbox_service.base_url)
    await visitor.connect()
    await visitor.say(words, metadata={"language": "es"})  # the assistant is down: handed to people at once
    boss, designer = await logged_in(inbox_service, "supervisor"), await logged_in(inbox_service, "designer")

    async def listed() -> list[dict]:
        return [row for row in (await boss.get("/transitions?channel=webchat&reason=bot_unavailable")).json()
                if any(turn["text"] == words for turn in row["last_turns"])]
    [row] = await until(listed, "the transition listed", timeout=10)
    assert row["direction"] == "to_human" and row["team"] == "care"
    assert (await boss.post(f"/transitions/{row['id']}/review", {"tag": "nonsense"})).status_code == 422
    tagged = await boss.post(f"/transitions/{row['id']}/review",
                             {"tag": "should have been contained", "note": "FAQ about refunds"})
    assert tagged.status_code == 200 and tagged.json()["nlu_samples"] == 1
    kpis = (await boss.get(f"/reports/kpis?{WINDOW}")).json()
    assert kpis["total"]["handoff_reasons"].get("bot_unavailable", 0) >= 1
    assert (await boss.get("/reports/kpis?start=2026-02-01&end=2026-01-01")).status_code == 422

    export = await boss.get(f"/cases/{row['case_id']}/export.json")
    assert export.status_code == 200 and verify_export(export.json()).ok
    page = await boss.get(f"/cases/{row['case_id']}/export.html")
    assert page.status_code == 200 and words in page.text
    exported = tmp_path / "case.json"
    exported.write_text(json.dumps(export.json()))
    status, line = verify_file(str(exported))  # what `python -m handoff audit verify` runs (its test: audit_export)
    assert status == 0, line

    [sample] = [s for s in (await designer.get("/nlu-samples")).json() if s["text"] == words]
    assert (sample["source"], sample["review_tag"]) == ("review", "should have been contained")
    labelled = await designer.post(f"/nlu-samples/{sample['id']}", {"intent": "order_status"})
    assert labelled.status_code == 200 and labelled.json()["status"] == "annotated"
    download = await designer.get("/nlu-export.yml")
    assert download.status_code == 200
    examples = {item["intent"]: item["examples"] for item in yaml.safe_load(download.text)["nlu"]}
    assert f"- {words}\n" in examples["order_status"]
    for client in (boss, designer):
        await client.close()
    await visitor.close()
