"""`python -m handoff cluster`: prepares PostgreSQL (initdb, databases, migrations), then supervises every part."""
from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from handoff.cluster.plan import (
    PG_USER,
    SERVICE_DB,
    TRACKER_DB,
    ClusterPlan,
    Paths,
    as_postgres_user,
    assistant_programs,
    balancer_descriptors,
    balancer_program,
    clashing_ports,
    render_endpoints,
    render_haproxy,
    store_programs,
    worker_programs,
)
from handoff.settings import REPO_ROOT
from handoff.stack import BOT_ENV, announce_readiness, raise_fd_limit
from handoff.store.db import database_away
from handoff.supervisor import Supervisor

# Set for the workers by the cluster itself; one inherited from the shell would contradict it (RASA_URL and
# RASA_URLS together stop the service).
OWN_SETTINGS = ("RASA_URL", "RASA_URLS", "DATABASE_URL", "REDIS_URL", "ACTION_SERVER_URL", "RASA_TRACKER_DB",
                "RASA_TRACKER_DB_URL", "PUBLIC_BASE_URL", "PROMETHEUS_MULTIPROC_DIR")


def postgres_bin() -> Path | None:
    """Debian installs PostgreSQL's server binaries outside PATH, one folder per major version: the newest."""
    for directory in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (directory / "initdb").exists():
            return directory
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def haproxy_bin() -> Path | None:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    return Path(found) if found else None


def initdb(paths: Paths, root: bool) -> bool:
    """A new PostgreSQL data directory on first start (trust on loopback only); False when it existed."""
    if (paths.pg_data / "PG_VERSION").exists():
        return False
    paths.pg_socket_dir.mkdir(parents=True, exist_ok=True)
    if root:
        owner = pwd.getpwnam(PG_USER)
        os.chown(paths.pg_socket_dir, owner.pw_uid, owner.pw_gid)
    done = subprocess.run(as_postgres_user((str(paths.pg_bin / "initdb"), "-D", str(paths.pg_data), "-U", PG_USER,
                                            "--auth=trust", "-E", "UTF8"), root), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed (the {PG_USER} user must reach {paths.pg_socket_dir}):\n"
                           f"{done.stdout}{done.stderr}")
    return True


async def wait_for_postgres(plan: ClusterPlan, timeout: float = 60.0) -> None:
    """Until the new or restarted server accepts connections (it replays its log first)."""
    engine = create_async_engine(plan.database_url("postgres"))
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
                return
            except Exception as exc:  # refused, or asyncpg's own "the database system is starting up"
                if not database_away(exc) or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.3)
    finally:
        await engine.dispose()


async def create_databases(plan: ClusterPlan) -> list[str]:
    """The service's database and Rasa's tracker database, when missing; which were created."""
    engine = create_async_engine(plan.database_url("postgres"), isolation_level="AUTOCOMMIT")
    created = []
    try:
        async with engine.connect() as connection:
            for name in (SERVICE_DB, TRACKER_DB):
                exists = await connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                                 {"name": name})
                if not exists:
                    await connection.execute(text(f'CREATE DATABASE "{name}"'))
                    created.append(name)
    finally:
        await engine.dispose()
    return created


async def migrate(plan: ClusterPlan, paths: Paths, env: dict[str, str]) -> None:
    """`python -m handoff db upgrade` on the cluster's database (as `make migrate`)."""
    process = await asyncio.create_subprocess_exec(
        str(paths.venv / "bin" / "python"), "-m", "handoff", "db", "upgrade", cwd=paths.repo,
        env={**env, "DATABASE_URL": plan.database_url()}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"migrations failed:\n{output.decode(errors='replace')}")


def write_configs(plan: ClusterPlan, paths: Paths) -> tuple[Path, Path]:
    """deploy/'s templates rendered into var/cluster/ with this cluster's ports."""
    haproxy = paths.var / "haproxy.cfg"
    haproxy.write_text(render_haproxy((paths.repo / "deploy" / "haproxy.cfg").read_text(), plan, paths.var))
    endpoints = paths.var / "endpoints.yml"
    endpoints.write_text(render_endpoints((paths.repo / "deploy" / "endpoints.cluster.yml").read_text(), plan))
    return haproxy, endpoints


