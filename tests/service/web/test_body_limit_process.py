"""A 150 MB chunked POST to each webhook of a real service process (uvicorn, as `make run` starts it): 413 seen by
the client, most of the body never sent, and the process's peak memory (VmHWM) grows by less than 10 MB."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service

MB = 1024 * 1024
TOTAL_MB = 150
WEBHOOKS = [  # path, content type, a signature header that does not match (the body is never read whole anyway)
    ("/webhooks/whatsapp", "application/json", {"X-Hub-Signature-256": "sha256=" + "0" * 64}),
    ("/webhooks/calls", "application/json", {"X-Signature": "sha256=" + "0" * 64}),
    ("/webhooks/twilio/voice", "application/x-www-form-urlencoded", {"X-Twilio-Signature": "AAAA"}),
]


@pytest.fixture(scope="module")
def service(workdir: Path) -> Iterator[Service]:
    """Every webhook configured, so each route reads its body; no Rasa (a closed port) is needed for that."""
    started = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_RETRIES": "0",
                             "SECRET_KEY": "body-limit-process-secret-0123456789", "WHATSAPP_APP_SECRET": "app",
                             "TWILIO_AUTH_TOKEN": "twilio", "CALL_EVENTS_SECRET": "pbx"}, workdir)
    yield started
    started.stop()


def peak_kib(service: Service) -> int:
    """VmHWM: the most resident memory the process has ever used."""
    for line in Path(f"/proc/{service.process.popen.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")


class Body:
    """TOTAL_MB of spaces, one MB a chunk (the same bytes object: the client's memory stays flat), counted."""

    def __init__(self) -> None:
        self.sent_mb = 0

    def __iter__(self) -> Iterator[bytes]:
        chunk = b" " * MB
        for _ in range(TOTAL_MB):
            self.sent_mb += 1
            yield chunk


def test_a_150_mb_chunked_post_to_each_webhook_gets_413_and_the_peak_memory_stays_flat(service: Service) -> None:
    with httpx.Client(base_url=service.base_url, timeout=60) as client:
        for path, content_type, signature in WEBHOOKS:  # warm up: each route once, with a small refused body
            assert client.post(path, content=b"{}", headers={"Content-Type": content_type, **signature}
                               ).status_code in (401, 403)
        before = peak_kib(service)
        for path, content_type, signature in WEBHOOKS:
            body = Body()
            response = client.post(path, content=iter(body), headers={"Content-Type": content_type, **signature})
            assert (response.status_code, response.json()) == (413, {"error": "body too large"}), path
            assert response.request.headers.get("transfer-encoding") == "chunked"
            # the limit plus what the sockets' kernel buffers took before the server closed the connection
            assert body.sent_mb < 32, (path, body.sent_mb)
        growth_kib = peak_kib(service) - before
    assert growth_kib < 10 * 1024, f"peak memory grew by {growth_kib} KiB"
