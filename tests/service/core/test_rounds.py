"""Background passes: a failed round is logged and the next one still runs."""
from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from handoff.core.rounds import repeat


async def test_a_failed_round_is_logged_and_the_next_one_runs() -> None:
    rounds: list[int] = []
    done = asyncio.Event()

    async def one_round() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("the database went away")
        done.set()

    with capture_logs() as logs:
        task = asyncio.create_task(repeat(one_round, 0.01, "example_round_failed"))
        await asyncio.wait_for(done.wait(), 5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert rounds[:2] == [0, 1]
    assert [entry["event"] for entry in logs] == ["example_round_failed"]
