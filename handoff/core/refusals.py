"""A refused request with the HTTP status that says why: one base, so every layer's refusal carries the same two
fields and a route turns any of them into the same answer."""
from __future__ import annotations


class Refused(Exception):
    """A request that cannot be honoured as asked: `status` is the HTTP answer, `message` why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
