"""Creating, listing and revoking integrations (the CLI and admins), and finding the caller of a bearer token."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core import audit
from handoff.core.outbox import aware
from handoff.integrations.signatures import webhook_secret
from handoff.integrations.tokens import (
    Caller,
    IntegrationError,
    checked_name,
    checked_scopes,
    checked_webhook,
    looks_like_token,
    new_token,
    token_hash,
    token_hint,
)
from handoff.store.models import Integration, utcnow

USE_MARK_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per integration


@dataclass(frozen=True)
class Created:
    """A new integration as listed, with what is shown only now: the token and the webhook secret."""

    integration: dict[str, Any]
    token: str
    webhook_secret: str | None


def listed(row: Integration) -> dict[str, Any]:
    """What admins see of an integration: never its token's hash."""
    return {"id": row.id, "name": row.name, "scopes": list(row.scopes), "token_hint": row.token_hint,
            "created_by": row.created_by, "created_at": aware(row.created_at),
            "revoked_at": row.revoked_at and aware(row.revoked_at),
            "last_used_at": row.last_used_at and aware(row.last_used_at), "webhook_url": row.webhook_url,
            "webhook_events": list(row.webhook_events or [])}


class Integrations:
    """The one place integrations are written; every change is on the audit log."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], service_key: bytes) -> None:
        self.sessions = sessions
        self.service_key = service_key

    def secret_of(self, row: Integration) -> str:
        """The integration's current webhook signing secret."""
        return webhook_secret(self.service_key, row.id, row.secret_generation)

    async def create(self, actor: str, name: str, scopes: Sequence[str], webhook_url: str | None = None,
                     webhook_events: Sequence[str] = ()) -> Created:
        chosen = checked_scopes(scopes)
        url, events = checked_webhook(webhook_url, webhook_events, chosen)
        token = new_token()
        async with self.sessions() as session, session.begin():
            row = Integration(name=checked_name(name), scopes=chosen, token_hash=token_hash(token),
                              token_hint=token_hint(token), created_by=actor, webhook_url=url,
                              webhook_events=events, secret_generation=1)
            session.add(row)
            await session.flush()
            await audit.record(session, actor, "create_integration", integration_id=row.id, scopes=chosen,
                               webhook_url=url, webhook_events=events)
            return Created(listed(row), token, self.secret_of(row) if url else None)

    async def list(self) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            rows = await session.scalars(select(Integration).order_by(Integration.created_at, Integration.id))
            return [listed(row) for row in rows]

    async def revoke(self, actor: str, integration_id: str) -> dict[str, Any]:
        """Its token is refused from now on and no more webhooks are sent to it (queued ones fail unsent)."""
        async with self.sessions() as session, session.begin():
            row = await session.get(Integration, integration_id, with_for_update=True)
            if row is None:
                raise IntegrationError(404, "no such integration")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                await audit.record(session, actor, "revoke_integration", integration_id=row.id)
            return listed(row)

    async def set_webhook(self, actor: str, integration_id: str, webhook_url: str | None,
                          webhook_events: Sequence[str] = ()) -> dict[str, Any]:
        """A new URL and events (none: no webhooks); deliveries already queued go to the URL of their attempt."""
        async with self.sessions() as session, session.begin():
            row = await self._live(session, integration_id)
            url, events = checked_webhook(webhook_url, webhook_events, row.scopes)
            row.webhook_url, row.webhook_events = url, events
            await audit.record(session, actor, "integration_webhook", integration_id=row.id, webhook_url=url,
                               webhook_events=events)
            return listed(row)

    async def rotate_secret(self, actor: str, integration_id: str) -> str:
        """A new webhook signing secret (shown once); every delivery from now on is signed with it."""
        async with self.sessions() as session, session.begin():
            row = await self._live(session, integration_id)
            if not row.webhook_url:
                raise IntegrationError(409, "the integration has no webhook URL")
            row.secret_generation += 1
            await audit.record(session, actor, "integration_secret", integration_id=row.id,
                               generation=row.secret_generation)
            return self.secret_of(row)

    async def _live(self, session: AsyncSession, integration_id: str) -> Integration:
        row = await session.get(Integration, integration_id, with_for_update=True)
        if row is None:
            raise IntegrationError(404, "no such integration")
        if row.revoked_at is not None:
            raise IntegrationError(409, "the integration was revoked")
        return row

    async def caller(self, token: str) -> Caller | None:
        """The live integration holding this token, else None (unknown, malformed or revoked)."""
        if not looks_like_token(token):
            return None
        async with self.sessions() as session:
            row = await session.scalar(select(Integration).where(Integration.token_hash == token_hash(token)))
            if row is None or row.revoked_at is not None:
                return None
            now = utcnow()
            if row.last_used_at is None or aware(row.last_used_at) < now - USE_MARK_EVERY:
                await session.execute(update(Integration).where(Integration.id == row.id).values(last_used_at=now))
                await session.commit()
            return Caller(row.id, row.name, frozenset(row.scopes))
