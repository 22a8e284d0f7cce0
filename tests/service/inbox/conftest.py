"""An inbox service whose assistant is unreachable: every customer message is handed to people at once."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.support.chromium import launched_chromium
from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service


@pytest.fixture(scope="session")
def inbox_service(workdir: Path) -> Iterator[Service]:
    """No Rasa behind it (a closed port): handoffs come from `bot_unavailable`, no model needed."""
    service = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_TIMEOUT_SECONDS": "2",
                             "BOT_RETRIES": "0", "SECRET_KEY": "inbox-tests-secret-key-0123456789",
                             "WEBCHAT_RATE_LIMIT_MESSAGES": "1000", "WEBCHAT_RATE_LIMIT_NEW_SESSIONS": "1000",
                             "INBOX_LOGIN_ATTEMPTS": "1000"}, workdir)
    yield service
    service.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    with launched_chromium() as browser:
        yield browser
