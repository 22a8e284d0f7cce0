"""Customers under load: webchat over websockets and signed WhatsApp webhooks, against Rasa alone at the same load.

For each level (10, 100, 500 customers by default) every customer writes, waits for the answer, then reads for a
few seconds (`--interval`, jittered) before writing again, for `--duration` seconds; then the same number of
customers send the same messages straight to Rasa's REST webhook (the same Rasa and tracker store, the service's
metadata keys) for as long. Customer-visible latency: webchat,
from sending to the assistant's typing-off after its answer; WhatsApp, from Meta's webhook POST to the answer's
first message at the Graph API (a stand-in here). Prints p50/p95/p99, turns per second, and the ratios to Rasa.

- Embedded stack (default): the trained model and the action server, one service worker (SQLite), the Graph API
  stand-in in this process: `.venv/bin/python bench/load.py [--customers 10,100,500] [--duration 20]`.
- Any deployment: `--target URL` (webchat only; `--rasa-url` for the direct baseline; WhatsApp with
  `--app-secret` and `--graph-port`, where the deployment's WHATSAPP_API_BASE points). Its webchat rate limits
  must allow this many sessions from one address (WEBCHAT_RATE_LIMIT_NEW_SESSIONS, _MESSAGES, _ADDRESS_FACTOR).
- Idle connections: `--idle 5000` (bench/idle.py) opens that many webchat sessions and prints the service
  workers' memory per connection.
- `--cluster-dir var/cluster` with `--target` (a `make cluster` on this machine): each of its processes' CPU a turn
  on both paths (workers, Rasa replicas with the action server, PostgreSQL with its backends, Redis, HAProxy) and
  how many cores were busy: on a machine the cluster shares with the bench, where the service path's CPU goes.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.process_cpu import MACHINE, CpuMeter, cluster_pids  # noqa: E402
from bench.wire import WireVisitor  # noqa: E402
from handoff.channels.whatsapp.signature import sign  # noqa: E402
from handoff.core.rasa_replicas import replica_order, replica_urls  # noqa: E402
from handoff.stack import raise_fd_limit  # noqa: E402
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn, fixture  # noqa: E402
from tests.service.support.stack import RasaStack, Service, start_service  # noqa: E402
from tests.service.support.whatsapp_webhooks import text_webhook  # noqa: E402

MESSAGES = {"es": ["hola", "a que hora abren?", "donde esta mi pedido 100002", "gracias"],
            "en": ["hi", "what time do you open?", "where is my order 100003", "thanks"]}
SECRET = "bench-load-app-secret"
# One address writes for every customer here: the limits are the deployment's to raise, not the bench's to dodge.
OPEN_LIMITS = {"WEBCHAT_RATE_LIMIT_MESSAGES": "1000000", "WEBCHAT_RATE_LIMIT_NEW_SESSIONS": "1000000",
               "WEBCHAT_RATE_LIMIT_ADDRESS_FACTOR": "1000"}


@dataclass
class Tally:
    """One path's turns at one level."""

    latencies: list[float] = field(default_factory=list)
    channels: dict[str, list[float]] = field(default_factory=dict)  # the same latencies, by the customer's door
    failed: int = 0
    started: float = 0.0
    ended: float = 0.0
    meter: CpuMeter | None = None
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process while this path ran

    def rate(self) -> float:
        return len(self.latencies) / max(self.ended - self.started, 1e-9)

    def answered(self, channel: str, seconds: float) -> None:
        self.latencies.append(seconds)
        self.channels.setdefault(channel, []).append(seconds)


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (nearest rank): what the slowest 1 in 100 customers waited at p99."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


