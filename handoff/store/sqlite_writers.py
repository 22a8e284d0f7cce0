"""This process's SQLite writers take the database write lock one at a time, in the order they asked for it.

SQLite's own wait for a busy write lock is its busy handler: naps of 1, 2, 5, 10 … 100 ms until busy_timeout. Under
load that makes a writer sleep on long after the lock is free, and lets a writer that came later take it first:
profiled at 100 customers on the embedded stack, the worker's SQLite threads spent their time in those naps
(`usleep` under `sqlite3BtreeBeginTrans`), and the customers' p95 with them. Queued here instead, the next writer's
BEGIN IMMEDIATE goes out when the one before commits or rolls back. Writers of other processes (or of another
engine) still meet at SQLite's own lock and busy_timeout: this only orders the writers it sees.
"""
from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections import deque
from collections.abc import MutableMapping
from typing import Any

HOLDS_TURN = "handoff_sqlite_writer_turn"  # in a pooled connection's info: the queue whose turn it holds


class _Turns:
    """One event loop's queue: a turn is held or handed to the first waiter, never free while one waits."""

    def __init__(self) -> None:
        self.held = False
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def take(self, timeout: float) -> None:
        if not self.held and not self.waiters:
            self.held = True
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self.waiters.append(waiter)
        expiry = loop.call_later(timeout, self._expire, waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.give_back()  # handed the turn just as this task was cancelled: it goes on to the next
            raise
        finally:
            expiry.cancel()
            if waiter in self.waiters:
                self.waiters.remove(waiter)

    def _expire(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(sqlite3.OperationalError("database is locked"))  # as busy_timeout would say

    def give_back(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the turn passes straight to it: `held` stays True
                return
        self.held = False


class WriterQueue:
    """An engine's writers in arrival order, one queue per event loop (tests run several loops in a process)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Turns] = weakref.WeakKeyDictionary()

    def _for_this_loop(self) -> _Turns:
        loop = asyncio.get_running_loop()
        turns = self._turns.get(loop)
        if turns is None:
            turns = self._turns[loop] = _Turns()
        return turns

    async def begin(self, driver: Any, sql: str, info: MutableMapping[Any, Any]) -> None:
        """Waits for this connection's turn, then begins; the turn is the connection's until `end`."""
        turns = self._for_this_loop()
        await turns.take(self.timeout)
        info[HOLDS_TURN] = turns
        try:
            await driver.execute(sql)
        except BaseException:
            self.end(info)
            raise

    @staticmethod
    def end(info: MutableMapping[Any, Any]) -> None:
        """The connection's transaction is over (committed, rolled back, reset or the connection closed)."""
        turns = info.pop(HOLDS_TURN, None)
        if isinstance(turns, _Turns):
            turns.give_back()
