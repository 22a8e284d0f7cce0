"""`make retrain`'s parts: the held-out scores, the training fingerprint, the report, on the real model."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.metrics import f1_score

from bot.scripts.fingerprint import fingerprint
from bot.scripts.heldout import Scores, scores
from bot.scripts.retrain import report

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "current.tar.gz"
ROW = re.compile(r"^(es|en|pt)\s+(\d+)\s+([\d.]+) -> ([\d.]+)(?: \([+-][\d.]+\))?\s+([\d.]+) -> ([\d.]+)", re.M)


def test_scores_match_sklearn_and_count_only_gold_intents_for_macro_f1() -> None:
    gold = ["greet", "greet", "deny", "deny", "ask_hours", "ask_hours"]
    predicted = ["greet", "deny", "deny", "out_of_scope", "ask_hours", "ask_hours"]
    result = scores(gold, predicted)
    assert result.accuracy == pytest.approx(4 / 6)
    assert result.macro_f1 == pytest.approx(f1_score(gold, predicted, labels=["ask_hours", "deny", "greet"],
                                                      average="macro"))
    assert result.rasa_macro_avg_f1 == pytest.approx(f1_score(gold, predicted, average="macro"))
    assert (result.intents, result.utterances) == (3, 6)
    with pytest.raises(ValueError):
        scores(gold, predicted[:-1])


def test_the_fingerprint_changes_with_any_training_input_and_only_then(tmp_path: Path) -> None:
    """`make train` and `make retrain` both skip training on an equal fingerprint: it must see every input."""
    root = tmp_path / "project"
    for folder in ("bot/data", "bot/components"):
        shutil.copytree(ROOT / folder, root / folder)
    for name in ("config.yml", "domain.yml"):
        shutil.copy(ROOT / name, root / name)
    (root / "bot" / "heldout").mkdir()
    first = fingerprint(root)
    assert fingerprint(root) == first == fingerprint(ROOT)  # the copy hashes as the project does
    (root / "bot" / "heldout" / "es.yml").write_text("not a training input\n")
    assert fingerprint(root) == first
    (root / "bot" / "data" / "nlu" / "extra.yml").write_text('version: "3.1"\n')
    second = fingerprint(root)
    assert second != first
    (root / "bot" / "components" / "email_masker.py").write_text("# a changed component changes the model\n")
    assert fingerprint(root) != second
    shell = subprocess.run([sys.executable, "-m", "bot.scripts.fingerprint", str(root)], cwd=ROOT,
                           capture_output=True, text=True, check=True)
    assert shell.stdout.strip() == fingerprint(root)  # what the Makefile reads


def test_the_report_shows_both_figures_and_the_change() -> None:
    old = Scores(accuracy=0.9, macro_f1=0.85, rasa_macro_avg_f1=0.8, intents=13, utterances=156)
    new = Scores(accuracy=0.925, macro_f1=0.84, rasa_macro_avg_f1=0.8, intents=13, utterances=156)
    lines = report({"es": old}, {"es": new, "en": new})
    assert ROW.findall("\n".join(lines)) == [("es", "156", "0.900", "0.925", "0.850", "0.840")]
    assert "(+0.025)" in lines[1] and "(-0.010)" in lines[1]
    assert lines[2].split()[:5] == ["en", "156", "-", "->", "0.925"]  # no model before


def project_copy(tmp_path: Path, with_model: bool) -> Path:
    """The assistant's project files in a scratch directory, so nothing under the repository changes."""
    root = tmp_path / "project"
    for folder in ("bot/data", "bot/heldout", "bot/components"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copy(ROOT / "bot" / "__init__.py", root / "bot" / "__init__.py")  # config.yml names bot.components.…
    for name in ("config.yml", "domain.yml"):
        shutil.copy(ROOT / name, root / name)
    (root / "models").mkdir()
    if with_model:
        shutil.copy(MODEL, root / "models" / "current.tar.gz")
        (root / "models" / ".fingerprint").write_text(fingerprint(root) + "\n")
    return root


def retrain(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.scripts.retrain", "--root", str(root), "--no-export"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_an_unchanged_project_is_evaluated_on_the_real_model_without_training(tmp_path: Path) -> None:
    root = project_copy(tmp_path, with_model=True)
    result = retrain(root)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "model up to date, nothing to train" in result.stdout
    rows = {lang: (int(count), *map(float, figures)) for lang, count, *figures in ROW.findall(result.stdout)}
    assert sorted(rows) == ["en", "es", "pt"], result.stdout
    for count, *figures in rows.values():
        assert count > 100 and all(0.0 <= figure <= 1.0 for figure in figures)
        assert figures[0] == figures[1] and figures[2] == figures[3]  # the same model before and after
    assert min(figure for _, *figures in rows.values() for figure in figures) > 0.8  # a trained model, not chance


def test_a_failed_training_exits_non_zero_and_keeps_the_model(tmp_path: Path) -> None:
    root = project_copy(tmp_path, with_model=True)
    model_bytes = (root / "models" / "current.tar.gz").stat().st_size
    (root / "bot" / "data" / "nlu" / "broken.yml").write_text('version: "3.1"\nnlu:\n- intent: [not, a, name]\n'
                                                              '  examples: 7\n')
    result = retrain(root)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-3000:]
    assert "training failed, the current model is unchanged" in result.stderr
    assert (root / "models" / "current.tar.gz").stat().st_size == model_bytes
    assert [p.name for p in (root / "models").iterdir() if p.name.startswith(".retrain-")] == []
