"""Idle webchat connections: how much service memory each one holds (target: under 40 KB).

Opens `--connections` websockets, each with a session as the widget asks for one on load, holds them (answering
the server's pings) and reads the service workers' resident memory (/proc/PID/status, VmRSS) before and after:
the difference per connection is what a visitor who opened a page and went away costs.

- Embedded: one service worker on SQLite without an assistant (idle visitors never reach it):
  `.venv/bin/python bench/idle.py --connections 5000` (also `bench/load.py --idle 5000`).
- A deployment: `--target URL --pids 1234,1235` (its workers' pids; without them only the client side is told).
The file-descriptor limit is raised to the hard limit here; the service started here inherits it.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.wire import WireVisitor  # noqa: E402
from handoff.stack import raise_fd_limit  # noqa: E402
from tests.service.support.processes import free_port  # noqa: E402
from tests.service.support.stack import start_service  # noqa: E402

LIMITS = {"WEBCHAT_RATE_LIMIT_NEW_SESSIONS": "1000000", "WEBCHAT_RATE_LIMIT_ADDRESS_FACTOR": "1000"}


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


async def measure(base_url: str, pids: list[int], count: int, batch: int, hold: float, deflate: bool) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        # first-use allocations, not per connection
        warm = await open_many(http, base_url, min(50, count), batch, deflate)
        for visitor in warm:
            await visitor.close()
        gc.collect()
        before = await settle(pids, 10) if pids else 0
        started = time.perf_counter()
        visitors = await open_many(http, base_url, count, batch, deflate)
        opened = time.perf_counter() - started
        await asyncio.sleep(hold)
        after = await settle(pids, 15) if pids else 0
        alive = sum(1 for visitor in visitors if visitor.ws is not None and not visitor.ws.closed)
        print(f"idle webchat connections: {count} opened with sessions in {opened:.1f} s, {alive} still open "
              f"after {hold:g} s")
        if pids:
            per = (after - before) / count
            print(f"  service workers {pids}: RSS {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB after: "
                  f"{per:.1f} KiB per connection (target < 40 KB)")
        else:
            print("  service memory not measured: pass --pids of the workers")
        await asyncio.gather(*(visitor.close() for visitor in visitors), return_exceptions=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=200, help="connections opened at once")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds held before measuring")
    parser.add_argument("--target", help="a deployment's base URL (else one embedded service worker)")
    parser.add_argument("--pids", type=lambda s: [int(p) for p in s.split(",")], default=[])
    parser.add_argument("--no-deflate", action="store_true", help="do not offer permessage-deflate (browsers do)")
    parser.add_argument("--uvicorn", default="", help="extra uvicorn options for the embedded worker")
    args = parser.parse_args(argv)
    print(f"file-descriptor limit {raise_fd_limit()}")
    if args.target:
        asyncio.run(measure(args.target, args.pids, args.connections, args.batch, args.hold, not args.no_deflate))
        return
    workdir = Path(tempfile.mkdtemp(prefix="bench-idle-"))
    service = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "LOG_LEVEL": "WARNING", **LIMITS},
                            workdir, tuple(args.uvicorn.split()))
    try:
        asyncio.run(measure(service.base_url, [service.process.popen.pid], args.connections, args.batch, args.hold,
                            not args.no_deflate))
    finally:
        service.stop()


if __name__ == "__main__":
    main()
