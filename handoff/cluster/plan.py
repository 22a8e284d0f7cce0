"""What `make cluster` runs, where, and with which configuration: pure, from the environment's values."""
from __future__ import annotations

import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template

from handoff.stack import ACTION_SERVER_ENV, BOT_ENV, SERVICE_WEBSOCKET_OPTIONS
from handoff.supervisor import Program

SERVICE_DB = "frontdoor"
TRACKER_DB = "rasa"
PG_USER = "postgres"
HOST = "127.0.0.1"


def _number(env: Mapping[str, str], name: str, default: int, low: int = 1) -> int:
    """An integer setting; a wrong one stops `make cluster` with its name rather than a traceback."""
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < low:
        raise ValueError(f"{name} must be at least {low}")
    return value


@dataclass(frozen=True)
class ClusterPlan:
    """Counts and ports: the balancer on PORT, the rest on loopback ports after their bases."""

    port: int = 8000
    workers: int = 2
    rasa_replicas: int = 2
    worker_port: int = 8101  # the first worker; the others follow
    rasa_port: int = 5101  # the first replica; the others follow
    action_port: int = 5055
    pg_port: int = 5433
    redis_port: int = 6380
    stats_port: int = 8404
    maxconn: int = 8000  # the balancer's connections at once: 5,000 idle webchats and room to spare

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ClusterPlan:
        """PORT, CLUSTER_WORKERS, CLUSTER_RASA and the CLUSTER_*_PORT bases (README: Production topology)."""
        return cls(port=_number(env, "PORT", 8000), workers=_number(env, "CLUSTER_WORKERS", 2),
                   rasa_replicas=_number(env, "CLUSTER_RASA", 2),
                   worker_port=_number(env, "CLUSTER_WORKER_PORT", 8101),
                   rasa_port=_number(env, "CLUSTER_RASA_PORT", 5101),
                   action_port=_number(env, "CLUSTER_ACTIONS_PORT", 5055),
                   pg_port=_number(env, "CLUSTER_PG_PORT", 5433), redis_port=_number(env, "CLUSTER_REDIS_PORT", 6380),
                   stats_port=_number(env, "CLUSTER_STATS_PORT", 8404),
                   maxconn=_number(env, "CLUSTER_MAXCONN", 8000, low=100))

    @property
    def worker_ports(self) -> list[int]:
        return [self.worker_port + index for index in range(self.workers)]

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://{HOST}:{self.rasa_port + index}" for index in range(self.rasa_replicas)]

    @property
    def action_url(self) -> str:
        return f"http://{HOST}:{self.action_port}"

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def redis_url(self) -> str:
        return f"redis://{HOST}:{self.redis_port}/0"

    def database_url(self, database: str = SERVICE_DB) -> str:
        """The service's async URL of a database on the cluster's PostgreSQL."""
        return f"postgresql+asyncpg://{PG_USER}@{HOST}:{self.pg_port}/{database}"

    def ports(self) -> list[int]:
        """Every port the cluster listens on: two parts on one port is a start-up error, not a crash loop."""
        return [self.port, self.stats_port, self.action_port, self.pg_port, self.redis_port,
                *self.worker_ports, *(self.rasa_port + index for index in range(self.rasa_replicas))]


def clashing_ports(plan: ClusterPlan) -> list[int]:
    """Ports given to two parts at once."""
    ports = plan.ports()
    return sorted({port for port in ports if ports.count(port) > 1})


def balancer_descriptors(plan: ClusterPlan) -> int:
    """HAProxy's open files at maxconn: a customer's socket and a worker's for each connection, and its own few."""
    return 2 * plan.maxconn + 100


def render_haproxy(template: str, plan: ClusterPlan, run_dir: Path) -> str:
    """deploy/haproxy.cfg with the ports and one server line per worker in each backend."""
    workers = [(f"w{index}", port) for index, port in enumerate(plan.worker_ports, start=1)]
    servers = [f"    server {name} {HOST}:{port} check" for name, port in workers]
    tracked = [f"    server {name} {HOST}:{port} track workers/{name}" for name, port in workers]
    return Template(template).substitute(
        MAXCONN=plan.maxconn, RUN_DIR=run_dir, BIND=HOST, PORT=plan.port, STATS_PORT=plan.stats_port,
        WORKER_SERVERS="\n".join(servers), WORKER_TRACKED="\n".join(tracked), WORKER_ALIVE="\n".join(servers))