class TimedGraph(GraphStandIn):
    """The Graph API stand-in, telling the bench when a customer's answer arrives."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.waiting: dict[str, asyncio.Future[float]] = {}

    async def messages(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        body = await request.json()
        if body.get("status") != "read" and body.get("to"):
            self.loop.call_soon_threadsafe(self._arrived, str(body["to"]), arrived)
        answer = fixture("send_response.json")
        answer["contacts"] = [{"input": body.get("to"), "wa_id": str(body.get("to", "")).lstrip("+")}]
        answer["messages"] = [{"id": f"wamid.load{next(self._ids):08d}"}]
        return web.json_response(fixture("mark_as_read_response.json") if body.get("status") == "read" else answer)

    def _arrived(self, wa_id: str, at: float) -> None:
        future = self.waiting.get(wa_id)
        if future is not None and not future.done():
            future.set_result(at)


@dataclass
class Load:
    """What every customer of a run shares."""

    http: aiohttp.ClientSession
    base_url: str
    interval: float
    stop_at: float
    timeout: float
    rng: random.Random

    def think(self) -> float:
        return self.interval * self.rng.uniform(0.5, 1.5)


async def webchat_customer(load: Load, tally: Tally, language: str) -> None:
    visitor = WireVisitor(load.http, load.base_url)
    try:
        await asyncio.sleep(load.rng.uniform(0, load.interval))  # arrivals spread over one interval
        await visitor.connect()
        for turn in range(1 << 30):
            if time.perf_counter() >= load.stop_at:
                break
            seconds = await visitor.say(MESSAGES[language][turn % 4], timeout=load.timeout)
            if seconds is None:
                tally.failed += 1
            else:
                tally.answered("webchat", seconds)
            await asyncio.sleep(load.think())
    except (OSError, ConnectionError, asyncio.TimeoutError, aiohttp.ClientError):
        tally.failed += 1
    finally:
        await visitor.close()


async def whatsapp_customer(load: Load, tally: Tally, graph: TimedGraph, wa_id: str, secret: str) -> None:
    await asyncio.sleep(load.rng.uniform(0, load.interval))
    for turn in range(1 << 30):
        if time.perf_counter() >= load.stop_at:
            break
        body = text_webhook(MESSAGES["es"][turn % 4], f"wamid.in.{wa_id}.{turn}", sender=wa_id)
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        graph.waiting[wa_id] = future
        started = time.perf_counter()
        try:
            async with load.http.post(f"{load.base_url}/webhooks/whatsapp", data=body, headers={
                    "Content-Type": "application/json", "X-Hub-Signature-256": sign(secret, body)}) as response:
                if response.status != 200:
                    raise ConnectionError(response.status)
            tally.answered("whatsapp", await asyncio.wait_for(future, load.timeout) - started)
        except (OSError, ConnectionError, asyncio.TimeoutError, aiohttp.ClientError):
            tally.failed += 1
        await asyncio.sleep(load.think())


async def rasa_customer(load: Load, tally: Tally, language: str, channel: str) -> None:
    """The same turns posted straight to Rasa's REST webhook: the floor the service is compared with."""
    sender = f"load-{channel}-{random.getrandbits(64):016x}"
    # The service's metadata, key for key (handoff.core.conversation.turn_metadata): Rasa keeps it on every
    # user event of the tracker, which its in-memory store re-serialises on every save.
    metadata = {"channel": channel, "language": language,
                "customer": {"id": sender, "name": None, "language": language, "identities": []},
                "case": {"id": sender, "status": "bot"}, "known": {}, "commitments": [], "notification": None}
    # Several replicas (--rasa-url a,b): each conversation on the one the service's client would pick first.
    rasa_url = replica_order(sender, replica_urls(load.base_url.split(",")))[0]
    await asyncio.sleep(load.rng.uniform(0, load.interval))
    for turn in range(1 << 30):
        if time.perf_counter() >= load.stop_at:
            break
        started = time.perf_counter()
        try:
            async with load.http.post(f"{rasa_url}/webhooks/rest/webhook", json={
                    "sender": sender, "message": MESSAGES[language][turn % 4], "metadata": metadata},
                    timeout=aiohttp.ClientTimeout(total=load.timeout)) as response:
                answers = await response.json()
                if response.status != 200 or not answers:
                    raise ConnectionError(response.status)
            tally.answered(channel, time.perf_counter() - started)
        except (OSError, ConnectionError, asyncio.TimeoutError, aiohttp.ClientError):
            tally.failed += 1
        await asyncio.sleep(load.think())


