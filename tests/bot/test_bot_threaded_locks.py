"""The threaded Redis lock store keeps Rasa's ticket locks (shared with Rasa's own store) without blocking the loop."""
from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from bot.runtime.threaded_locks import ThreadedRedisLockStore

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    if shutil.which("redis-server") is None:
        pytest.skip("Debian package redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--enable-debug-command", "local"], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            redis.Redis(port=port).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    yield port
    server.terminate()
    server.wait(10)


def ours(port: int) -> ThreadedRedisLockStore:
    return ThreadedRedisLockStore(EndpointConfig(url="127.0.0.1", type="x", port=port, db=1, key_prefix="test"))


def rasas(port: int) -> RedisLockStore:
    return RedisLockStore(host="127.0.0.1", port=port, db=1, key_prefix="test")


def test_a_conversation_is_served_one_turn_at_a_time_across_both_stores(redis_port: int) -> None:
    order: list[str] = []

    async def turn(store: LockStore, name: str, hold: float, entered: asyncio.Event | None = None) -> None:
        async with store.lock("c1", wait_time_in_seconds=0.02):
            order.append(f"{name} in")
            if entered is not None:
                entered.set()
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    async def main() -> None:
        entered = asyncio.Event()
        first = asyncio.ensure_future(turn(ours(redis_port), "ours", 0.3, entered))
        await entered.wait()  # ours holds the lock: Rasa's store (another replica) and a second turn wait
        await asyncio.gather(first, turn(rasas(redis_port), "rasa", 0.1), turn(ours(redis_port), "ours again", 0))

    asyncio.run(main())
    assert order[:2] == ["ours in", "ours out"] and len(order) == 6
    assert all(order[index].endswith(" in") and order[index + 1].endswith(" out") for index in (2, 4))
    assert not redis.Redis(port=redis_port, db=1).keys("test:*")  # the last turn out deleted the lock


def test_the_loop_serves_other_turns_while_redis_is_slow(redis_port: int) -> None:
    async def ticks_while_redis_sleeps(store: LockStore) -> int:
        # Redis is single-threaded: once it reads this command, every client waits out the sleep
        sleeper = socket.create_connection(("127.0.0.1", redis_port))
        sleeper.sendall(b"*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$3\r\n0.3\r\n")
        await asyncio.sleep(0.01)

        async def take() -> None:
            async with store.lock("c2"):
                pass

        taking, ticks = asyncio.ensure_future(take()), 0
        while not taking.done():
            ticks += 1
            await asyncio.sleep(0.005)
        await taking
        assert sleeper.recv(16) == b"+OK\r\n"
        sleeper.close()
        return ticks

    assert asyncio.run(ticks_while_redis_sleeps(ours(redis_port))) >= 10
    assert asyncio.run(ticks_while_redis_sleeps(rasas(redis_port))) <= 1  # Rasa's own: the loop stood still


def test_the_cluster_endpoints_name_it_and_rasa_builds_it_from_them(redis_port: int, tmp_path: Path) -> None:
    cluster = yaml.safe_load((REPO / "deploy" / "endpoints.cluster.yml").read_text().replace("${REDIS_PORT}", "1"))
    assert cluster["lock_store"]["type"] == "bot.runtime.threaded_locks.ThreadedRedisLockStore"
    config = tmp_path / "endpoints.yml"
    config.write_text(yaml.safe_dump({"lock_store": {**cluster["lock_store"], "url": "127.0.0.1", "port": redis_port}}))
    store = LockStore.create(read_endpoint_config(str(config), "lock_store"))
    assert isinstance(store, ThreadedRedisLockStore) and store.key_prefix.startswith("frontdoor:")