def render_endpoints(template: str, plan: ClusterPlan) -> str:
    """deploy/endpoints.cluster.yml with the action server, PostgreSQL and Redis of this cluster."""
    return Template(template).substitute(
        ACTION_SERVER_URL=plan.action_url, PG_HOST=HOST, PG_PORT=plan.pg_port, TRACKER_DB=TRACKER_DB,
        PG_USER=PG_USER, REDIS_HOST=HOST, REDIS_PORT=plan.redis_port)


@dataclass(frozen=True)
class Paths:
    """Where the commands and the cluster's files are."""

    repo: Path
    venv: Path
    bot_venv: Path
    pg_bin: Path
    var: Path  # var/cluster

    @property
    def pg_data(self) -> Path:
        return self.var / "pg" / "data"

    @property
    def pg_socket_dir(self) -> Path:
        return self.var / "pg"


def as_postgres_user(argv: tuple[str, ...], root: bool) -> tuple[str, ...]:
    """PostgreSQL refuses to run as root: as root, Debian's postgres user runs it."""
    return ("runuser", "-u", PG_USER, "--", *argv) if root else argv


def store_programs(plan: ClusterPlan, paths: Paths, root: bool) -> list[Program]:
    """PostgreSQL and Redis: started first, the workers wait for the migrated database."""
    postgres = as_postgres_user((str(paths.pg_bin / "postgres"), "-D", str(paths.pg_data), "-p", str(plan.pg_port),
                                 "-k", str(paths.pg_socket_dir), "-c", f"listen_addresses={HOST}",
                                 "-c", "max_connections=300"), root)
    redis = ("redis-server", "--port", str(plan.redis_port), "--bind", HOST, "--save", "", "--appendonly", "no")
    return [Program("postgres", postgres, stop_signal=signal.SIGINT), Program("redis", redis)]


def worker_env(plan: ClusterPlan, paths: Paths) -> dict[str, str]:
    """What every service worker shares: the database, Redis, the replicas, the balancer's address."""
    return {
        "DATABASE_URL": plan.database_url(), "REDIS_URL": plan.redis_url, "RASA_URLS": ",".join(plan.rasa_urls),
        "ACTION_SERVER_URL": plan.action_url, "RASA_TRACKER_DB_URL": plan.database_url(TRACKER_DB),
        # PORT is the balancer's: the webchat's and inbox's own origins are the address customers use
        "PORT": str(plan.port), "PUBLIC_BASE_URL": plan.base_url,
        "PROMETHEUS_MULTIPROC_DIR": str(paths.var / "metrics"),
    }


def assistant_programs(plan: ClusterPlan, paths: Paths, endpoints: Path, rasa_token: str | None) -> list[Program]:
    """The action server and the Rasa replicas on the shared tracker and lock stores."""
    rasa = str(paths.bot_venv / "bin" / "rasa")
    token = ("--auth-token", rasa_token) if rasa_token else ()
    programs = [Program("actions", (rasa, "run", "actions", "--actions", "actions", "--port", str(plan.action_port)),
                        {**BOT_ENV, **ACTION_SERVER_ENV})]
    for index in range(plan.rasa_replicas):
        programs.append(Program(f"rasa{index + 1}", (
            rasa, "run", "--model", "models/current.tar.gz", "--enable-api", "--interface", HOST,
            "--port", str(plan.rasa_port + index), "--endpoints", str(endpoints),
            "--credentials", "credentials.yml", *token), BOT_ENV))
    return programs


def worker_programs(plan: ClusterPlan, paths: Paths) -> list[Program]:
    """One uvicorn per worker, each on its own port (the balancer checks each one)."""
    uvicorn = str(paths.venv / "bin" / "uvicorn")
    env = worker_env(plan, paths)
    # no access log: the balancer checks each worker every second; the service logs what matters itself
    return [Program(f"worker{index + 1}", (uvicorn, "handoff.app:app", "--factory", *SERVICE_WEBSOCKET_OPTIONS,
                                           "--host", HOST, "--port", str(port), "--no-access-log"), env)
            for index, port in enumerate(plan.worker_ports)]


def balancer_program(haproxy: Path, config: Path) -> Program:
    """HAProxy in the foreground (-db), its log on stdout; SIGUSR1 would drain, SIGTERM stops at once."""
    return Program("haproxy", (str(haproxy), "-db", "-f", str(config)))
