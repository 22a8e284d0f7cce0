"""Rasa's Redis lock store with its Redis calls in one thread of their own, off Rasa's event loop.

Rasa's `RedisLockStore` talks to Redis with the blocking client on the event loop: seven round trips a turn (a ticket
taken, the lock read, the ticket finished, the lock read and deleted). On a machine whose cores are busy, each trip
waits for Redis to be scheduled, and the whole replica waits with it: about 9 % of a `make cluster` replica's time
under 100 customers (py-spy --idle). Here every call runs in one dedicated thread, in the order the turns ask, so
a ticket is still taken in one uninterrupted step as on the loop; the loop serves other turns meanwhile. The locks
are Rasa's own (same keys, same format), so replicas with either store share them.

Use it in endpoints.yml as `lock_store: type: bot.runtime.threaded_locks.ThreadedRedisLockStore` with the Redis
store's settings (`url`, `port`, `db`, `key_prefix`, ...).
"""
from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Callable, Text, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")


class ThreadedRedisLockStore(RedisLockStore):
    """RedisLockStore whose `lock()` waits for Redis in its own thread instead of blocking the event loop."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)
        self.redis_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lock-store")

    async def in_thread(self, call: Callable[..., T], *args: Any) -> T:
        """One of the store's blocking calls, in the store's thread; turns queue there in the order they ask."""
        return await asyncio.get_running_loop().run_in_executor(self.redis_thread, functools.partial(call, *args))

    @asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncGenerator[TicketLock, None]:
        """Rasa's ticket lock, as `LockStore.lock`: a ticket, then the turn when it is served, then cleaned up."""
        ticket = await self.in_thread(self.issue_ticket, conversation_id, lock_lifetime)
        try:
            yield await self.acquire(conversation_id, ticket, wait_time_in_seconds)
        finally:
            await self.in_thread(self.cleanup, conversation_id, ticket)

    async def acquire(self, conversation_id: Text, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        """Waits until the ticket is served, re-reading the lock each time (it may have expired meanwhile)."""
        while True:
            lock = await self.in_thread(self.get_lock, conversation_id)
            if not lock:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            await self.in_thread(self.update_lock, conversation_id)
