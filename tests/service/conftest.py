"""Fixtures for the service's tests: real databases, Redis, Rasa, the service process and the provider stand-ins."""
from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core import after_hours
from handoff.store.db import create_engine, session_factory
from tests.service.support.graph_api import GraphStandIn
from tests.service.support.processes import REPO, reap_orphans
from tests.service.support.servers import Postgres, postgres_bin, start_postgres, start_redis
from tests.service.support.stack import RasaStack, Service, migrate, start_service
from tests.service.support.twilio_api import TwilioStandIn

# What a fixture needs, as the marker that names it: a test that uses one of these fixtures, directly or through
# another fixture, carries the marker, so `make test-fast` (-m "not e2e and ...") never starts what it names.
NEEDS: dict[str, frozenset[str]] = {
    "e2e": frozenset({"rasa_stack", "service_factory", "live_service", "rasa_cli"}),
    "postgres": frozenset({"postgres_server"}),
    "redis": frozenset({"redis_url"}),
    "browser": frozenset({"browser", "chromium", "context", "page"}),
    "cluster": frozenset({"cluster"}),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test by the fixtures it uses, and PostgreSQL runs of `database_url` (a dynamic fixture)."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in NEEDS.items():
            if used & fixtures:
                item.add_marker(marker)
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("database_url") == "postgresql":
            item.add_marker("postgres")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Servers left by a test run that was killed (kill -9, a closed terminal) would hold ports and CPU."""
    reap_orphans()


# A Wednesday, 11:30 in Mexico City: operations.yml's business hours are open.
OPEN_FOR_BUSINESS = datetime(2026, 11, 25, 17, 30, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def open_for_business(monkeypatch: pytest.MonkeyPatch) -> None:
    """operations.yml has business hours: a test that is not about them reads them at an instant the operation is
    open, so it passes at any time of day; the after-hours tests give their own clock to what they build."""
    monkeypatch.setattr(after_hours, "business_clock", lambda: OPEN_FOR_BUSINESS)


@pytest.fixture(scope="session")
def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="frontdoor-tests-"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    if postgres_bin() is None:
        pytest.skip("Debian package postgresql is not installed (no initdb)")
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip("Debian package redis-server is not installed")
    process, url = start_redis()
    yield url
    process.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, workdir: Path) -> str:
    """A freshly migrated, empty database on each backend."""
    name = f"t{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / f'{name}.sqlite3'}"
        migrate(url)
        return url
    postgres: Postgres = request.getfixturevalue("postgres_server")
    return postgres.migrated_database(name)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def graph() -> Iterator[GraphStandIn]:
    """Meta's Graph API on loopback, fresh for each test (what it received is that test's alone)."""
    standin = GraphStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    """Twilio's REST API on loopback, fresh for each test."""
    standin = TwilioStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def rasa_cli() -> Path:
    """The bot environment's `rasa` command, for `rasa data validate` on a scratch copy of the project."""
    return REPO / ".venv-bot" / "bin" / "rasa"


@pytest.fixture(scope="session")
def rasa_stack() -> Iterator[RasaStack]:
    stack = RasaStack.start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def service_factory(rasa_stack: RasaStack, workdir: Path) -> Iterator[Callable[..., Service]]:
    started: list[Service] = []

    def factory(**env: str) -> Service:
        settings = {"RASA_URL": rasa_stack.rasa_url, "ACTION_SERVER_URL": rasa_stack.action_url, **env}
        service = start_service(settings, workdir)
        started.append(service)
        return service

    yield factory
    for service in started:
        service.stop()


@pytest.fixture(scope="session")
def live_service(service_factory: Callable[..., Service]) -> Service:
    return service_factory()
