"""Signed WhatsApp webhook ingest (verified, persisted, acknowledged) against a bare FastAPI endpoint.

Both servers run as one uvicorn worker each, side by side in one run, hit by the same client with the
same signed bodies in alternating rounds, so machine noise hits both alike. The service really stores
each body before its 200 and processes it afterwards (assistant down here, so each message is queued
for people and a holding message goes to a Graph API stand-in). Prints both rates and their ratio
(target >= 0.5). Run with the service environment: `.venv/bin/python bench/whatsapp_ingest.py`.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handoff.channels.whatsapp.signature import sign  # noqa: E402
from handoff.store.db import create_engine, session_factory  # noqa: E402
from handoff.store.models import InboundWebhook, Outbox, PendingTurn  # noqa: E402
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn, fixture  # noqa: E402
from tests.service.support.processes import Process, free_port, http_ok  # noqa: E402
from tests.service.support.stack import VENV, start_service  # noqa: E402

SECRET = "bench-app-secret"


def bare_app() -> FastAPI:
    """The baseline: FastAPI that reads the body and answers 200, nothing else."""
    app = FastAPI()

    @app.post("/webhooks/whatsapp")
    async def receive(request: Request) -> Response:
        await request.body()
        return Response(status_code=200)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def signed_bodies(count: int, offset: int) -> list[tuple[bytes, str]]:
    """Distinct text-message webhooks from distinct customers, signed as Meta signs them."""
    template = fixture("webhook_text_message.json")
    bodies = []
    for n in range(offset, offset + count):
        message = template["entry"][0]["changes"][0]["value"]["messages"][0]
        message.update({"id": f"wamid.bench{n:08d}", "from": f"1650{n:07d}", "timestamp": str(int(time.time()))})
        template["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] = message["from"]
        body = json.dumps(template).encode()
        bodies.append((body, sign(SECRET, body)))
    return bodies


async def blast(url: str, bodies: list[tuple[bytes, str]], concurrency: int) -> float:
    """Requests per second for all bodies, `concurrency` in flight; every answer must be 200."""
    queue = list(reversed(bodies))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        async def worker() -> None:
            while queue:
                body, signature = queue.pop()
                response = await client.post(url, content=body, headers={
                    "Content-Type": "application/json", "X-Hub-Signature-256": signature})
                assert response.status_code == 200, (response.status_code, response.text)
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(bodies) / (time.perf_counter() - start)


async def idle(database_url: str) -> None:
    """Waits until the service processed everything it acknowledged, so rounds do not overlap."""
    engine = create_engine(database_url)
    try:
        while True:
            async with session_factory(engine)() as session:
                busy = await session.scalar(select(func.count()).select_from(InboundWebhook)
                                            .where(InboundWebhook.processed_at.is_(None)))
                busy += await session.scalar(select(func.count()).select_from(PendingTurn))
                busy += await session.scalar(select(func.count()).select_from(Outbox)
                                             .where(Outbox.status.in_(("pending", "sending"))))
            if not busy:
                return
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


def serve(name: str, port: int, path: str) -> Process:
    process = Process(name, [str(VENV / "bin" / "python"), __file__, f"--serve-{name}", str(port)])
    process.wait_until(http_ok(f"http://127.0.0.1:{port}{path}"), 60, "healthy")
    return process


async def measure(rounds: int, per_round: int, concurrency: int) -> tuple[list[float], list[float], list[float]]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-whatsapp-"))
    graph_port, bare_port = free_port(), free_port()
    graph = serve("graph", graph_port, "/healthz")  # its own process: no GIL shared with the client
    bare = serve("bare", bare_port, "/healthz")
    service = start_service({"WHATSAPP_APP_SECRET": SECRET, "WHATSAPP_ACCESS_TOKEN": TOKEN,
                             "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
                             "WHATSAPP_API_BASE": f"http://127.0.0.1:{graph_port}/v21.0",
                             "RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_RETRIES": "0",
                             "MEDIA_DIR": str(workdir / "media"), "LOG_LEVEL": "WARNING"}, workdir)
    baseline, ingest, drained = [], [], []
    try:
        offset = 0
        for index in range(rounds + 1):  # the first round warms both up
            bodies = signed_bodies(per_round, offset)
            offset += per_round
            targets = [("bare", f"http://127.0.0.1:{bare_port}/webhooks/whatsapp"),
                       ("service", f"{service.base_url}/webhooks/whatsapp")]
            for name, url in targets if index % 2 == 0 else reversed(targets):
                rate = await blast(url, bodies, concurrency)
                started = time.perf_counter()
                await idle(service.database_url)  # the service's processing never overlaps a measurement
                if index:
                    (baseline if name == "bare" else ingest).append(rate)
                    if name == "service":
                        drained.append(time.perf_counter() - started)
    finally:
        service.stop()
        bare.stop()
        graph.stop()
    return baseline, ingest, drained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--per-round", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-graph", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        uvicorn.run(bare_app(), host="127.0.0.1", port=args.serve_bare, log_level="warning", access_log=False)
        return
    if args.serve_graph:
        GraphStandIn(port=args.serve_graph).start()
        threading.Event().wait()
    baseline, ingest, drained = asyncio.run(measure(args.rounds, args.per_round, args.concurrency))
    bare_rate, ingest_rate = sum(baseline) / len(baseline), sum(ingest) / len(ingest)
    print(f"whatsapp webhook ingest, {args.rounds} rounds x {args.per_round} signed webhooks, "
          f"{args.concurrency} in flight, one worker each")
    print(f"  bare FastAPI endpoint (200 only)       {bare_rate:8.0f} req/s")
    print(f"  service: verify, persist, acknowledge  {ingest_rate:8.0f} req/s")
    print(f"  ratio service/bare                     {ingest_rate / bare_rate:.3f}  (target >= 0.5)")
    print(f"  (then every message stored, queued for people and answered: backlog done "
          f"{sum(drained) / len(drained):.1f} s after each round)")


if __name__ == "__main__":
    main()
