"""Background passes (the sweepers, the opening, recovery, due commitments, holds): each repeated forever, a
failed round logged and tried again the next time, never fatal to the process."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


async def repeat(one_round: Callable[[], Awaitable[object]], every_seconds: float, failed: str) -> None:
    """Runs `one_round` every `every_seconds` until cancelled; a failure is logged as `failed` and waited out."""
    while True:
        try:
            await one_round()
        except Exception:
            log.exception(failed)
        await asyncio.sleep(every_seconds)
