"""The one way tests wait for something another process or task does: poll a check until it holds or time runs out."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

INTERVAL = 0.05


def _failure(what: str, timeout: float, explain: Callable[[], str] | None) -> AssertionError:
    detail = f":\n{explain()}" if explain is not None else ""
    return AssertionError(f"never {what} within {timeout}s{detail}")


async def until(check: Callable[[], Awaitable[T]], what: str, timeout: float = 30, interval: float = INTERVAL,
                explain: Callable[[], str] | None = None) -> T:
    """Awaits `check()` until it returns something truthy, and returns that; fails with `what` (and `explain()`)."""
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise _failure(what, timeout, explain)
        await asyncio.sleep(interval)


def until_sync(check: Callable[[], T], what: str, timeout: float = 30, interval: float = INTERVAL,
               explain: Callable[[], str] | None = None) -> T:
    """`until` for code that cannot await: fixtures that start processes, threads that serve stand-ins."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise _failure(what, timeout, explain)
        time.sleep(interval)
