"""Structured JSON logs with customer contacts masked, configured once at start-up."""
from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

from handoff.pii import mask

# What an agent typed into a search (a customer's phone, words a customer wrote) in a request line's query string.
TYPED_QUERY = re.compile(r"([?&]q=)[^&\s\"]*")


def _mask_processor(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    masked = {key: mask(value) for key, value in event_dict.items()}
    if isinstance(masked.get("event"), str):  # uvicorn's access line: `"GET /inbox/api/search?q=… HTTP/1.1"`
        masked["event"] = TYPED_QUERY.sub(r"\1[withheld]", masked["event"])
    return masked


def configure_logging(level: str = "INFO", json_output: bool = True) -> None:
    """Routes structlog and the standard library (uvicorn, sqlalchemy) through one masked renderer."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _mask_processor,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger keeps following the configuration (a later configure_logging, structlog's
        # capture_logs in the tests that prove no code or message text is logged); a log line costs a few µs more.
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=[
        structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    access = logging.getLogger("uvicorn.access")  # uvicorn's --no-access-log leaves it without handlers
    access_on = bool(access.handlers) or access.propagate
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = name != "uvicorn.access" or access_on
    # httpx logs each request's URL at INFO, query string included (Rasa's ?token=): a line per Rasa turn, per
    # message sent, per readiness probe. Failures are logged by the service with what it knows.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
