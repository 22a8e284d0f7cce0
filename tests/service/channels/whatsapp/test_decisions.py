"""Pure decisions of the WhatsApp channel: retries by error code, backoff, order, window, checksums, states."""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from handoff.channels.whatsapp.graph import GraphClient, send_result, should_retry
from handoff.channels.whatsapp.ingest import in_burst
from handoff.channels.whatsapp.media import extension_for, sha256_matches, stored_path
from handoff.channels.whatsapp.window import (
    OutsideWindow,
    UnknownTemplate,
    can_send_free_text,
    find_template,
    load_templates,
)
from handoff.core.delivery import replaceable_by
from handoff.core.operations import load_operations
from handoff.core.outbox import SendResult, backoff_delay, due_runs
from handoff.settings import REPO_ROOT, Settings
from tests.service.support.graph_api import fixture, graph_error

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("status", "code", "retry"), [
    (400, 130429, True), (400, 131056, True), (500, None, True), (503, 131016, True), (502, None, True),
    (400, 131047, False), (400, 131026, False), (400, 100, False), (401, 190, False), (400, 132001, False),
])
def test_retry_only_what_passes_with_time(status: int, code: int | None, retry: bool) -> None:
    assert should_retry(status, code) is retry


def test_graph_answers_become_results() -> None:
    ok = send_result(200, fixture("send_response.json"))
    assert ok.ok and ok.message_id == "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"
    assert send_result(200, fixture("mark_as_read_response.json")).ok
    limited = send_result(400, fixture("error_response_130429.json"))
    assert isinstance(limited, SendResult)  # the core's result: the outbox never sees Meta's error shape
    assert not limited.ok and limited.retry and limited.error.code == 130429
    assert limited.error.summary == "(130429) Rate limit hit: Cloud API message throughput has been reached."
    window = send_result(400, graph_error(131047, "Re-engagement message"))
    assert not window.retry and "only an approved template" in window.error.summary
    assert send_result(502, "<html>bad gateway</html>").retry
    assert not send_result(200, {"unexpected": True}).ok


def test_backoff_is_exponential_and_capped() -> None:
    assert [backoff_delay(n, 2.0, 30.0) for n in range(1, 7)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_one_message_in_flight_per_recipient_in_order() -> None:
    row = lambda id_, to, status="pending", due=NOW: SimpleNamespace(  # noqa: E731
        id=id_, channel="whatsapp", recipient=to, status=status, next_attempt_at=due)
    later = NOW + timedelta(seconds=5)
    rows = [row(1, "a", due=later), row(2, "a"), row(3, "b", status="sending"), row(4, "b"), row(5, "c"),
            row(6, "c"), row(7, "d", due=(NOW + timedelta(seconds=9)).replace(tzinfo=None))]
    # a waits for its retrying head, b for the one being sent; c sends its first, then its second in the same
    # round; d's head is not due yet, a's falls due first
    assert due_runs(rows, NOW) == ([[5, 6]], later)
    gap = [row(8, "e"), row(9, "e", due=later), row(10, "e"), row(11, "f"), row(12, "f", status="sending"),
           row(13, "f")]
    assert due_runs(gap, NOW) == ([[8], [11]], None)  # a run stops at a row not due or not pending


def test_the_window_is_24_hours_from_the_last_inbound_message() -> None:
    assert can_send_free_text(NOW - timedelta(hours=23, minutes=59), NOW)
    assert not can_send_free_text(NOW - timedelta(hours=24), NOW)
    assert not can_send_free_text(None, NOW)
    assert can_send_free_text((NOW - timedelta(hours=1)).replace(tzinfo=None), NOW)


def test_refusal_names_the_templates_and_templates_are_checked() -> None:
    templates = load_templates(load_operations(REPO_ROOT / "operations.yml").whatsapp_templates)
    refusal = str(OutsideWindow(NOW - timedelta(hours=30), templates))
    assert "case_follow_up [es_MX] (customer_name)" in refusal and "case_follow_up [en_US]" in refusal
    assert "24 hours" in refusal and "2026-11-24 06:00" in refusal
    assert find_template(templates, "case_follow_up", "en_US", ["Ana"]).preview(["Ana"]).startswith("Hi Ana,")
    with pytest.raises(UnknownTemplate, match="Configured: case_follow_up"):
        find_template(templates, "promo", None, [])
    with pytest.raises(UnknownTemplate, match="needs 1 parameter"):
        find_template(templates, "case_follow_up", "es_MX", [])
    assert "none configured" in str(OutsideWindow(None, []))


def test_media_checksums_in_hex_or_base64() -> None:
    data = b"\xff\xd8 a jpeg"
    digest = hashlib.sha256(data).hexdigest()
    assert sha256_matches(digest, digest.upper())
    assert sha256_matches(digest, base64.b64encode(hashlib.sha256(data).digest()).decode())
    assert sha256_matches(digest, None)
    assert not sha256_matches(digest, base64.b64encode(hashlib.sha256(b"other").digest()).decode())
    assert not sha256_matches(digest, "not base64!")
    assert extension_for("audio/ogg; codecs=opus") == ".ogg" and extension_for("image/jpeg") == ".jpg"
    assert extension_for(None) == ".bin"


def test_delivery_states_only_move_forward() -> None:
    assert "accepted" in replaceable_by("delivered") and "read" not in replaceable_by("delivered")
    assert replaceable_by("failed") == ("pending", "accepted", "sent")
    assert "failed" in replaceable_by("read")  # a read receipt proves it arrived after all
    assert replaceable_by("deleted") == ()


def test_processing_yields_to_acknowledgements_only_in_a_burst() -> None:
    burst = [10.0 + n * 0.005 for n in range(10)]  # 200 webhooks per second
    assert in_burst(burst, 10.06)
    assert not in_burst(burst, 10.2)  # the burst is over
    steady = [10.0 + n * 0.05 for n in range(10)]  # 20 per second: processed at once
    assert not in_burst(steady, 10.46)
    assert not in_burst(burst[:9], 10.05)


async def test_an_unset_api_base_means_metas_graph_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WHATSAPP_API_BASE", raising=False)
    default = GraphClient(Settings().whatsapp_api_base, "1", "token")
    monkeypatch.setenv("WHATSAPP_API_BASE", "http://127.0.0.1:9/v21.0/")
    overridden = GraphClient(Settings().whatsapp_api_base, "1", "token")
    assert default.base_url == "https://graph.facebook.com/v21.0" and overridden.base_url == "http://127.0.0.1:9/v21.0"
    await default.aclose()
    await overridden.aclose()


def test_only_paths_inside_the_media_store_are_served(tmp_path) -> None:
    assert stored_path(tmp_path, "ab/abcd.jpg") == (tmp_path / "ab" / "abcd.jpg").resolve()
    assert stored_path(tmp_path, "../outside.jpg") is None
    assert stored_path(tmp_path, "/etc/passwd") is None
