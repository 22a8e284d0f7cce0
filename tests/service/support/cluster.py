"""`python -m handoff cluster` started by the tests: private state, free ports, the Graph API stand-in for WhatsApp."""
from __future__ import annotations

import csv
import io
import os
import random
import shutil
import signal
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.processes import REPO, Process, _register, free_port
from tests.service.support.stack import VENV, always_open_operations
from tests.service.support.whatsapp_webhooks import APP_SECRET

SECRET_KEY = "cluster-tests-secret-key-0123456789abcdef"


def free_run(count: int) -> int:
    """The first of `count` consecutive ports nobody listens on (workers and replicas take base, base+1, …)."""
    for _ in range(200):
        base = random.randint(20000, 60000 - count)
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports")


@dataclass
class Cluster:
    process: Process
    directory: Path
    base_url: str
    stats_url: str
    env: dict[str, str]
    registered: set[int] = field(default_factory=set)

    @property
    def env_database_url(self) -> str:
        """The workers' database, on the cluster's PostgreSQL."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.env['CLUSTER_PG_PORT']}/frontdoor"

    @property
    def tracker_url(self) -> str:
        """The replicas' shared tracker store."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.env['CLUSTER_PG_PORT']}/rasa"

    def pid(self, name: str) -> int:
        """The running process of a part (`worker1`, `rasa2`, `redis`, `postgres`, …), from its pid file."""
        return int((self.directory / "pids" / f"{name}.pid").read_text())

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Signals a part's whole process group, as a crash would end it; returns the pid it had."""
        pid = self.pid(name)
        os.killpg(pid, sig)
        return pid

    def register_children(self) -> None:
        """Every part's group in the test registry: a killed test run's next start reaps them."""
        for pid_file in (self.directory / "pids").glob("*.pid"):
            try:
                pid = int(pid_file.read_text())
            except (OSError, ValueError):
                continue
            if pid not in self.registered:
                _register(pid)
                self.registered.add(pid)

    def servers(self) -> dict[str, str]:
        """The balancer's view of each worker in its main pool: UP, DOWN, …"""
        rows = csv.DictReader(io.StringIO(httpx.get(f"{self.stats_url}/;csv", timeout=5).text.lstrip("# ")))
        return {row["svname"]: row["status"] for row in rows if row["pxname"] == "workers"
                and row["svname"] not in ("FRONTEND", "BACKEND")}

    def log_tail(self, lines: int = 60) -> str:
        return self.process.log_tail(lines)

    def stop(self) -> None:
        """SIGTERM to the supervisor, which stops every part (15 s grace each) before it exits; its state goes."""
        self.process.stop(timeout=60)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_cluster(workdir: Path, graph: GraphStandIn, workers: int = 2, replicas: int = 2,
                  settings: dict[str, str] | None = None) -> Cluster:
    """Starts the cluster on free ports with its state in `workdir`; returns once /readyz answers 200 through the
    balancer and the balancer has every worker UP (PostgreSQL initialised and migrated, both replicas loading the
    trained model: minutes on a busy machine). `settings` override the environment below (bench/idle.py's limits)."""
    directory = Path(tempfile.mkdtemp(prefix="frontdoor-cluster-"))
    directory.chmod(0o755)  # as root, PostgreSQL runs as the postgres user, who must reach its data folder
    port, stats = free_port(), free_port()
    env = {
        "PORT": str(port), "CLUSTER_DIR": str(directory), "CLUSTER_WORKERS": str(workers),
        "CLUSTER_RASA": str(replicas), "CLUSTER_WORKER_PORT": str(free_run(workers)),
        "CLUSTER_RASA_PORT": str(free_run(replicas)), "CLUSTER_ACTIONS_PORT": str(free_port()),
        "CLUSTER_PG_PORT": str(free_port()), "CLUSTER_REDIS_PORT": str(free_port()),
        "CLUSTER_STATS_PORT": str(stats), "CLUSTER_MAXCONN": "2000",
        "SECRET_KEY": SECRET_KEY, "OPERATIONS_FILE": str(always_open_operations(workdir)), "LOG_LEVEL": "INFO",
        "WHATSAPP_APP_SECRET": APP_SECRET, "WHATSAPP_ACCESS_TOKEN": TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "WHATSAPP_API_BASE": graph.base_url,
        # every drill customer writes from 127.0.0.1: the per-address limits would count them as one
        "WEBCHAT_RATE_LIMIT_ADDRESS_FACTOR": "1000", "WEBCHAT_RATE_LIMIT_NEW_SESSIONS": "1000",
        # a shared test machine answers a turn in seconds under a burst: a slow answer is still an answer
        "BOT_TIMEOUT_SECONDS": "30",
        "PYTHONPATH": str(REPO),
        **(settings or {}),
    }
    process = Process("cluster", [str(VENV / "bin" / "python"), "-m", "handoff", "cluster"], env=env)
    base_url = f"http://127.0.0.1:{port}"
    cluster = Cluster(process, directory, base_url, f"http://127.0.0.1:{stats}", env)

    def ready() -> bool:  # every replica loaded: the drills kill one of them
        cluster.register_children()
        readiness = httpx.get(f"{base_url}/readyz", timeout=5)
        if readiness.status_code != 200:
            return False
        # one replica's check names its model; several say how many answer
        detail = readiness.json()["checks"]["rasa"]["detail"]
        every = replicas == 1 or detail.endswith(f"{replicas} of {replicas} replicas answer")
        return every and set(cluster.servers().values()) == {"UP"}

    try:
        process.wait_until(ready, 900, "ready through the balancer, every replica answering")
    except BaseException:
        cluster.stop()
        raise
    return cluster
