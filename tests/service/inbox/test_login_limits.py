"""Login attempts are limited per account on every worker together when REDIS_URL is set."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.inbox.support import AgentClient, create_agent
from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def workers(redis_url: str, workdir: Path) -> Iterator[list[Service]]:
    """Two service processes on one database and one Redis, as behind the cluster's balancer."""
    shared = {"REDIS_URL": redis_url, "RASA_URL": f"http://127.0.0.1:{free_port()}",
              "SECRET_KEY": "login-limits-test-secret-0123456789", "INBOX_LOGIN_ATTEMPTS": "3",
              "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'login-limits.sqlite3'}"}
    services = [start_service(shared, workdir), start_service(shared, workdir)]
    yield services
    for service in services:
        service.stop()


async def test_failed_logins_on_both_workers_count_together(workers: list[Service]) -> None:
    create_agent(workers[0].database_url, "guessed@example.com")
    first, second = AgentClient(workers[0].base_url), AgentClient(workers[1].base_url)
    try:
        assert (await first.login("guessed@example.com", "wrong")).status_code == 401
        assert (await second.login("guessed@example.com", "wrong")).status_code == 401
        assert (await first.login("Guessed@example.com ", "wrong")).status_code == 401
        refused = await second.login("guessed@example.com")  # the right password, but the fourth attempt
        assert refused.status_code == 429 and refused.json()["detail"] == "too many attempts, wait a few minutes"
        assert (await first.login("guessed@example.com")).status_code == 429
    finally:
        await first.close()
        await second.close()


async def test_a_good_login_on_one_worker_clears_the_count_on_the_other(workers: list[Service]) -> None:
    create_agent(workers[0].database_url, "typo@example.com")
    first, second = AgentClient(workers[0].base_url), AgentClient(workers[1].base_url)
    try:
        assert (await first.login("typo@example.com", "wrong")).status_code == 401
        assert (await first.login("typo@example.com", "wrong")).status_code == 401
        assert (await second.login("typo@example.com")).status_code == 200  # third attempt, and it clears
        for client in (first, first, second):
            assert (await client.login("typo@example.com", "wrong")).status_code == 401
        assert (await first.login("typo@example.com")).status_code == 429
    finally:
        await first.close()
        await second.close()
