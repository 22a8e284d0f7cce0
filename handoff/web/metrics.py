"""`GET /metrics` for Prometheus: turn latencies and handoffs counted as they happen, queues and backlogs read at
scrape time with a few grouped, indexed counts (a scrape never walks the timeline).

With `PROMETHEUS_MULTIPROC_DIR` set (several workers), prometheus-client keeps each worker's histograms and
counters in that directory and any worker's scrape sums them all; unset, the process's own values are served.
"""
from __future__ import annotations

import hmac
import os
import re
from collections import Counter as Tally
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.events import HandedOff, Subscription
from handoff.store.models import Agent, Case, InboundWebhook, Outbox, utcnow
from handoff.web.deps import SettingsDep, provided
from handoff.web.errors import errors

# Seconds: a Rasa turn costs ~0.1–0.2 s when idle and seconds under saturation; the widget waits 20 s at most.
LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 20.0)
OPEN_STATUSES = ("bot", "queued", "assigned")  # a conversation not yet ended
NO_TEAM = "none"

_META_CODE = re.compile(r"^\((\d+)\)")  # WhatsApp: "(131047) Re-engagement message: …"
_HTTP_CODE = re.compile(r"answered HTTP (\d{3})")  # outgoing webhooks: "the receiver answered HTTP 503"


def provider_code(last_error: str | None) -> str:
    """The provider's code in an outbox row's last error, as a bounded label: Meta's number, `http_503`, `other`."""
    if not last_error:
        return "other"
    if meta := _META_CODE.match(last_error):
        return meta.group(1)
    if http := _HTTP_CODE.search(last_error):
        return f"http_{http.group(1)}"
    return "other"


def access(configured: str | None, authorization: str | None) -> int:
    """What a scrape gets: 200 with the right bearer token, 404 when METRICS_TOKEN is unset, else 401 (pure)."""
    if not configured:
        return 404
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), configured.encode()):
        return 401
    return 200


@dataclass
class Snapshot:
    """What the scrape read from the database, by label."""

    queued: dict[str, int] = field(default_factory=dict)  # team
    oldest_wait: dict[str, float] = field(default_factory=dict)  # team: seconds
    agents_online: dict[str, int] = field(default_factory=dict)  # team
    outbox_backlog: dict[str, int] = field(default_factory=dict)  # channel
    outbox_failed: dict[tuple[str, str], int] = field(default_factory=dict)  # channel, provider code
    webhooks_unprocessed: dict[str, int] = field(default_factory=dict)  # channel
    webchat_open: int = 0


def _seconds_since(now: datetime, then: datetime | None) -> float:
    if then is None:
        return 0.0
    return max(0.0, (now.replace(tzinfo=None) - then.replace(tzinfo=None)).total_seconds())


async def read_snapshot(session: AsyncSession, now: datetime) -> Snapshot:
    """Six grouped counts, each on an index (queue, outbox status, unprocessed webhooks) or a small table."""
    found = Snapshot()
    queue = await session.execute(select(Case.team, func.count(), func.min(Case.queued_at))
                                  .where(Case.status == "queued").group_by(Case.team))
    for team, count, oldest in queue:
        found.queued[team or NO_TEAM] = count
        found.oldest_wait[team or NO_TEAM] = _seconds_since(now, oldest)
    online: Tally[str] = Tally()
    for teams in await session.scalars(select(Agent.teams).where(Agent.presence == "online")):
        online.update(teams or [NO_TEAM])
    found.agents_online = dict(online)
    backlog = await session.execute(select(Outbox.channel, func.count())
                                    .where(Outbox.status.in_(("pending", "sending"))).group_by(Outbox.channel))
    found.outbox_backlog = {str(channel): int(count) for channel, count in backlog}
    failed: Tally[tuple[str, str]] = Tally()
    for channel, error, count in await session.execute(
            select(Outbox.channel, Outbox.last_error, func.count())
            .where(Outbox.status == "failed").group_by(Outbox.channel, Outbox.last_error)):
        failed[(channel, provider_code(error))] += count
    found.outbox_failed = dict(failed)
    waiting = await session.execute(select(InboundWebhook.channel, func.count())
                                    .where(InboundWebhook.processed_at.is_(None)).group_by(InboundWebhook.channel))
    found.webhooks_unprocessed = {str(channel): int(count) for channel, count in waiting}
    found.webchat_open = await session.scalar(
        select(func.count()).select_from(Case).where(Case.status.in_(OPEN_STATUSES), Case.channel == "webchat")) or 0
    return found