async def run(customers: list[Any], load: Load, tally: Tally) -> Tally:
    tally.started = time.perf_counter()
    if tally.meter is not None:
        tally.meter.start()
    await asyncio.gather(*customers)
    tally.ended = min(time.perf_counter(), load.stop_at + load.timeout)
    if tally.meter is not None:
        tally.cpu = tally.meter.stop()
    return tally


@dataclass
class Target:
    """Where the turns go: the service (and its WhatsApp side, if any) and Rasa for the baseline."""

    base_url: str
    rasa_url: str | None
    graph: TimedGraph | None
    secret: str
    meter: CpuMeter | None = None  # the deployment's processes, when this machine runs them (--cluster-dir)


async def level(target: Target, count: int, args: argparse.Namespace, seed: int) -> tuple[Tally, Tally | None]:
    whatsapp = round(count * args.whatsapp_share) if target.graph is not None else 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as http:
        load = Load(http, target.base_url, args.interval, time.perf_counter() + args.duration, args.timeout,
                    random.Random(seed))
        through = Tally(meter=target.meter)
        customers: list[Any] = [webchat_customer(load, through, "es" if n % 2 else "en")
                                for n in range(count - whatsapp)]
        if target.graph is not None:
            customers += [whatsapp_customer(load, through, target.graph, f"521{args.run:03d}{seed % 10}{n:06d}",
                                            target.secret) for n in range(whatsapp)]
        await run(customers, load, through)
        if target.rasa_url is None:
            return through, None
        direct_load = Load(http, target.rasa_url, args.interval, time.perf_counter() + args.duration, args.timeout,
                           random.Random(seed))
        direct = Tally(meter=target.meter)
        await run([rasa_customer(direct_load, direct, "es" if n % 2 else "en",
                                 "whatsapp" if n >= count - whatsapp else "webchat") for n in range(count)],
                  direct_load, direct)
        return through, direct


def row(name: str, tally: Tally) -> str:
    ms = [percentile(tally.latencies, q) * 1000 for q in (50, 95, 99)]
    line = (f"  {name:<12} turns {len(tally.latencies):6d}  {tally.rate():6.2f}/s  p50 {ms[0]:7.0f} ms  "
            f"p95 {ms[1]:7.0f} ms  p99 {ms[2]:7.0f} ms  failed {tally.failed}")
    if len(tally.channels) > 1:
        line += "\n    by door: " + "; ".join(
            f"{door} {len(seconds)} turns, p50 {percentile(seconds, 50) * 1000:.0f} ms, "
            f"p95 {percentile(seconds, 95) * 1000:.0f} ms" for door, seconds in sorted(tally.channels.items()))
    if tally.cpu:  # a failed turn was worked on too
        turns = max(1, len(tally.latencies) + tally.failed)
        elapsed = max(tally.ended - tally.started, 1e-9)
        processes = {name: seconds for name, seconds in tally.cpu.items() if name != MACHINE}
        line += ("\n    CPU a turn: " + ", ".join(f"{name} {seconds / turns * 1000:.1f} ms"
                                                  for name, seconds in processes.items() if seconds > 0)
                 + f"; cores busy {sum(processes.values()) / elapsed:.2f} (these processes), "
                 + f"{tally.cpu.get(MACHINE, 0.0) / elapsed:.2f} (the machine: with this bench)")
    return line


