"""Sending staged webhooks: signed, through the outbox (retries with backoff, in order per integration, once).

Retried only when the receiver certainly did not take the delivery: it could not be reached, or it answered 408,
429 or 5xx. A request that may have reached it without an answer (a read timeout) is failed visibly, never sent
again; other answers (4xx) are failed with the status. A revoked integration's queued deliveries fail unsent.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.outbox import UNSENT_COLUMNS, OutboxWorker, SendError, SendResult
from handoff.integrations.deliveries import CHANNEL
from handoff.integrations.signatures import DELIVERY_HEADER, EVENT_HEADER, HEADER, sign, webhook_secret
from handoff.integrations.webhooks import WebhookEvents
from handoff.store.models import Integration, Outbox

RETRY_STATUSES = frozenset({408, 425, 429})
USER_AGENT = "frontdoor-webhooks/1"


def encoded(body: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed: compact UTF-8 JSON."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def answer_result(status: int) -> SendResult:
    """What the receiver's HTTP status means for the delivery (pure)."""
    if 200 <= status < 300:
        return SendResult(message_id=f"HTTP {status}")
    retry = status in RETRY_STATUSES or status >= 500
    return SendResult(error=SendError(f"the receiver answered HTTP {status}", status), retry=retry)


def failed(summary: str, retry: bool) -> SendResult:
    return SendResult(error=SendError(summary), retry=retry)


class WebhookSender:
    """The outbox's sender for the `webhook` channel: one signed POST to the integration's URL."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], service_key: bytes, *, timeout: float = 10.0,
                 client: httpx.AsyncClient | None = None) -> None:
        self.sessions = sessions
        self.service_key = service_key
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                                                   follow_redirects=False)

    async def send(self, body: dict[str, Any]) -> SendResult:
        async with self.sessions() as session:
            integration = await session.get(Integration, str(body.get("integration_id", "")))
        if integration is None or integration.revoked_at is not None:
            return failed("the integration was revoked: not sent", retry=False)
        if not integration.webhook_url or "webhooks" not in (integration.scopes or []):
            return failed("the integration has no webhook URL any more: not sent", retry=False)
        content = encoded(body)
        secret = webhook_secret(self.service_key, integration.id, integration.secret_generation)
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   HEADER: sign(secret, int(time.time()), content), EVENT_HEADER: str(body.get("event", "")),
                   DELIVERY_HEADER: str(body.get("id", ""))}
        try:
            answer = await self._client.post(integration.webhook_url, content=content, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return failed(f"the receiver could not be reached ({type(exc).__name__})", retry=True)
        except httpx.TimeoutException:
            return failed("no answer in time: the receiver may have it, so it is not sent again", retry=False)
        except httpx.HTTPError as exc:
            return failed(f"the request failed ({type(exc).__name__}): not sent again", retry=False)
        return answer_result(answer.status_code)

    async def aclose(self) -> None:
        await self._client.aclose()


class WebhookWorker(OutboxWorker):
    """The outbox worker for webhooks reads only each integration's oldest unsent delivery: however many pile up
    behind a receiver that is down, the other integrations' deliveries are never out of its view."""

    async def unsent(self, session: AsyncSession) -> list[Any]:
        heads = (select(func.min(Outbox.id)).where(Outbox.channel == CHANNEL,
                                                   Outbox.status.in_(("pending", "sending")))
                 .group_by(Outbox.recipient))
        return list((await session.execute(select(*UNSENT_COLUMNS).where(Outbox.id.in_(heads))
                                           .order_by(Outbox.id))).all())


@dataclass
class Webhooks:
    """The process's webhooks: the listener the event bus is given and the worker that sends what it staged."""

    sender: WebhookSender
    worker: OutboxWorker
    listener: WebhookEvents
    _task: asyncio.Task[None] | None = field(default=None)

    @classmethod
    def build(cls, sessions: async_sessionmaker[AsyncSession], service_key: bytes, *, max_attempts: int,
              backoff: float, backoff_max: float, timeout: float) -> Webhooks:
        sender = WebhookSender(sessions, service_key, timeout=timeout)
        worker = WebhookWorker(sessions, {CHANNEL: sender}, max_attempts=max_attempts, backoff=backoff,
                              backoff_max=backoff_max, stale_after=max(300.0, 3 * timeout))
        return cls(sender, worker, WebhookEvents(sessions, worker.wake))

    def start(self) -> None:
        self._task = asyncio.create_task(self.worker.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.sender.aclose()
