"""An inbox service whose assistant is unreachable (every customer message is handed to people at once), and one
with the trained assistant behind a signed WhatsApp door that sends to the module's Graph API stand-in."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.service.support.chromium import launched_chromium
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service
from tests.service.support.whatsapp_webhooks import APP_SECRET


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


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphStandIn]:
    """One Graph API stand-in per module: what it received is that module's service's alone."""
    standin = GraphStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def whatsapp_service(service_factory: Callable[..., Service], graph: GraphStandIn,
                     tmp_path_factory: pytest.TempPathFactory) -> Service:
    """The trained assistant's service with its WhatsApp door signed and sending to this module's stand-in."""
    return service_factory(INBOX_LOGIN_ATTEMPTS="1000", WHATSAPP_APP_SECRET=APP_SECRET,
                           WHATSAPP_VERIFY_TOKEN="verify", WHATSAPP_ACCESS_TOKEN=TOKEN,
                           WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID, WHATSAPP_API_BASE=graph.base_url,
                           MEDIA_DIR=str(tmp_path_factory.mktemp("media")))
