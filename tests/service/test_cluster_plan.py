"""`make cluster`'s plan: ports and counts from the environment, deploy/'s templates rendered (pure)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from handoff.cluster.plan import ClusterPlan, Paths, clashing_ports, render_endpoints, render_haproxy, worker_programs
from handoff.stack import SERVICE_WEBSOCKET_OPTIONS
from tests.service.support.processes import REPO


def test_counts_and_port_bases_come_from_the_environment() -> None:
    plan = ClusterPlan.from_env({"PORT": "9000", "CLUSTER_WORKERS": "3", "CLUSTER_RASA": "4",
                                 "CLUSTER_WORKER_PORT": "9101", "CLUSTER_RASA_PORT": "6101"})
    assert plan.worker_ports == [9101, 9102, 9103]
    assert plan.rasa_urls == [f"http://127.0.0.1:{port}" for port in (6101, 6102, 6103, 6104)]
    assert ClusterPlan.from_env({}) == ClusterPlan()  # PORT 8000, two workers, two replicas


@pytest.mark.parametrize(("name", "value"), [("CLUSTER_WORKERS", "0"), ("CLUSTER_RASA", "two"), ("PORT", "-1")])
def test_a_wrong_number_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        ClusterPlan.from_env({name: value})


def test_two_parts_on_one_port_are_found_before_anything_starts() -> None:
    assert clashing_ports(ClusterPlan()) == []
    assert clashing_ports(ClusterPlan(workers=3, worker_port=8101, stats_port=8103)) == [8103]


def test_the_balancer_checks_every_worker_on_readyz_and_keeps_polling_on_one() -> None:
    rendered = render_haproxy((REPO / "deploy" / "haproxy.cfg").read_text(), ClusterPlan(workers=3), Path("/run/x"))
    assert "bind 127.0.0.1:8000" in rendered and "option httpchk GET /readyz" in rendered
    assert "default-server inter 1s fall 2 rise 2" in rendered
    for name, port in (("w1", 8101), ("w2", 8102), ("w3", 8103)):
        assert f"server {name} 127.0.0.1:{port} check" in rendered
        assert f"server {name} 127.0.0.1:{port} track workers/{name}" in rendered
    assert "maxconn 8000" in rendered and "${" not in rendered.split("\n", 2)[2]  # every placeholder filled


def test_every_replica_shares_the_postgresql_tracker_store_and_the_redis_lock_store() -> None:
    plan = ClusterPlan(pg_port=6543, redis_port=6390, action_port=6055)
    endpoints = yaml.safe_load(render_endpoints((REPO / "deploy" / "endpoints.cluster.yml").read_text(), plan))
    assert endpoints["action_endpoint"] == {"url": "http://127.0.0.1:6055/webhook"}
    assert endpoints["tracker_store"] == {"type": "bot.runtime.cached_trackers.EventCachingSQLTrackerStore",
                                          "dialect": "postgresql", "url": "127.0.0.1", "port": 6543,
                                          "db": "rasa", "username": "postgres"}
    assert endpoints["lock_store"] == {"type": "bot.runtime.threaded_locks.ThreadedRedisLockStore",
                                       "url": "127.0.0.1", "port": 6390, "db": 1, "key_prefix": "frontdoor"}


def test_workers_share_the_database_redis_and_every_replica() -> None:
    plan = ClusterPlan(port=9000, pg_port=6543, redis_port=6390)
    paths = Paths(repo=REPO, venv=Path("/v"), bot_venv=Path("/b"), pg_bin=Path("/pg"), var=Path("/var/c"))
    first, second = worker_programs(plan, paths)
    assert first.env == second.env
    assert first.env["DATABASE_URL"] == "postgresql+asyncpg://postgres@127.0.0.1:6543/frontdoor"
    assert first.env["RASA_TRACKER_DB_URL"] == "postgresql+asyncpg://postgres@127.0.0.1:6543/rasa"
    assert first.env["REDIS_URL"] == "redis://127.0.0.1:6390/0"
    assert first.env["RASA_URLS"] == "http://127.0.0.1:5101,http://127.0.0.1:5102"
    assert first.env["PORT"] == "9000"  # the customers' address: the webchat's own origin is the balancer's
    assert (first.argv[-3:], second.argv[-3:]) == (("--port", "8101", "--no-access-log"),
                                                    ("--port", "8102", "--no-access-log"))
    assert first.argv[3:3 + len(SERVICE_WEBSOCKET_OPTIONS)] == SERVICE_WEBSOCKET_OPTIONS  # as make run's worker
