"""A sliding-window limit per key, decided from timestamps given by the caller (so it is testable)."""
from __future__ import annotations

from collections import defaultdict, deque


class SlidingWindowLimiter:
    """At most `limit` events per `window` seconds per key, kept in this process's memory."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str, now: float) -> bool:
        """Records and allows the event, or refuses it without recording."""
        hits = self._hits[key]
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def forget(self, key: str) -> None:
        """Drops a key whose session ended, so memory does not grow with visitors."""
        self._hits.pop(key, None)
