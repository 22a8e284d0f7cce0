"""Login slowdowns count on every worker together when REDIS_URL is set."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service.inbox.support import PASSWORD, create_agent
from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def workers(redis_url: str, workdir: Path) -> Iterator[list[Service]]:
    """Two service processes on one database and one Redis, as behind the cluster's balancer."""
    shared = {"REDIS_URL": redis_url, "RASA_URL": f"http://127.0.0.1:{free_port()}",
              "SECRET_KEY": "login-limits-test-secret-0123456789", "INBOX_LOGIN_ATTEMPTS": "3",
              "INBOX_LOGIN_DELAY_SECONDS": "60",
              "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'login-limits.sqlite3'}"}
    services = [start_service(shared, workdir), start_service(shared, workdir)]
    yield services
    for service in services:
        service.stop()


async def login(worker: Service, email: str, address: str, password: str = "wrong") -> httpx.Response:
    """From `address` (X-Forwarded-For, which uvicorn trusts from loopback: a proxy on the same host)."""
    async with httpx.AsyncClient(base_url=worker.base_url, timeout=30) as http:
        return await http.post("/inbox/api/login", json={"email": email, "password": password},
                               headers={"X-Forwarded-For": address})


async def test_failed_logins_on_both_workers_slow_the_guesser_but_not_the_owner(workers: list[Service]) -> None:
    first, second = workers
    await asyncio.to_thread(create_agent, first.database_url, "guessed@example.com")
    assert (await login(first, "guessed@example.com", "203.0.113.1")).status_code == 401
    assert (await login(second, "guessed@example.com", "203.0.113.1")).status_code == 401
    assert (await login(first, "Guessed@example.com ", "203.0.113.1")).status_code == 401
    refused = await login(second, "guessed@example.com", "203.0.113.1", PASSWORD)  # the right one, but slowed
    assert refused.status_code == 429 and 50 < int(refused.headers["Retry-After"]) <= 60
    assert (await login(first, "guessed@example.com", "203.0.113.1", PASSWORD)).status_code == 429
    assert (await login(second, "guessed@example.com", "198.51.100.1", PASSWORD)).status_code == 200  # the owner


async def test_a_good_login_on_one_worker_forgives_the_typos_on_the_other(workers: list[Service]) -> None:
    first, second = workers
    await asyncio.to_thread(create_agent, first.database_url, "typo@example.com")
    assert (await login(first, "typo@example.com", "203.0.113.2")).status_code == 401
    assert (await login(first, "typo@example.com", "203.0.113.2")).status_code == 401
    assert (await login(second, "typo@example.com", "203.0.113.2", PASSWORD)).status_code == 200  # forgives
    for worker in (first, first, second):
        assert (await login(worker, "typo@example.com", "203.0.113.2")).status_code == 401
    assert (await login(first, "typo@example.com", "203.0.113.2")).status_code == 429


async def test_one_address_across_accounts_is_counted_on_both_workers(workers: list[Service]) -> None:
    for number in range(30):  # ten times the per-account count, alternating workers
        answer = await login(workers[number % 2], f"sprayed{number}@example.com", "203.0.113.3")
        assert answer.status_code == 401
    assert (await login(workers[0], "sprayed-more@example.com", "203.0.113.3")).status_code == 429
    assert (await login(workers[1], "sprayed-more@example.com", "203.0.113.3")).status_code == 429
