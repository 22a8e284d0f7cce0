"""Schemathesis fuzzes every documented endpoint in-process: no 5xx, and every answer is one the schema documents.

Inbox calls carry an admin's session cookie and CSRF header (an admin may call every endpoint); path ids are
often those of a seeded case (its events, handoff, NLU sample and a stored photo), so the fuzz gets past the
404s; webhooks are signed over the exact generated body, so it gets past the signature checks too.
Rerun with more examples: `FUZZ_EXAMPLES=500 .venv/bin/pytest tests/service/web/test_fuzz_api.py`
(`FUZZ_SEED` for another seed).
"""
from __future__ import annotations

import asyncio
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from handoff.app import create_app
from handoff.channels.voice.pbx import sign as sign_call_event
from handoff.channels.whatsapp.signature import sign as sign_whatsapp
from handoff.core.timeline import append_event
from handoff.reports import nlu_samples
from handoff.settings import Settings
from handoff.store.db import create_engine, session_factory
from tests.service.inbox.support import PASSWORD, create_agent
from tests.service.reports.conversation import misunderstood_case
from tests.service.support.processes import free_port
from tests.service.support.stack import SQLITE, migrate

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("FUZZ_SEED", "17"))
ADMIN = "fuzz-admin@example.com"
PUBLIC_BASE_URL = "https://frontdoor.example.com"
APP_SECRET, CALL_EVENTS_SECRET, TWILIO_TOKEN = "fuzz-app-secret", "fuzz-call-events", "fuzz-twilio-token"
CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
    "checks": {"enabled": False, "not_a_server_error": {"enabled": True},
               "status_code_conformance": {"enabled": True}, "content_type_conformance": {"enabled": True},
               "response_schema_conformance": {"enabled": True}},
    # Readiness answers 503 (documented) while the assistant is away, as it is here.
    "operations": [{"include-path": "/readyz",
                    "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "4xx", 503]}}},
                   # Placing a callback answers 503 (documented) while Twilio calls are not configured, as here.
                   {"include-path": "/inbox/api/callbacks/{callback_id}/place",
                    "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "4xx", 503]}}}],
})
SEEDED: dict[str, Any] = {}  # path parameter -> the seeded row's id, filled in by the `app` fixture


def configured(workdir: Path) -> Settings:
    """Every provider configured, the assistant unreachable (handoffs come from `bot_unavailable`)."""
    return Settings(
        database_url=f"{SQLITE}{workdir / 'fuzz.sqlite3'}", rasa_url=f"http://127.0.0.1:{free_port()}",
        bot_retries=0, bot_timeout_seconds=1, secret_key="f" * 32, public_base_url=PUBLIC_BASE_URL,
        log_json=False, log_level="WARNING", media_dir=workdir / "media", whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token="fuzz-verify", whatsapp_access_token="fuzz-token", whatsapp_phone_number_id="1",
        whatsapp_api_base=f"http://127.0.0.1:{free_port()}", twilio_auth_token=TWILIO_TOKEN,
        call_events_secret=CALL_EVENTS_SECRET, inbox_login_attempts=100_000, nlu_harvest_interval_seconds=0)


# The schema the app serves (building an app touches no database); the app that answers is the fixture's.
schema = schemathesis.openapi.from_dict(
    create_app(configured(Path(tempfile.gettempdir()))).other_asgi_app.openapi(), config=CONFIG,
).exclude(path="/inbox/api/logout")  # logging out would end the session every other call uses


@schema.hook
def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any] | None) -> Any:
    """The generated ids, or the seeded rows' (for the same parameters), so both 404s and real rows are fuzzed."""
    known = {name: SEEDED[name] for name in path_parameters or {} if name in SEEDED}
    return st.sampled_from([path_parameters, {**path_parameters, **known}]) if known else st.just(path_parameters)


async def seed(config: Settings) -> dict[str, Any]:
    """A handed-off case with the assistant's turns, its handoff and NLU sample, and a photo the customer sent."""
    engine = create_engine(config.database_url)
    async with session_factory(engine)() as session, session.begin():
        case, handoff = await misunderstood_case(session)
        config.media_dir.mkdir(parents=True, exist_ok=True)
        (config.media_dir / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
        photo = await append_event(session, case, channel="whatsapp", direction="in", actor="customer",
                                   kind="message", payload={"media": {"path": "photo.jpg", "mime_type": "image/jpeg",
                                                                      "filename": "foto.jpg"}})
        seeded = {"case_id": case.id, "event_id": photo.id, "handoff_id": handoff.id}
    async with session_factory(engine)() as session:
        seeded["sample_id"] = (await nlu_samples.review_list(session))[0]["id"]
    await engine.dispose()
    return seeded


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A migrated SQLite file with one admin and one seeded case, shared by every endpoint's test."""
    config = configured(tmp_path_factory.mktemp("fuzz"))
    migrate(config.database_url)
    create_agent(config.database_url, ADMIN, role="admin", teams="care")
    with ThreadPoolExecutor(max_workers=1) as thread:  # pytest-asyncio may be running a loop in this thread
        SEEDED.update(thread.submit(asyncio.run, seed(config)).result())
    return config


@pytest.fixture
def app(stored: Settings) -> Any:
    """The whole ASGI app (Socket.IO in front), one per endpoint: Schemathesis ends its lifespan after each test."""
    return create_app(stored)


@pytest.fixture
def admin_headers(app: Any) -> dict[str, str]:
    """Logged in through the app itself: the session cookie and the CSRF header the inbox page sends."""
    login = schema["/inbox/api/login"]["POST"].Case(body={"email": ADMIN, "password": PASSWORD}).call(app=app)
    assert login.status_code == 200, login.text
    cookie = login.headers["set-cookie"][0].split(";", 1)[0]
    return {"Cookie": cookie, "X-CSRF-Token": login.json()["csrf_token"]}


def signed(case: schemathesis.Case, headers: dict[str, str]) -> dict[str, Any]:
    """The request as it will be sent (exact body bytes), with the provider's signature for webhooks."""
    sent = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    prepared = requests.Request(**{key: value for key, value in sent.items() if key in (
        "method", "url", "headers", "params", "data", "json", "cookies")}).prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body or b""
    path, extra = case.formatted_path, dict(headers)
    if path == "/webhooks/whatsapp" and case.method == "POST":
        extra["X-Hub-Signature-256"] = sign_whatsapp(APP_SECRET, body)
    elif path == "/webhooks/calls":
        extra["X-Signature"] = sign_call_event(CALL_EVENTS_SECRET, body)
    elif path.startswith("/webhooks/twilio/"):  # Twilio signs the public URL and the form's parameters
        query = urlsplit(prepared.url or "").query
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        extra["X-Twilio-Signature"] = RequestValidator(TWILIO_TOKEN).compute_signature(
            PUBLIC_BASE_URL + path + (f"?{query}" if query else ""), params)
    return {"headers": extra, "data": body} if body else {"headers": extra}


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # one app per endpoint, on purpose
def test_no_input_gets_a_5xx_or_an_undocumented_answer(case: schemathesis.Case, app: Any,
                                                        admin_headers: dict[str, str]) -> None:
    case.call_and_validate(app=app, **signed(case, admin_headers))
