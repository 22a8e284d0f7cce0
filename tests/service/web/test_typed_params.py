"""Ids and dates past their range in inbox URLs are 422s (they were 500s), and the refusals are documented."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from handoff.app import create_app
from handoff.settings import Settings
from handoff.store.db import create_engine, session_factory
from tests.service.inbox.support import PASSWORD, create_agent
from tests.service.reports.conversation import misunderstood_case
from tests.service.support.processes import free_port
from tests.service.support.stack import SQLITE, migrate

PAST_BIGINT = str(2**63)  # one past the largest row id PostgreSQL and SQLite can hold
pytestmark = pytest.mark.asyncio(loop_scope="module")  # one app for the module: these requests change nothing


async def seeded_case(database_url: str) -> str:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session, session.begin():
        case, _handoff = await misunderstood_case(session)
    await engine.dispose()
    return case.id


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def admin(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The whole app in-process, an admin signed in (cookie and CSRF header), one case with a handoff."""
    database_url = f"{SQLITE}{tmp_path_factory.mktemp('params') / 'params.sqlite3'}"
    migrate(database_url)
    create_agent(database_url, "admin@example.com", role="admin")
    case_id = await seeded_case(database_url)
    asgi = create_app(Settings(database_url=database_url, rasa_url=f"http://127.0.0.1:{free_port()}", bot_retries=0,
                               secret_key="p" * 32, log_json=False, nlu_harvest_interval_seconds=0))
    api = asgi.other_asgi_app
    async with api.router.lifespan_context(api), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi, raise_app_exceptions=False), base_url="http://test") as client:
        login = await client.post("/inbox/api/login", json={"email": "admin@example.com", "password": PASSWORD})
        client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        client.case_id = case_id  # type: ignore[attr-defined]
        yield client


def field_error(response: httpx.Response) -> list[Any]:
    """FastAPI's validation error: a list of {loc, msg, type} (a bare string would break its documented model)."""
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and all({"loc", "msg", "type"} <= set(error) for error in detail), detail
    return [error["loc"] for error in detail]


async def test_an_event_id_past_bigint_is_a_422_not_a_500(admin) -> None:
    assert field_error(await admin.get(f"/inbox/api/events/{PAST_BIGINT}/media")) == [["path", "event_id"]]
    assert field_error(await admin.get("/inbox/api/events/0/media")) == [["path", "event_id"]]


async def test_a_transition_id_past_bigint_is_a_422_not_a_500(admin) -> None:
    response = await admin.post(f"/inbox/api/transitions/{PAST_BIGINT}/review", json={"tag": "correct"})
    assert field_error(response) == [["path", "handoff_id"]]


async def test_a_sample_id_past_bigint_is_a_422_not_a_500(admin) -> None:
    response = await admin.post(f"/inbox/api/nlu-samples/{PAST_BIGINT}", json={"dismiss": True})
    assert field_error(response) == [["path", "sample_id"]]


async def test_paging_a_case_before_an_id_past_bigint_is_a_422_not_a_500(admin) -> None:
    response = await admin.get(f"/inbox/api/cases/{admin.case_id}?before={PAST_BIGINT}")
    assert field_error(response) == [["query", "before"]]
    assert (await admin.get(f"/inbox/api/cases/{admin.case_id}?before=2")).status_code == 200


async def test_kpis_for_the_last_representable_day_are_a_422_not_a_500(admin) -> None:
    response = await admin.get("/inbox/api/reports/kpis?start=9999-12-31&end=9999-12-31")
    assert field_error(response) == [["query", "start"], ["query", "end"]]
    for query in ("start=99999-01-01&end=99999-01-02", "start=2026-13-45&end=2026-01-01"):
        assert field_error(await admin.get(f"/inbox/api/reports/kpis?{query}"))[0] == ["query", "start"]
    assert (await admin.get("/inbox/api/reports/kpis?start=2026-01-01&end=2026-01-31")).status_code == 200


async def test_transition_filters_past_their_range_are_422s(admin) -> None:
    assert field_error(await admin.get("/inbox/api/transitions?start=9999-12-31T23:59:59-12:00")) == [
        ["query", "start"]]
    assert field_error(await admin.get("/inbox/api/transitions?team=" + "x" * 65)) == [["query", "team"]]


async def test_a_case_id_that_cannot_be_a_case_is_a_422(admin) -> None:
    for path in ("/inbox/api/cases/" + "a" * 33, "/inbox/api/cases/a%20b/export.json",
                 '/inbox/api/cases/a"b/export.html'):
        assert field_error(await admin.get(path)) == [["path", "case_id"]], path


async def test_the_routes_own_422s_have_fastapis_validation_shape(admin) -> None:
    """A reversed KPI range, an unknown review tag and a label without an intent: documented as 422 lists."""
    assert field_error(await admin.get("/inbox/api/reports/kpis?start=2026-02-01&end=2026-01-01")) == [
        ["query", "end"]]
    assert field_error(await admin.post("/inbox/api/transitions/1/review", json={"tag": "meh"})) == [["body", "tag"]]
    samples = (await admin.get("/inbox/api/nlu-samples")).json()
    response = await admin.post(f"/inbox/api/nlu-samples/{samples[0]['id']}", json={"intent": "Not Snake"})
    assert field_error(response) == [["body", "intent"]]


async def test_the_openapi_schema_documents_the_refusals_each_route_gives(admin) -> None:
    paths = (await admin.get("/openapi.json")).json()["paths"]
    documented = {(method.upper(), path): set(operation["responses"])
                  for path, item in paths.items() for method, operation in item.items()}
    assert {"401", "403", "404", "422"} <= documented[("GET", "/inbox/api/cases/{case_id}")]
    assert {"401", "403", "404", "422"} <= documented[("GET", "/inbox/api/events/{event_id}/media")]
    assert {"400", "401", "403", "404", "409", "422"} <= documented[("POST", "/inbox/api/cases/{case_id}/reply")]
    assert {"401", "429"} <= documented[("POST", "/inbox/api/login")]
    assert {"401", "403"} <= documented[("GET", "/inbox/api/queue")]
    html_refusal = paths["/inbox/api/cases/{case_id}/export.html"]["get"]["responses"]["404"]["content"]
    assert set(html_refusal) == {"application/json"}  # a refusal is JSON even where the page is HTML

