"""`make cluster` (python -m handoff cluster): PostgreSQL, Redis, two workers and two Rasa replicas behind HAProxy."""
from __future__ import annotations

import httpx

from tests.service.support.cluster import Cluster
from tests.service.support.webchat_client import Visitor


async def test_the_balancer_is_ready_and_a_webchat_turn_is_answered_by_the_assistant(cluster: Cluster) -> None:
    readiness = httpx.get(f"{cluster.base_url}/readyz", timeout=10)
    assert readiness.status_code == 200
    assert readiness.json()["checks"]["rasa"]["detail"].endswith("2 of 2 replicas answer")
    assert cluster.servers() == {"w1": "UP", "w2": "UP"}  # both workers pass /readyz at the balancer

    visitor = Visitor(cluster.base_url)  # the WebSocket goes through HAProxy's upgrade
    session_id = await visitor.connect()
    replies = await visitor.say("hola")
    await visitor.close()
    assert replies and all("actor" not in reply for reply in replies)  # the assistant's words, not a holding text
    assert any(reply.get("text") for reply in replies)

    again = Visitor(cluster.base_url)  # another connection, maybe another worker: the same conversation
    assert await again.connect(session_id) == session_id
    assert [item["direction"] for item in again.history or []][:2] == ["in", "out"]
    await again.close()


def test_its_parts_run_under_var_cluster_with_pid_files_and_logs(cluster: Cluster) -> None:
    names = {path.stem for path in (cluster.directory / "pids").glob("*.pid")}
    assert names == {"postgres", "redis", "actions", "rasa1", "rasa2", "worker1", "worker2", "haproxy"}
    assert (cluster.directory / "logs" / "worker1.log").stat().st_size > 0
    rendered = (cluster.directory / "haproxy.cfg").read_text()
    assert f"bind 127.0.0.1:{cluster.env['PORT']}" in rendered and "option httpchk GET /readyz" in rendered
    assert "ThreadedRedisLockStore" in (cluster.directory / "endpoints.yml").read_text()  # Rasa's, off the loop
