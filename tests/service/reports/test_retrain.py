"""`make retrain` end to end on a scratch copy of the assistant: export from the database, train, before/after."""
from __future__ import annotations

import asyncio
import hashlib
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from handoff.cli import build_parser
from handoff.reports import nlu_samples
from handoff.reports.cli import run_reports_command
from handoff.settings import Settings
from tests.service.reports.conversation import misunderstood_case
from tests.service.support.processes import REPO
from tests.service.support.project import MODEL, project_copy

BOT_PYTHON = REPO / ".venv-bot" / "bin" / "python"
SERVICE_PYTHON = REPO / ".venv" / "bin" / "python"
ROW = re.compile(r"^(es|en|pt)\s+(\d+)\s+([\d.]+) -> ([\d.]+)(?: \([+-][\d.]+\))?\s+([\d.]+) -> ([\d.]+)", re.M)
NEW_EXAMPLES = ("oigan mi caja llego toda aplastada, la regreso", "el pedido vino abierto y quiero mi dinero")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_cli(database_url: str, root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(SERVICE_PYTHON), "-m", "handoff", "designers", "export", "--data-dir",
                           str(root / "bot" / "data"), "--domain", str(root / "domain.yml")], cwd=REPO,
                          env={**os.environ, "DATABASE_URL": database_url}, capture_output=True, text=True)


def export_in_process(database_url: str, root: Path) -> int:
    """The same command's parser and handler without a Python start (it runs its own event loop: call in a thread)."""
    args = build_parser().parse_args(["designers", "export", "--data-dir", str(root / "bot" / "data"),
                                      "--domain", str(root / "domain.yml")])
    return run_reports_command(Settings(database_url=database_url), args)


async def annotate(sessions, *texts: str) -> None:
    async with sessions() as session, session.begin():
        for text in texts:
            await misunderstood_case(session, words=text)
        for sample in await nlu_samples.review_list(session):
            await nlu_samples.label(session, sample["id"], intent="return_request", dismiss=False, actor="agent:d")


async def test_the_export_command_writes_into_the_given_project(sessions, database_url, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    root = project_copy(tmp_path)
    await annotate(sessions, *NEW_EXAMPLES)
    first = export_cli(database_url, root)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("2 new examples written to ")
    assert await asyncio.to_thread(export_in_process, database_url, root) == 0
    assert capsys.readouterr().out.startswith("0 new examples")
    written = yaml.safe_load((root / "bot" / "data" / "nlu" / "reviewed.yml").read_text())
    assert written["nlu"] == [{"intent": "return_request", "examples": "".join(f"- {t}\n" for t in NEW_EXAMPLES)}]
    assert not (REPO / "bot" / "data" / "nlu" / "reviewed.yml").exists() or \
        "aplastada" not in (REPO / "bot" / "data" / "nlu" / "reviewed.yml").read_text()


@pytest.mark.e2e
# One training is enough; the store is tested on both backends.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_retrain_exports_trains_and_prints_held_out_before_and_after(sessions, database_url,
                                                                           tmp_path: Path) -> None:
    root = project_copy(tmp_path, with_model=True)
    real_model = digest(MODEL)
    await annotate(sessions, *NEW_EXAMPLES)
    result = subprocess.run([str(BOT_PYTHON), "-m", "bot.scripts.retrain", "--root", str(root),
                             "--service-python", str(SERVICE_PYTHON)], cwd=REPO, capture_output=True, text=True,
                            timeout=1200, env={**os.environ, "DATABASE_URL": database_url,
                                               "RASA_TELEMETRY_ENABLED": "false"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "2 new examples exported; trained" in result.stdout, result.stdout
    rows = {lang: [float(figure) for figure in figures] for lang, _, *figures in ROW.findall(result.stdout)}
    assert sorted(rows) == ["en", "es", "pt"], result.stdout
    assert all(0.0 <= figure <= 1.0 for figures in rows.values() for figure in figures)
    assert min(figure for figures in rows.values() for figure in figures) > 0.8
    new_model = root / "models" / "current.tar.gz"
    assert digest(new_model) != real_model and digest(MODEL) == real_model  # the repository's model is untouched
    stamp = (root / "models" / ".fingerprint").read_text().strip()
    assert stamp == hashlib.sha256(b"".join(p.read_bytes() for p in [
        root / "config.yml", root / "domain.yml",
        *sorted((root / "bot" / "data").rglob("*.yml"), key=lambda p: p.relative_to(root).as_posix()),
        *sorted((root / "bot" / "components").glob("*.py"), key=lambda p: p.name)])).hexdigest()
    assert "aplastada" in (root / "bot" / "data" / "nlu" / "reviewed.yml").read_text()
    async with sessions() as session:
        assert len(await nlu_samples.review_list(session, "exported")) == 2