async def supervise(plan: ClusterPlan, paths: Paths, haproxy: Path, env: dict[str, str], root: bool) -> int:
    """PostgreSQL and Redis first; once the database is migrated, Rasa, the workers and the balancer."""
    config, endpoints = write_configs(plan, paths)
    supervisor = Supervisor(store_programs(plan, paths, root), cwd=paths.repo, env=env,
                            pid_dir=paths.var / "pids", log_dir=paths.var / "logs")
    running = asyncio.create_task(supervisor.run())
    await asyncio.sleep(0)  # run() installs the stop signals and starts the stores

    async def prepare() -> None:
        await wait_for_postgres(plan)
        created = await create_databases(plan)
        await migrate(plan, paths, env)
        supervisor.log("cluster", f"PostgreSQL on port {plan.pg_port} ready, migrated"
                                  + (f" (created {', '.join(created)})" if created else ""))
        for program in [*assistant_programs(plan, paths, endpoints, env.get("RASA_TOKEN")),
                        *worker_programs(plan, paths), balancer_program(haproxy, config)]:
            supervisor.add(program)
        supervisor.log("cluster", f"balancer on {plan.base_url}, its page on http://127.0.0.1:{plan.stats_port}/; "
                                  f"{plan.workers} workers, {plan.rasa_replicas} Rasa replicas")

    preparing = asyncio.create_task(prepare())
    await asyncio.wait({preparing, running}, return_when=asyncio.FIRST_COMPLETED)
    if not preparing.done():  # stopped while the database was being prepared
        preparing.cancel()
        return await running
    if (failure := preparing.exception()) is not None:
        supervisor.log("cluster", f"could not prepare the database: {failure!r}")
        supervisor.stop()
        await running
        return 1
    async with httpx.AsyncClient(timeout=5.0) as client:
        watcher = asyncio.create_task(announce_readiness(supervisor, client, plan.base_url))
        try:
            return await running
        finally:
            watcher.cancel()


def run_cluster() -> int:
    """`python -m handoff cluster`: returns once Ctrl-C (or SIGTERM) has stopped every process."""
    try:
        plan = ClusterPlan.from_env(os.environ)
    except ValueError as exc:
        print(f"make cluster: {exc}", file=sys.stderr)
        return 2
    if clashing := clashing_ports(plan):
        print(f"make cluster: two parts on port(s) {', '.join(map(str, clashing))}: set the CLUSTER_*_PORT bases "
              "apart", file=sys.stderr)
        return 2
    pg_bin, haproxy = postgres_bin(), haproxy_bin()
    missing = [package for package, found in (("postgresql", pg_bin), ("haproxy", haproxy),
                                              ("redis-server", shutil.which("redis-server"))) if not found]
    if missing or pg_bin is None or haproxy is None:
        print(f"make cluster needs the Debian packages: {' '.join(missing)}", file=sys.stderr)
        return 2
    paths = Paths(repo=REPO_ROOT, venv=Path(os.environ.get("VENV", REPO_ROOT / ".venv")).resolve(),
                  bot_venv=Path(os.environ.get("BOT_VENV", REPO_ROOT / ".venv-bot")).resolve(), pg_bin=pg_bin,
                  var=Path(os.environ.get("CLUSTER_DIR") or REPO_ROOT / "var" / "cluster").resolve())
    for folder in ("pids", "logs"):
        (paths.var / folder).mkdir(parents=True, exist_ok=True)
    shutil.rmtree(paths.var / "metrics", ignore_errors=True)  # prometheus-client: emptied before the workers start
    (paths.var / "metrics").mkdir()
    root = os.geteuid() == 0
    try:
        if initdb(paths, root):
            print(f"make cluster: new PostgreSQL data directory {paths.pg_data}")
    except RuntimeError as exc:
        print(f"make cluster: {exc}", file=sys.stderr)
        return 1
    limit = raise_fd_limit()  # inherited by every part: each idle webchat is a descriptor at a worker, two at HAProxy
    env = {key: value for key, value in os.environ.items() if key.upper() not in OWN_SETTINGS}
    print(f"make cluster: open files limit {limit}")
    if limit < (needed := balancer_descriptors(plan)) and not root:  # as root HAProxy raises its own limit
        print(f"make cluster: HAProxy needs {needed} open files for CLUSTER_MAXCONN={plan.maxconn}, the hard limit "
              f"is {limit}: raise it (ulimit -Hn, LimitNOFILE=) or lower CLUSTER_MAXCONN", file=sys.stderr)
    return asyncio.run(supervise(plan, paths, haproxy, {**env, **BOT_ENV}, root))
