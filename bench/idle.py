"""Idle webchat connections: how much service memory each one holds (target: under 40 KB).

Opens `--connections` websockets, each with a session as the widget asks for one on load, holds them (answering
the server's pings) and reads the service workers' resident memory (/proc/PID/status, VmRSS) before and after:
the difference per connection is what a visitor who opened a page and went away costs.

- Embedded: one service worker on SQLite without an assistant (idle visitors never reach it):
  `.venv/bin/python bench/idle.py --connections 5000` (also `bench/load.py --idle 5000`).
- Through the balancer: `--cluster` starts `make cluster`'s topology on free ports (2 workers, `--replicas` Rasa
  replicas for their readiness, HAProxy) and reports the workers' memory summed, and HAProxy's apart;
  `--cluster-dir var/cluster` measures a running `make cluster` (its pids/ and haproxy.cfg; `--target` if PORT is
  not 8000).
- A deployment: `--target URL --pids 1234,1235` (its workers' pids; without them only the client side is told).
The file-descriptor limit is raised to the hard limit here; the service started here inherits it. One client
address reaches one balancer address through at most the kernel's ephemeral ports: checked before opening.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.process_cpu import cluster_pids  # noqa: E402
from bench.wire import WireVisitor  # noqa: E402
from handoff.stack import raise_fd_limit  # noqa: E402
from tests.service.support.cluster import start_cluster  # noqa: E402
from tests.service.support.graph_api import GraphStandIn  # noqa: E402
from tests.service.support.processes import free_port  # noqa: E402
from tests.service.support.stack import start_service  # noqa: E402

LIMITS = {"WEBCHAT_RATE_LIMIT_NEW_SESSIONS": "1000000", "WEBCHAT_RATE_LIMIT_ADDRESS_FACTOR": "1000"}
SPARE_FDS = 200  # the client's own files, its event loop, the HTTP pool


@dataclass(frozen=True)
class Target:
    """Where the sockets go and whose memory counts: the service workers, and a balancer in between."""

    base_url: str
    workers: list[int]
    balancer: int | None = None


def cluster_target(directory: Path, base_url: str) -> Target:
    """A running cluster's workers and HAProxy, from the pid files `make cluster` keeps (var/cluster/pids/)."""
    pids = cluster_pids(directory)
    workers = [pid for name, pid in pids.items() if name.startswith("worker")]
    if not workers:
        raise SystemExit(f"no worker pids in {directory / 'pids'}: is `make cluster` running (CLUSTER_DIR)?")
    return Target(base_url, workers, pids.get("haproxy"))


def balancer_maxconn(config: str) -> int | None:
    """The global `maxconn` of a rendered haproxy.cfg (its frontend connections at once)."""
    for line in config.splitlines():
        words = line.split()
        if words[:1] == ["maxconn"] and len(words) > 1 and words[1].isdigit():
            return int(words[1])
    return None


def client_shortfall(connections: int, fd_limit: int, ports: tuple[int, int], maxconn: int | None) -> str | None:
    """Why this client cannot hold `connections` sockets to one address, or None: each is a descriptor and one
    ephemeral port, and a balancer refuses past its maxconn."""
    if connections + SPARE_FDS > fd_limit:
        return f"{connections} connections need {connections + SPARE_FDS} descriptors, the limit is {fd_limit}: " \
               "raise the hard limit (ulimit -Hn, LimitNOFILE=)"
    if connections > ports[1] - ports[0] + 1:
        return f"{connections} connections from one address need as many ephemeral ports, " \
               f"net.ipv4.ip_local_port_range is {ports[0]}-{ports[1]}"
    if maxconn is not None and connections > maxconn:
        return f"the balancer's maxconn is {maxconn}, below {connections} (CLUSTER_MAXCONN)"
    return None


def ephemeral_ports() -> tuple[int, int]:
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return int(low), int(high)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LookupError(f"no VmRSS for {pid}")


def workers_rss(pids: list[int]) -> int:
    return sum(rss_kib(pid) for pid in pids)


