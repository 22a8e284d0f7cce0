"""Password guessing is slowed per account and address and per address, never locking the owner out (issue 17)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.service.inbox.support import PASSWORD, create_agent
from tests.service.support.polling import until
from tests.service.support.processes import free_port
from tests.service.support.served_app import app_settings, served_app


@dataclass
class Served:
    base_url: str
    database_url: str

    async def login(self, email: str, address: str, password: str = "wrong") -> httpx.Response:
        """From `address`, through X-Forwarded-For (uvicorn trusts it from loopback, as behind a local proxy)."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as http:
            return await http.post("/inbox/api/login", json={"email": email, "password": password},
                                   headers={"X-Forwarded-For": address})


@asynccontextmanager
async def serving(workdir: Path, delay: float, attempts: int = 3) -> AsyncIterator[Served]:
    settings = app_settings(workdir, f"http://127.0.0.1:{free_port()}", inbox_login_attempts=attempts,
                            inbox_login_delay_seconds=delay, inbox_login_max_delay_seconds=600)
    async with served_app(settings) as url:
        yield Served(url, settings.database_url)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """Waits of a minute and more: nothing a test does outlasts them."""
    async with serving(tmp_path, 60) as app:
        yield app


@pytest.fixture
async def quick(tmp_path: Path) -> AsyncIterator[Served]:
    """Waits of 2, 4, 8 … seconds, to watch them grow."""
    async with serving(tmp_path, 2) as app:
        yield app


async def test_the_owner_logs_in_from_another_address_while_the_guesser_is_slowed(served: Served) -> None:
    await asyncio.to_thread(create_agent, served.database_url, "owner@example.com")
    for _ in range(3):
        assert (await served.login("owner@example.com", "203.0.113.66")).status_code == 401
    slowed = await served.login("owner@example.com", "203.0.113.66", PASSWORD)  # even the right one must wait
    assert slowed.status_code == 429
    assert (await served.login("owner@example.com", "198.51.100.7", PASSWORD)).status_code == 200
    assert 50 < int(slowed.headers["Retry-After"]) <= 60


async def test_the_waits_grow_with_each_failure(quick: Served) -> None:
    served = quick
    await asyncio.to_thread(create_agent, served.database_url, "target@example.com")
    for _ in range(3):
        assert (await served.login("target@example.com", "203.0.113.67")).status_code == 401
    first = await served.login("target@example.com", "203.0.113.67")
    assert first.status_code == 429 and first.headers["Retry-After"] == "2"  # from the failure on

    async def let_through() -> bool:  # refused attempts are not counted: polling does not lengthen the wait
        return (await served.login("target@example.com", "203.0.113.67")).status_code == 401

    await until(let_through, "let the next guess through after two seconds")
    second = await served.login("target@example.com", "203.0.113.67")
    assert second.status_code == 429 and second.headers["Retry-After"] == "4"


async def test_one_address_guessing_many_accounts_is_slowed(tmp_path: Path) -> None:
    async with serving(tmp_path, 60, attempts=1) as served:
        # Ten times the per-account count from one address (an office's NAT), then slowed whatever the account.
        for number in range(10):
            assert (await served.login(f"nobody{number}@example.com", "203.0.113.68")).status_code == 401
        slowed = await served.login("nobody-else@example.com", "203.0.113.68")
        assert slowed.status_code == 429 and "Retry-After" in slowed.headers
        await asyncio.to_thread(create_agent, served.database_url, "office@example.com")
        assert (await served.login("office@example.com", "203.0.113.69", PASSWORD)).status_code == 200


async def test_many_addresses_guessing_one_account_are_slowed_after_their_first_try(served: Served) -> None:
    await asyncio.to_thread(create_agent, served.database_url, "wanted@example.com")
    for number in range(3):  # three addresses fail twice each: the account has seen six failures
        for _ in range(2):
            assert (await served.login("wanted@example.com", f"192.0.2.{number}")).status_code == 401
    assert (await served.login("wanted@example.com", "192.0.2.1")).status_code == 429  # a failing address
    assert (await served.login("wanted@example.com", "192.0.2.200")).status_code == 401  # a first try goes through
    assert (await served.login("wanted@example.com", "192.0.2.201", PASSWORD)).status_code == 200
