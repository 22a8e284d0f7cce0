"""Slows password guessing per account and per address without letting an attacker lock the owner out."""
from __future__ import annotations

from dataclasses import dataclass

from limits.aio.storage import Storage

from handoff.core.slowdown import Slowdown

ADDRESS_FACTOR = 10  # offices share one NAT address: its own count is this much looser


@dataclass(frozen=True)
class Attempt:
    """A login attempt let through (wait 0), counted under `claimed` until it proves right; or refused for `wait` s."""

    wait: float
    claimed: tuple[tuple[Slowdown, str, int], ...] = ()  # (slowdown, key, this attempt's count)


class LoginThrottle:
    """Three progressive slowdowns, all in the shared storage:

    - (account, address): the plain guesser, slowed after `free` failures;
    - address, across accounts (`ADDRESS_FACTOR` × looser): one address trying many accounts;
    - account, across addresses: many addresses guessing one account. It applies only to addresses that already
      failed on that account, so the owner typing the right password from another address is never slowed by it.
    """

    def __init__(self, storage: Storage, *, free: int, base: float, cap: float, window: float) -> None:
        self.pair = Slowdown(storage, "login-pair", free, base=base, cap=cap, window=window)
        self.account = Slowdown(storage, "login-account", free, base=base, cap=cap, window=window)
        self.address = Slowdown(storage, "login-address", free * ADDRESS_FACTOR, base=base, cap=cap, window=window)

    async def attempt(self, email: str, address: str) -> Attempt:
        """Lets the attempt through (counted as a failure for now) or says how long to wait."""
        account = email.strip().lower()
        pair = f"{account}|{address}"
        claimed: list[tuple[Slowdown, str, int]] = []
        first = await self.pair.claim(pair)
        if first.wait:
            return Attempt(first.wait)
        claimed.append((self.pair, pair, first.count))
        steps = [(self.account, account)] if first.count > 1 else []  # this address failed on it before
        for slowdown, key in [*steps, (self.address, address)]:
            claim = await slowdown.claim(key)
            if claim.wait:
                for done, done_key, _ in claimed:
                    await done.release(done_key)
                return Attempt(claim.wait)
            claimed.append((slowdown, key, claim.count))
        return Attempt(0.0, tuple(claimed))

    async def failed(self, attempt: Attempt) -> None:
        """A wrong password: the waits it earned run from now."""
        for slowdown, key, count in attempt.claimed:
            await slowdown.failed(key, count)

    async def succeeded(self, attempt: Attempt) -> None:
        """The right password: this address's failures on the account are forgiven, the attempt uncounted."""
        for slowdown, key, _ in attempt.claimed:
            if slowdown is self.pair:
                await slowdown.forgive(key)
            else:
                await slowdown.release(key)
