"""Progressive delays against guessing, counted in the shared `limits` storage so every worker slows alike."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits.aio.storage import Storage


@dataclass(frozen=True)
class Claim:
    """One attempt under one key: `wait` > 0 means refused for that many seconds; `count` includes this attempt."""

    count: int
    wait: float


class Slowdown:
    """`free` attempts per key and window go through at once; then one attempt per wait that doubles, capped.

    An attempt is counted as a failure when it starts (so a burst of parallel guesses cannot all slip through
    before the first one fails) and is taken back when it turns out right. From the `free`-th on, the attempt
    let through creates a gate that expires after the delay, restarted when the attempt is known to have failed;
    attempts while the gate stands are refused and not counted, so impatience alone never lengthens the wait.
    Counts expire `window` seconds after a key's first failure, gates after their delay: the storage forgets
    every key by itself.
    """

    def __init__(self, storage: Storage, name: str, free: int, *, base: float, cap: float, window: float) -> None:
        self.storage = storage
        self.name = name
        self.free = free
        self.base = base
        self.cap = cap
        self.window = max(1, math.ceil(window))  # the storage counts in whole seconds

    def delay(self, excess: int) -> int:
        """The wait after the last free attempt (excess 1) and each later one: base, 2 × base, …, at most cap."""
        return max(1, math.ceil(min(self.cap, self.base * 2.0 ** min(excess - 1, 64))))

    async def claim(self, key: str) -> Claim:
        """Counts an attempt, or refuses it (uncounted) with the seconds left until the next one may try."""
        count = await self.storage.incr(self.count_key(key), self.window)
        if count < self.free:
            return Claim(count, 0.0)
        gate = self.gate_key(key)
        if await self.storage.incr(gate, self.delay(count - self.free + 1)) == 1 or count == self.free:
            return Claim(count, 0.0)
        await self.release(key)
        return Claim(count - 1, max(1.0, await self.storage.get_expiry(gate) - time.time()))

    async def failed(self, key: str, count: int) -> None:
        """The attempt counted `count` failed: its wait, if any, runs from now (checking a password takes time)."""
        if count >= self.free:
            gate = self.gate_key(key)
            await self.storage.clear(gate)
            await self.storage.incr(gate, self.delay(count - self.free + 1))

    async def release(self, key: str) -> None:
        """Takes one counted attempt back (it was right, or refused under another key)."""
        await self.storage.incr(self.count_key(key), self.window, amount=-1)

    async def forgive(self, key: str) -> None:
        """Forgets a key's failures and its gate, on every worker sharing the storage."""
        await self.storage.clear(self.count_key(key))
        await self.storage.clear(self.gate_key(key))

    async def failures(self, key: str) -> int:
        return await self.storage.get(self.count_key(key))

    def count_key(self, key: str) -> str:
        return f"{self.name}:count:{key}"

    def gate_key(self, key: str) -> str:
        return f"{self.name}:gate:{key}"
