"""One cluster (`python -m handoff cluster`) for every test marked `cluster`, with a Graph API stand-in of its own."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.support.cluster import Cluster, start_cluster
from tests.service.support.graph_api import GraphStandIn
from tests.service.support.servers import postgres_bin
from tests.service.support.stack import MODEL


@pytest.fixture(scope="session")
def cluster_graph() -> Iterator[GraphStandIn]:
    """Meta's Graph API on loopback for the whole session: the cluster's workers are told its address once."""
    standin = GraphStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def cluster(cluster_graph: GraphStandIn, workdir: Path) -> Iterator[Cluster]:
    missing = [package for package, found in (("postgresql", postgres_bin()), ("redis-server", shutil.which(
        "redis-server")), ("haproxy", shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists())) if not found]
    if missing:
        pytest.skip(f"Debian package(s) {', '.join(missing)} not installed")
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} is missing: run `make train` first")
    started = start_cluster(workdir, cluster_graph)
    yield started
    started.stop()