async def sweep(target: Target, args: argparse.Namespace) -> None:
    print(f"load: closed loop, each customer writes, waits for the answer, reads {args.interval:g} s "
          f"(x0.5-1.5); {args.duration:g} s per level and path; {args.whatsapp_share:.0%} on WhatsApp"
          f"{'' if target.graph else ' (none: no Graph API stand-in)'}; target {target.base_url}")
    for index, count in enumerate(args.customers):
        through, direct = await level(target, count, args, index)
        print(f"{count} customers")
        print(row("service", through))
        if direct is not None:
            print(row("rasa direct", direct))
            p95 = percentile(through.latencies, 95) / percentile(direct.latencies, 95)
            print(f"  ratio service/direct: p95 {p95:.2f}  turns/s {through.rate() / max(direct.rate(), 1e-9):.2f}")
        sys.stdout.flush()


def embedded(args: argparse.Namespace) -> None:
    """The trained assistant, one service worker and the Graph API stand-in, all on loopback."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    stack = RasaStack.start()
    loop = asyncio.new_event_loop()
    graph = TimedGraph(loop).start()
    service: Service | None = None
    try:
        service = start_service({"RASA_URL": stack.rasa_url, "ACTION_SERVER_URL": stack.action_url,
                                 "LOG_LEVEL": "WARNING", "WHATSAPP_APP_SECRET": SECRET,
                                 "WHATSAPP_ACCESS_TOKEN": TOKEN, "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
                                 "WHATSAPP_API_BASE": graph.base_url, "MEDIA_DIR": str(workdir / "media"),
                                 **OPEN_LIMITS}, workdir)
        loop.run_until_complete(sweep(Target(service.base_url, stack.rasa_url, graph, SECRET), args))
    finally:
        if service is not None:
            service.stop()
        graph.stop()
        stack.stop()
        loop.close()


def remote(args: argparse.Namespace) -> None:
    loop = asyncio.new_event_loop()
    graph = None
    if args.graph_port and args.app_secret:
        graph = TimedGraph(loop)
        graph.port = args.graph_port
        graph.start()
    try:
        meter = CpuMeter(cluster_pids(args.cluster_dir)) if args.cluster_dir else None
        target = Target(args.target, args.rasa_url, graph, args.app_secret or "", meter)
        loop.run_until_complete(sweep(target, args))
    finally:
        if graph is not None:
            graph.stop()
        loop.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=lambda s: [int(n) for n in s.split(",")], default=[10, 100, 500])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of writing per level and path")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds a customer reads between turns")
    parser.add_argument("--timeout", type=float, default=60.0, help="a turn unanswered after this has failed")
    parser.add_argument("--whatsapp-share", type=float, default=0.2)
    # Numbers never used by an earlier run against the same deployment (whose cases may be with people by now).
    parser.add_argument("--run", type=int, default=random.randrange(1000), help=argparse.SUPPRESS)
    parser.add_argument("--target", help="a deployment's base URL (else the embedded stack)")
    parser.add_argument("--rasa-url", help="with --target: Rasa's URL for the direct baseline (several: "
                        "comma-separated, each conversation on the replica the service would pick)")
    parser.add_argument("--app-secret", help="with --target: the deployment's WHATSAPP_APP_SECRET")
    parser.add_argument("--graph-port", type=int, help="with --target: serve the Graph API stand-in here")
    parser.add_argument("--cluster-dir", type=Path, help="with --target: a `make cluster` on this machine "
                        "(its CLUSTER_DIR): print each of its processes' CPU a turn on both paths")
    parser.add_argument("--idle", type=int, help="hold this many idle webchat connections instead (bench/idle.py)")
    args = parser.parse_args()
    raise_fd_limit()
    if args.idle:
        from bench.idle import main as idle_main  # noqa: PLC0415 - only this mode needs it
        idle_main(["--connections", str(args.idle), *(["--target", args.target] if args.target else [])])
    elif args.target:
        remote(args)
    else:
        embedded(args)


if __name__ == "__main__":
    main()
