"""An exported transcript verifies offline; a changed character, a removed or swapped event fails with its position."""
from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.reports.audit_export import export_case, render_html, verify_export
from tests.service.reports.conversation import misunderstood_case
from tests.service.support.processes import REPO
from tests.service.support.stack import VENV


def verify_cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV / "bin" / "python"), "-m", "handoff", "audit", "verify", str(path)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)


def verify_in_process(path: Path, capsys: pytest.CaptureFixture[str]) -> subprocess.CompletedProcess[str]:
    """The same command's code without a Python start: `main` as `python -m handoff` calls it."""
    status = main(["audit", "verify", str(path)])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["audit", "verify", str(path)], status, out, err)


async def exported(sessions) -> dict:
    async with sessions() as session, session.begin():
        case, _ = await misunderstood_case(session)
    async with sessions() as session:
        return await export_case(session, case.id)


async def test_export_carries_the_whole_ordered_chain_and_its_head(sessions) -> None:
    document = await exported(sessions)
    assert [e["seq"] for e in document["events"]] == list(range(1, 8))
    assert [e["kind"] for e in document["events"]][-1] == "handoff"
    assert document["head"] == {"count": 7, "hash": document["events"][-1]["hash"]}
    assert document["transitions"][0]["reason"] == "repeated_fallback"
    assert verify_export(document).ok


async def test_html_escapes_customer_text(sessions) -> None:
    page = render_html(await exported(sessions))
    assert "<b>roto</b>" not in page and "&lt;b&gt;roto&lt;/b&gt; &amp; quiero" in page
    assert "<script>" not in page


async def test_cli_verifies_and_pinpoints_tampering(sessions, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    document = await exported(sessions)
    intact = tmp_path / "intact.json"
    intact.write_text(json.dumps(document))
    result = verify_cli(intact)
    assert result.returncode == 0 and "OK: 7 events" in result.stdout

    def tampered(name: str, change) -> subprocess.CompletedProcess[str]:
        copy_ = copy.deepcopy(document)
        change(copy_["events"])
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(copy_))
        return verify_in_process(path, capsys)

    edited = tampered("edited", lambda events: events[3].update(text=events[3]["text"].replace("P", "p", 1)))
    assert edited.returncode == 1 and "position 4" in edited.stderr and "altered" in edited.stderr
    removed = tampered("removed", lambda events: events.pop(2))
    assert removed.returncode == 1 and "position 3" in removed.stderr
    last = tampered("last", lambda events: events.pop())
    assert last.returncode == 1 and "position 7" in last.stderr and "head records 7" in last.stderr

    def swap(events: list) -> None:
        events[4], events[5] = events[5], events[4]
    swapped = tampered("swapped", swap)
    assert swapped.returncode == 1 and "position 5" in swapped.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert verify_in_process(garbage, capsys).returncode == 2
