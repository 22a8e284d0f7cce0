"""`make retrain`: the designers' examples into bot/data, a new model if the data changed, held-out before/after.

Runs with the bot environment from the repository root (`.venv-bot/bin/python -m bot.scripts.retrain`).
The export reads the service's database, so it runs `python -m handoff designers export` with the service
environment (DATABASE_URL as the service has it). Training is skipped when config.yml, domain.yml and
bot/data hash as the model's fingerprint (bot/scripts/fingerprint.py, shared with `make train`); a new model is trained beside
the current one and replaces it only once it trained and was evaluated. Exits 1 if export or training fails.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from bot.scripts.fingerprint import fingerprint
from bot.scripts.heldout import LANGUAGES, Scores, evaluate

ROOT = Path(__file__).resolve().parents[2]
MODEL_NAME = "current"


def _figure(scores: Optional[Scores], name: str) -> str:
    return f"{getattr(scores, name):.3f}" if scores else "  -  "


def _change(before: Optional[Scores], after: Optional[Scores], name: str) -> str:
    if before is None or after is None:
        return ""
    return f" ({round(getattr(after, name) - getattr(before, name), 3) + 0.0:+.3f})"  # + 0.0: no "-0.000"


def report(before: Dict[str, Scores], after: Dict[str, Scores], languages: Sequence[str] = LANGUAGES) -> List[str]:
    """The before/after table, one row per language: accuracy and macro-F1 on the held-out set."""
    lines = ["lang  utterances  accuracy before -> after        macro-F1 before -> after"]
    for lang in languages:
        old, new = before.get(lang), after.get(lang)
        count = (new or old).utterances if (new or old) else 0
        accuracy = f"{_figure(old, 'accuracy')} -> {_figure(new, 'accuracy')}{_change(old, new, 'accuracy')}"
        macro = f"{_figure(old, 'macro_f1')} -> {_figure(new, 'macro_f1')}{_change(old, new, 'macro_f1')}"
        lines.append(f"{lang:<4}  {count:>10}  {accuracy:<30}  {macro}")
    return lines


def export(root: Path, service_python: str) -> Optional[int]:
    """Runs the service's export into root/bot/data; the number of new examples, None if it failed."""
    command = [service_python, "-m", "handoff", "designers", "export", "--data-dir", str(root / "bot" / "data"),
               "--domain", str(root / "domain.yml")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    found = re.search(r"^(\d+) new examples", result.stdout, re.M)
    return int(found.group(1)) if result.returncode == 0 and found else None


def train(root: Path, out: Path) -> Optional[Path]:
    """`rasa train` into out (its output shown as it goes); the model file, None if training failed."""
    rasa = Path(sys.executable).with_name("rasa")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [str(rasa), "train", "--config", "config.yml", "--domain", "domain.yml", "--data", "bot/data",
               "--out", str(out), "--fixed-model-name", MODEL_NAME]
    status = subprocess.run(command, cwd=root, env=env, stdout=sys.stderr).returncode
    model = out / f"{MODEL_NAME}.tar.gz"
    return model if status == 0 and model.exists() else None


def scores_of(model: Path, root: Path) -> Dict[str, Scores]:
    return {lang: result[0] for lang, result in evaluate(model, root / "bot" / "heldout").items()}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the assistant project (default: this repository)")
    parser.add_argument("--no-export", action="store_true", help="retrain on bot/data as it is")
    parser.add_argument("--service-python", default=os.environ.get("SERVICE_PYTHON", str(ROOT / ".venv" / "bin" / "python")),
                        help="the service environment's python, for the export (default .venv/bin/python)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    models = root / "models"
    current = models / f"{MODEL_NAME}.tar.gz"
    added = None
    if not args.no_export:
        added = export(root, args.service_python)
        if added is None:
            print("retrain: the export failed, nothing was trained", file=sys.stderr)
            return 1
    wanted = fingerprint(root)
    stamp = models / ".fingerprint"
    up_to_date = current.exists() and stamp.exists() and stamp.read_text().strip() == wanted
    models.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".retrain-", dir=models))
    try:
        trained = None if up_to_date else train(root, scratch)
        if not up_to_date and trained is None:
            print("retrain: training failed, the current model is unchanged", file=sys.stderr)
            return 1
        before = scores_of(current, root) if current.exists() else {}
        after = scores_of(trained, root) if trained else before
        if trained:
            os.replace(trained, current)
            stamp.write_text(wanted + "\n")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    news = "" if added is None else f"{added} new examples exported; "
    state = "model up to date, nothing to train" if up_to_date else f"trained {current}"
    print(f"retrain: {news}{state} (fingerprint {wanted[:12]})")
    print("\n".join(report(before, after)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
