"""Median bot-turn latency through the service's Socket.IO against the same turn straight to Rasa.

Both paths run against the same Rasa and action server, interleaved turn by turn in one run, so
machine noise hits both alike. Prints the medians and their ratio (target <= 1.10), the 95th percentiles,
and the median of the per-turn ratios (the same message both ways), which varies less from run to run.
Run with the service environment: `.venv/bin/python bench/bot_turn.py [--turns 60]`.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.service.support.stack import RasaStack, start_service  # noqa: E402
from tests.service.support.webchat_client import Visitor  # noqa: E402

MESSAGES = ["hola", "a que hora abren?", "donde esta mi pedido 100002", "gracias",
            "hi", "what time do you open?", "where is my order 100003", "thanks"]


async def measure(turns: int) -> tuple[list[float], list[float]]:
    stack = RasaStack.start()
    service = start_service({"RASA_URL": stack.rasa_url, "ACTION_SERVER_URL": stack.action_url,
                             "LOG_LEVEL": "WARNING", "WEBCHAT_RATE_LIMIT_MESSAGES": "100000"},
                            Path(tempfile.mkdtemp(prefix="bench-")))
    direct, through = [], []
    try:
        async with httpx.AsyncClient(timeout=30) as rest:
            visitor = Visitor(service.base_url)
            await visitor.connect()
            sender = f"bench-{uuid.uuid4().hex}"
            metadata = {"channel": "webchat", "language": None, "customer": {"id": sender, "identities": []},
                        "case": {"id": sender, "status": "bot"}, "known": {}}
            for index in range(turns + len(MESSAGES)):  # the first round warms both paths up
                message = MESSAGES[index % len(MESSAGES)]

                async def via_rest(message: str = message) -> float:
                    start = time.perf_counter()
                    response = await rest.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                                               json={"sender": sender, "message": message, "metadata": metadata})
                    response.raise_for_status()
                    return time.perf_counter() - start

                async def via_service(message: str = message) -> float:
                    start = time.perf_counter()
                    replies = await visitor.say(message)
                    assert replies and "error" not in replies[0], replies
                    return time.perf_counter() - start

                first, second = (via_rest, via_service) if index % 2 == 0 else (via_service, via_rest)
                a, b = await first(), await second()
                if index >= len(MESSAGES):
                    rest_time, service_time = (a, b) if first is via_rest else (b, a)
                    direct.append(rest_time)
                    through.append(service_time)
            await visitor.close()
    finally:
        service.stop()
        stack.stop()
    return direct, through


def p95(samples: list[float]) -> float:
    """The 95th percentile: the tail a visitor notices, which a median hides."""
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=64)
    turns = parser.parse_args().turns
    direct, through = asyncio.run(measure(turns))
    direct_median, through_median = statistics.median(direct), statistics.median(through)
    direct_p95, through_p95 = p95(direct), p95(through)
    print(f"bot turn, {turns} interleaved turns")
    print(f"  straight to Rasa REST     median {direct_median * 1000:7.1f} ms  p95 {direct_p95 * 1000:7.1f} ms")
    print(f"  through service Socket.IO median {through_median * 1000:7.1f} ms  p95 {through_p95 * 1000:7.1f} ms")
    print(f"  ratio service/direct      {through_median / direct_median:.3f}  (target <= 1.10)"
          f"  p95 ratio {through_p95 / direct_p95:.3f}")
    # Each turn's two paths carry the same message back to back: their ratio is free of the spread between
    # messages (a greeting vs an order look-up), which moves the ratio of the two medians by several percent.
    paired = statistics.median(service / rest for rest, service in zip(direct, through, strict=True))
    print(f"  median of per-turn ratios {paired:.3f}")


if __name__ == "__main__":
    main()
