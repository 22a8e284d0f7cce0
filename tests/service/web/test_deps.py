"""Typed dependencies and declared responses: routes find their objects by type, and say what they answer."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from handoff.app import create_app
from handoff.settings import Settings
from handoff.web.deps import Services
from tests.service.support.processes import free_port

HANDOFF = Path(__file__).resolve().parents[3] / "handoff"


def api(database_url: str, tmp_path: Path) -> FastAPI:
    settings = Settings(database_url=database_url, rasa_url=f"http://127.0.0.1:{free_port()}",
                        action_server_url=f"http://127.0.0.1:{free_port()}", bot_retries=0,
                        media_dir=tmp_path / "media", secret_key="k" * 32, log_json=False)
    app: FastAPI = create_app(settings).other_asgi_app
    return app


def test_services_answer_one_object_per_type_and_refuse_ambiguity() -> None:
    services = Services("text", 3)
    assert (services.get(str), services.get(int)) == ("text", 3)
    with pytest.raises(LookupError):
        services.get(float)
    with pytest.raises(ValueError):
        Services("one", "two")


def test_only_the_dependencies_module_reads_the_app_state() -> None:
    readers = sorted(str(path.relative_to(HANDOFF)) for path in HANDOFF.rglob("*.py")
                     if "app.state" in path.read_text() or "api.state" in path.read_text())
    assert readers == ["app.py", "web/deps.py"]


def json_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    success = operation["responses"].get("200") or operation["responses"].get("201") or {}
    return success.get("content", {}).get("application/json", {}).get("schema")


def test_every_json_route_declares_its_model(database_url: str, tmp_path: Path) -> None:
    app = api(database_url, tmp_path)
    paths = app.openapi()["paths"]
    loose = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods:
            schema = json_schema(paths[route.path][method.lower()])
            if schema is None:
                continue  # TwiML, plain text, files, HTML: a declared response_class
            named = schema.get("items", schema) if schema.get("type") == "array" else schema
            if "$ref" not in named:
                loose.append(f"{method} {route.path}")
    assert loose == []
    assert len(paths) >= 35


def test_every_route_with_a_body_documents_the_400_of_an_unreadable_one(tmp_path: Path) -> None:
    """FastAPI answers 400 to a body it cannot decode (not UTF-8): the fuzz found one route that did not say so."""
    paths = api(f"sqlite+aiosqlite:///{tmp_path / 'schema.sqlite3'}", tmp_path).openapi()["paths"]
    silent = [f"{method.upper()} {path}" for path, operations in paths.items()
              for method, operation in operations.items()
              if "requestBody" in operation and "400" not in operation["responses"]]
    assert silent == []


async def test_readiness_names_each_check_and_answers_503_while_rasa_is_down(database_url: str,
                                                                                tmp_path: Path) -> None:
    app = api(database_url, tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        health, ready = await client.get("/healthz"), await client.get("/readyz")
    assert (health.status_code, health.content) == (200, b'{"status":"ok"}')
    assert ready.status_code == 503
    assert ready.json() == {"ready": False, "missing": ["rasa", "action_server"],
                            "checks": {"database": {"ok": True, "detail": "ok"},
                                       "rasa": {"ok": False, "detail": "ConnectError"},
                                       "action_server": {"ok": False, "detail": "ConnectError"}}}
