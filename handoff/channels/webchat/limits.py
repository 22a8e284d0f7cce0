"""The webchat's limits: a visitor cannot dodge them by asking for a new session id or opening another socket."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from limits.aio.storage import Storage

from handoff.core.ratelimit import RateLimit, hit_all


def client_address(environ: dict[str, Any]) -> str:
    """The peer address of the ASGI scope: uvicorn has already replaced it with X-Forwarded-For's when the
    request came through a proxy it trusts (`--forwarded-allow-ips` / FORWARDED_ALLOW_IPS), and only then."""
    scope = environ.get("asgi.scope") or {}
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


@dataclass(frozen=True)
class WebchatLimits:
    """Messages per session, per connection (Socket.IO sid) and per address; new session ids per connection and
    per address. Address limits are `address_factor` times looser (offices and mobile carriers share addresses)."""

    session_messages: RateLimit
    connection_messages: RateLimit
    address_messages: RateLimit
    connection_sessions: RateLimit
    address_sessions: RateLimit

    @classmethod
    def build(cls, storage: Storage, *, messages: int, new_sessions: int, address_factor: int,
              window: float) -> WebchatLimits:
        per_session = RateLimit(storage, "webchat-messages", messages, window)
        per_connection = RateLimit(storage, "webchat-connection-new-sessions", new_sessions, window)
        return cls(per_session, per_session.scaled("webchat-connection-messages", 1),
                   per_session.scaled("webchat-address-messages", address_factor), per_connection,
                   per_connection.scaled("webchat-address-new-sessions", address_factor))

    async def allow_message(self, session_id: str, sid: str, address: str) -> bool:
        """Counted under all three keys, or refused (and counted under none)."""
        return await hit_all((self.session_messages, session_id), (self.connection_messages, sid),
                             (self.address_messages, address))

    async def allow_new_session(self, sid: str, address: str) -> bool:
        """Each new id is a new customer and case, so issuing one is limited like a message."""
        return await hit_all((self.connection_sessions, sid), (self.address_sessions, address))