async def open_many(http: aiohttp.ClientSession, base_url: str, count: int, batch: int,
                    deflate: bool) -> list[WireVisitor]:
    """Connections in batches (a balancer's and the kernel's accept queues are finite)."""
    visitors: list[WireVisitor] = []
    for start in range(0, count, batch):
        group = [WireVisitor(http, base_url, deflate=deflate) for _ in range(min(batch, count - start))]
        results = await asyncio.gather(*(visitor.connect() for visitor in group), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise RuntimeError(f"{len(failed)} of {len(group)} connections failed, first: {failed[0]!r}")
        visitors += group
    return visitors


async def settle(pids: list[int], seconds: float) -> int:
    """The workers' RSS once it stops moving (allocators return pages late), at most `seconds`."""
    last, deadline = workers_rss(pids), time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(1)
        now = workers_rss(pids)
        if abs(now - last) < 64:
            return now
        last = now
    return last


def report(label: str, pids: list[int], before: dict[int, int], after: dict[int, int], count: int) -> str:
    """Resident memory before and after, summed over `pids`, and its growth per connection."""
    total_before, total_after = sum(before.values()), sum(after.values())
    each = ", ".join(f"{pid}: +{(after[pid] - before[pid]) / 1024:.1f}" for pid in pids)
    return (f"  {label} {pids}: RSS {total_before / 1024:.1f} MiB before, {total_after / 1024:.1f} MiB after "
            f"({each} MiB): {(total_after - total_before) / count:.1f} KiB per connection")


def rss_each(pids: list[int]) -> dict[int, int]:
    return {pid: rss_kib(pid) for pid in pids}


async def measure(target: Target, count: int, batch: int, hold: float, deflate: bool) -> None:
    base_url, pids = target.base_url, target.workers
    balancer = [target.balancer] if target.balancer else []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        # first-use allocations, not per connection
        warm = await open_many(http, base_url, min(50, count), batch, deflate)
        for visitor in warm:
            await visitor.close()
        gc.collect()
        if pids:
            await settle(pids, 10)
        before, balancer_before = rss_each(pids), rss_each(balancer)
        started = time.perf_counter()
        visitors = await open_many(http, base_url, count, batch, deflate)
        opened = time.perf_counter() - started
        await asyncio.sleep(hold)
        if pids:
            await settle(pids, 15)
        after, balancer_after = rss_each(pids), rss_each(balancer)
        alive = sum(1 for visitor in visitors if visitor.ws is not None and not visitor.ws.closed)
        print(f"idle webchat connections: {count} opened with sessions in {opened:.1f} s, {alive} still open "
              f"after {hold:g} s")
        if pids:
            print(report("service workers", pids, before, after, count) + " (target < 40 KB)")
            if balancer:
                print(report("balancer (HAProxy)", balancer, balancer_before, balancer_after, count))
        else:
            print("  service memory not measured: pass --pids of the workers")
        await asyncio.gather(*(visitor.close() for visitor in visitors), return_exceptions=True)


def run_embedded(args: argparse.Namespace) -> None:
    """One service worker on SQLite, no assistant (idle visitors never reach it)."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-idle-"))
    service = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "LOG_LEVEL": "WARNING", **LIMITS},
                            workdir, tuple(args.uvicorn.split()))
    try:
        asyncio.run(measure(Target(service.base_url, [service.process.popen.pid]), args.connections, args.batch,
                            args.hold, not args.no_deflate))
    finally:
        service.stop()


def run_cluster(args: argparse.Namespace) -> None:
    """`make cluster`'s topology on free ports, its balancer's maxconn above the connections (minutes to start)."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-idle-cluster-"))
    graph = GraphStandIn().start()  # the cluster's workers are told a Graph API address; idle visitors never use it
    settings = {**LIMITS, "LOG_LEVEL": "WARNING", "CLUSTER_MAXCONN": str(max(8000, args.connections + 1000))}
    print(f"starting the cluster: {args.workers} workers, {args.replicas} Rasa replica(s), HAProxy")
    cluster = start_cluster(workdir, graph, workers=args.workers, replicas=args.replicas, settings=settings)
    try:
        target = cluster_target(cluster.directory, cluster.base_url)
        asyncio.run(measure(target, args.connections, args.batch, args.hold, not args.no_deflate))
    finally:
        cluster.stop()
        graph.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=200, help="connections opened at once")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds held before measuring")
    parser.add_argument("--target", help="a deployment's base URL (else one embedded service worker)")
    parser.add_argument("--pids", type=lambda s: [int(p) for p in s.split(",")], default=[])
    parser.add_argument("--cluster", action="store_true", help="start make cluster's topology and go through it")
    parser.add_argument("--workers", type=int, default=2, help="--cluster: service workers")
    parser.add_argument("--replicas", type=int, default=1, help="--cluster: Rasa replicas (~1 GB each)")
    parser.add_argument("--cluster-dir", type=Path, help="a running make cluster's CLUSTER_DIR (var/cluster)")
    parser.add_argument("--no-deflate", action="store_true", help="do not offer permessage-deflate (browsers do)")
    parser.add_argument("--uvicorn", default="", help="extra uvicorn options for the embedded worker")
    args = parser.parse_args(argv)
    limit = raise_fd_limit()
    print(f"file-descriptor limit {limit}")
    config = args.cluster_dir / "haproxy.cfg" if args.cluster_dir else None
    maxconn = balancer_maxconn(config.read_text()) if config is not None and config.exists() else None
    if shortfall := client_shortfall(args.connections, limit, ephemeral_ports(), maxconn):
        raise SystemExit(f"bench/idle.py: {shortfall}")
    if args.cluster:
        run_cluster(args)
    elif args.cluster_dir:
        target = cluster_target(args.cluster_dir, args.target or f"http://127.0.0.1:{os.environ.get('PORT', 8000)}")
        asyncio.run(measure(target, args.connections, args.batch, args.hold, not args.no_deflate))
    elif args.target:
        asyncio.run(measure(Target(args.target, args.pids), args.connections, args.batch, args.hold,
                            not args.no_deflate))
    else:
        run_embedded(args)


if __name__ == "__main__":
    main()
