"""PostgreSQL and Redis from Debian's binaries, started by the tests themselves."""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.service.support.processes import Process, free_port
from tests.service.support.stack import upgrade

SCHEMA_TEMPLATE = "frontdoor_schema"  # each server's database at the latest schema, copied by migrated_database
PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def postgres_bin() -> Path | None:
    """Debian installs PostgreSQL's server binaries outside PATH."""
    for directory in PG_BIN_DIRS:
        if (directory / "initdb").exists():
            return directory
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; CI runs as root, so drop to Debian's postgres user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclass
class Postgres:
    process: Process
    port: int
    socket_dir: str
    schema_migrated: bool = False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stops the server and removes its data directory (a test run must not fill the disk run after run)."""
        self.process.stop()
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    def create_database(self, name: str, template: str = "template1") -> str:
        subprocess.run(_as_postgres_user([str(postgres_bin() / "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                                          "-U", "postgres", "-c", f'CREATE DATABASE "{name}" TEMPLATE "{template}"']),
                       check=True, capture_output=True)
        return self.url(name)

    def migrated_database(self, name: str) -> str:
        """A new database at the latest schema: a copy of one migrated once per server (a migration run costs
        more than a second; PostgreSQL copies a template in milliseconds)."""
        if not self.schema_migrated:
            upgrade(self.create_database(SCHEMA_TEMPLATE))
            self.schema_migrated = True
        return self.create_database(name, template=SCHEMA_TEMPLATE)


def start_postgres() -> Postgres:
    """initdb into a temporary directory and start a private server on a free port."""
    bindir = postgres_bin()
    assert bindir is not None
    data = Path(tempfile.mkdtemp(prefix="frontdoor-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(data, owner.pw_uid, owner.pw_gid)
    subprocess.run(_as_postgres_user([str(bindir / "initdb"), "-D", str(data / "db"), "-U", "postgres",
                                      "--auth=trust", "-E", "UTF8"]), check=True, capture_output=True)
    port = free_port()
    process = Process("postgres", _as_postgres_user([
        str(bindir / "postgres"), "-D", str(data / "db"), "-p", str(port), "-k", str(data),
        "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"]))
    process.wait_until(
        lambda: subprocess.run([str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                               capture_output=True).returncode == 0,
        60, "accepting connections")
    return Postgres(process, port, str(data))


def start_redis() -> tuple[Process, str]:
    """A throwaway redis-server without persistence."""
    port = free_port()
    process = Process("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"])
    import redis

    process.wait_until(lambda: redis.Redis(port=port).ping(), 30, "answering PING")
    return process, f"redis://127.0.0.1:{port}/0"