def _gauge(name: str, documentation: str, labels: list[str], values: Mapping[Any, float]) -> GaugeMetricFamily:
    """A gauge family from values keyed by one label's value, or a tuple of them."""
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for key, value in values.items():
        family.add_metric(list(key) if isinstance(key, tuple) else [key], value)
    return family


class SnapshotCollector(Collector):
    """One scrape's database reads as gauges."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        """The gauges, labelled by team or channel."""
        s = self.snapshot
        yield _gauge("frontdoor_queue_length", "Cases waiting in people's queue", ["team"], s.queued)
        yield _gauge("frontdoor_queue_oldest_wait_seconds", "How long the longest-waiting queued case has waited",
                     ["team"], s.oldest_wait)
        yield _gauge("frontdoor_agents_online", "Agents whose presence is online, by team (an agent in two teams "
                     "counts in both)", ["team"], s.agents_online)
        yield _gauge("frontdoor_outbox_backlog", "Outgoing messages not yet sent (pending or sending)", ["channel"],
                     s.outbox_backlog)
        yield _gauge("frontdoor_outbox_failed", "Outgoing messages the provider refused for good, by its code",
                     ["channel", "code"], s.outbox_failed)
        yield _gauge("frontdoor_webhooks_unprocessed", "Stored provider webhooks not yet processed", ["channel"],
                     s.webhooks_unprocessed)
        yield _gauge("frontdoor_webchat_open_sessions", "Open website chat conversations (not resolved, abandoned "
                     "or merged)", [], {(): s.webchat_open})


class Metrics:
    """The process's instruments: it times turns for the conversation service and counts handoffs as a listener."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], multiprocess_dir: str | None = None) -> None:
        self.sessions = sessions
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry()
        self.turn_latency = Histogram(
            "frontdoor_turn_latency_seconds", "A customer's message arriving to the assistant's answer (or the "
            "handoff notice) delivered", ["channel"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.rasa_latency = Histogram(
            "frontdoor_rasa_latency_seconds", "Asking Rasa for a turn (failures included: their timeout)",
            ["channel"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.handoffs = Counter("frontdoor_handoffs", "Cases handed to people", ["reason", "team"],
                                registry=self.registry)

    @classmethod
    def from_environment(cls, sessions: async_sessionmaker[AsyncSession]) -> Metrics:
        """Multiprocess mode exactly when prometheus-client's own `PROMETHEUS_MULTIPROC_DIR` is set."""
        return cls(sessions, os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None)

    def assistant_answered(self, channel: str, seconds: float) -> None:
        """Rasa's answer (or failure) took this long."""
        self.rasa_latency.labels(channel).observe(seconds)

    def turn_ended(self, channel: str, seconds: float) -> None:
        """The customer had the turn's answer this long after writing."""
        self.turn_latency.labels(channel).observe(seconds)

    def subscriptions(self) -> Iterable[Subscription[Any]]:
        """Counts every handoff once, after its commit."""
        return [Subscription(HandedOff, self.handed_off)]

    async def handed_off(self, event: HandedOff) -> None:
        """One more handoff for its reason and team."""
        self.handoffs.labels(event.reason, event.team or NO_TEAM).inc()

    async def exposition(self) -> bytes:
        """This process's (or, multiprocess, every worker's) instruments and the database's gauges, as text."""
        async with self.sessions() as session:
            snapshot = await read_snapshot(session, utcnow())
        registry = CollectorRegistry()
        if self.multiprocess_dir:
            MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]  # untyped upstream
        else:
            registry.register(self.registry)
        registry.register(SnapshotCollector(snapshot))
        return generate_latest(registry)


router = APIRouter()


@router.get("/metrics", response_class=Response, responses={
    200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
    **errors(401, 404)})
async def metrics(settings: SettingsDep, instruments: Annotated[Metrics, Depends(provided(Metrics))],
                  authorization: Annotated[str | None, Header()] = None) -> Response:
    """For Prometheus with `Authorization: Bearer $METRICS_TOKEN`; 404 while METRICS_TOKEN is unset."""
    status = access(settings.metrics_token, authorization)
    if status == 404:
        raise HTTPException(404, "Metrics are off: set METRICS_TOKEN to serve them")
    if status == 401:
        raise HTTPException(401, "A bearer token (METRICS_TOKEN) is needed", headers={"WWW-Authenticate": "Bearer"})
    return Response(await instruments.exposition(), media_type=CONTENT_TYPE_LATEST)
