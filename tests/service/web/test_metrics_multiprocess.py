"""With PROMETHEUS_MULTIPROC_DIR, one worker's scrape sums every worker's turns and handoffs."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.settings import REPO_ROOT
from handoff.web.metrics import Metrics

WORKER = """
import asyncio, sys
from handoff.core.events import HandedOff
from handoff.web.metrics import Metrics
metrics = Metrics.from_environment(None)
assert metrics.multiprocess_dir
metrics.turn_ended("whatsapp", float(sys.argv[1]))
asyncio.run(metrics.handed_off(HandedOff("c" * 32, 1, "bot_unavailable", team="billing")))
"""


def run_worker(directory: Path, seconds: str) -> None:
    """A separate process (its own pid, its own files), as a uvicorn worker is."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run([sys.executable, "-c", WORKER, seconds], env=env, check=True, timeout=60)


async def test_a_scrape_sums_every_worker(tmp_path: Path, sessions: async_sessionmaker[AsyncSession]) -> None:
    run_worker(tmp_path, "0.2")
    run_worker(tmp_path, "0.4")
    assert len(list(tmp_path.glob("*.db"))) >= 2  # one file per worker and kind
    text = (await Metrics(sessions, str(tmp_path)).exposition()).decode()
    samples = {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
               for family in text_string_to_metric_families(text) for sample in family.samples}
    assert samples[("frontdoor_turn_latency_seconds_count", (("channel", "whatsapp"),))] == 2
    assert abs(samples[("frontdoor_turn_latency_seconds_sum", (("channel", "whatsapp"),))] - 0.6) < 1e-9
    assert samples[("frontdoor_handoffs_total", (("reason", "bot_unavailable"), ("team", "billing")))] == 2
    assert ("frontdoor_webchat_open_sessions", ()) in samples  # the database's gauges, read once
