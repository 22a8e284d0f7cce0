"""Failure drills on `make cluster`: a part is killed or restarted while customers write, and every message a door
acknowledged must be on its case's timeline once, answered once. Each drill prints its counts (-s shows them)."""
from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Callable

import httpx

from tests.service.support.cluster import Cluster
from tests.service.support.drills import ChatVisitor, Counts, Sent, WhatsAppNumber, burst, count, settle
from tests.service.support.graph_api import GraphStandIn
from tests.service.support.polling import until


async def counted(cluster: Cluster, graph: GraphStandIn, drill: str, chats: list[ChatVisitor],
                  phones: list[WhatsAppNumber]) -> tuple[Counts, int]:
    """The drill's counts once every acknowledged message is stored and had its turn (or 240 s passed), printed."""
    sent = [item for customer in [*chats, *phones] for item in customer.sent]
    waiting = await settle(cluster.env_database_url, sent)
    counts = await count(cluster.env_database_url, cluster.tracker_url, sent, graph, chats)
    print(f"\n{counts.line(drill)}; still to store or answer after the wait: {waiting}", flush=True)
    return counts, waiting


def assert_exactly_once(counts: Counts, waiting: int) -> None:
    """Everything sent was acknowledged (after the clients' retries), stored once and answered once."""
    assert waiting == 0
    assert counts.acknowledged == counts.sent
    assert counts.stored == counts.sent, "an acknowledged message is missing from its timeline"
    assert counts.answered == counts.stored
    assert counts.lost == 0
    assert counts.doubled == 0, counts.detail


async def test_a_worker_killed_during_a_burst_of_500_loses_and_doubles_nothing(cluster: Cluster,
                                                                             cluster_graph: GraphStandIn) -> None:
    seen: dict[str, float] = {}

    async def kill_a_worker(sent: Callable[[], list[Sent]]) -> None:
        await until(lambda: _true(len(sent()) >= 150), "a third of the burst sent", timeout=120)
        cluster.kill("worker1")  # kill -9 of its process group, mid-burst
        killed = time.monotonic()
        await until(lambda: _true(_down(cluster, "w1")), "w1 out of the balancer's pool", timeout=20, interval=0.2)
        seen["out_of_pool_after"] = round(time.monotonic() - killed, 1)

    chats, phones = await burst(cluster.base_url, visitors=50, numbers=50, per_customer=5, message="hola", gap=0.3,
                                seconds=150, during=kill_a_worker, prefix="kill-worker")
    counts, waiting = await counted(cluster, cluster_graph, "worker_kill", chats, phones)
    reconnected = [chat for chat in chats if chat.reconnects]
    print(f"drill worker_kill: w1 out of the pool after {seen['out_of_pool_after']} s; {len(reconnected)} webchat "
          f"visitors reconnected through the balancer, each with its history; "
          f"WhatsApp refusals before a 200: {sum((p.refusals for p in phones), Counter())}", flush=True)
    assert counts.sent == 500
    assert_exactly_once(counts, waiting)
    assert seen["out_of_pool_after"] < 5
    assert reconnected, "no visitor was on the killed worker"
    # their conversation came back: at least every message acknowledged before the connection was lost
    assert all(shown >= acknowledged_before for chat in reconnected for shown, acknowledged_before in chat.histories)


async def test_a_rasa_replica_killed_during_a_burst_answers_each_turn_once(cluster: Cluster,
                                                                           cluster_graph: GraphStandIn) -> None:
    async def kill_a_replica(sent: Callable[[], list[Sent]]) -> None:
        await until(lambda: _true(len(sent()) >= 30), "the burst under way", timeout=120)
        cluster.kill("rasa1")

    chats, phones = await burst(cluster.base_url, visitors=10, numbers=10, per_customer=5, message="hola", gap=1.0,
                                seconds=90, during=kill_a_replica, prefix="kill-rasa")
    counts, waiting = await counted(cluster, cluster_graph, "rasa_kill", chats, phones)
    assert counts.sent == 100
    assert_exactly_once(counts, waiting)
    assert counts.detail["assistant_asked_twice"] == 0  # a turn cut by the kill is handed off, never resent
    # each answered by the other replica, or the customer told and handed to people (bot_unavailable)
    assert counts.detail["answered_by_assistant"] + counts.detail["handed_off"] + counts.detail[
        "left_with_people"] == counts.answered
    assert counts.detail["answered_by_assistant"] > 0


STORE_RESTARTS: list[Counts] = []  # the drill's counts, for its separate check that every message was answered


async def test_redis_then_postgresql_restarted_during_traffic_loses_nothing_acknowledged(
        cluster: Cluster, cluster_graph: GraphStandIn) -> None:
    workers = {name: cluster.pid(name) for name in ("worker1", "worker2")}

    async def restart_stores(sent: Callable[[], list[Sent]]) -> None:
        await until(lambda: _true(len(sent()) >= 40), "traffic under way", timeout=120)
        redis = cluster.kill("redis", signal.SIGTERM)  # the supervisor starts it again a second later
        await until(lambda: _true(_restarted(cluster, "redis", redis)), "Redis back", timeout=30, interval=0.2)
        await asyncio.sleep(5)
        postgres = cluster.kill("postgres", signal.SIGINT)  # fast shutdown: every connection closed
        await until(lambda: _true(_restarted(cluster, "postgres", postgres)), "PostgreSQL back", timeout=30,
                    interval=0.2)

    chats, phones = await burst(cluster.base_url, visitors=10, numbers=30, per_customer=6, message="hola", gap=1.0,
                                seconds=100, during=restart_stores, prefix="restart-stores")
    counts, waiting = await counted(cluster, cluster_graph, "store_restarts", chats, phones)
    STORE_RESTARTS.append(counts)
    refusals = sum((phone.refusals for phone in phones), Counter())
    print(f"drill store_restarts: webhook answers before a 200: {dict(refusals)}", flush=True)
    assert counts.sent == 240
    assert counts.acknowledged == counts.sent and counts.stored == counts.sent  # nothing acknowledged is missing
    assert waiting == 0  # nothing left waiting for its turn
    assert counts.doubled == 0, counts.detail
    assert refusals[503] > 0 and refusals[500] == 0  # the database's absence said as 503, which Meta retries
    assert {name: cluster.pid(name) for name in workers} == workers  # recovered without restarting a worker
    assert httpx.get(f"{cluster.base_url}/readyz", timeout=10).status_code == 200


def test_after_the_store_restarts_every_stored_message_was_answered(cluster: Cluster) -> None:
    assert STORE_RESTARTS, "the store-restart drill did not run"
    counts = STORE_RESTARTS[-1]
    assert counts.answered == counts.stored and counts.lost == 0, counts.detail


async def _true(value: bool) -> bool:
    return value


def _down(cluster: Cluster, server: str) -> bool:
    return cluster.servers().get(server, "").startswith("DOWN")


def _restarted(cluster: Cluster, name: str, before: int) -> bool:
    try:
        return cluster.pid(name) != before
    except (OSError, ValueError):
        return False
