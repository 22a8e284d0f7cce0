"""Held-out NLU benchmark: intent accuracy and macro-F1 per language on bot/heldout/<lang>.yml.

Run with the bot environment: .venv-bot/bin/python bench/nlu_heldout.py [--model models/current.tar.gz]
Macro-F1 is averaged over the intents present in the held-out set (a prediction of nlu_fallback
counts as a miss for the true intent); Rasa's own "macro avg", which also averages over labels that
were only predicted (e.g. nlu_fallback), is printed alongside.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("es", "en")
TARGET_F1 = 0.92


def run_rasa_test(model: Path, data: Path, out: Path) -> None:
    """Runs `rasa test nlu` for one held-out file, writing reports into `out`."""
    rasa = Path(sys.executable).with_name("rasa")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [str(rasa), "test", "nlu", "--model", str(model), "--nlu", str(data), "--out", str(out)]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def scores(report: Dict[str, Dict]) -> Dict[str, float]:
    """Accuracy, macro-F1 over gold intents, and Rasa's macro avg from an intent_report.json."""
    gold = {k: v for k, v in report.items() if isinstance(v, dict) and v.get("support", 0) > 0
            and k not in ("macro avg", "weighted avg", "micro avg")}
    macro = sum(v["f1-score"] for v in gold.values()) / len(gold)
    return {
        "accuracy": float(report["accuracy"]),
        "macro_f1": macro,
        "rasa_macro_avg_f1": float(report["macro avg"]["f1-score"]),
        "intents": len(gold),
        "utterances": sum(v["support"] for v in gold.values()),
    }


def main() -> int:
    """Prints one line per language and a verdict against the 0.92 macro-F1 target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "current.tar.gz"))
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="nlu-heldout-") as tmp:
        for lang in LANGUAGES:
            out = Path(tmp) / lang
            run_rasa_test(Path(args.model), ROOT / "bot" / "heldout" / f"{lang}.yml", out)
            report = json.loads((out / "intent_report.json").read_text())
            s = scores(report)
            ok &= s["macro_f1"] >= TARGET_F1
            print(f"nlu_heldout lang={lang} utterances={s['utterances']} intents={s['intents']} "
                  f"accuracy={s['accuracy']:.3f} macro_f1={s['macro_f1']:.3f} "
                  f"rasa_macro_avg_f1={s['rasa_macro_avg_f1']:.3f}")
            errors = json.loads((out / "intent_errors.json").read_text()) if (out / "intent_errors.json").exists() else []
            for e in errors:
                print(f"  miss [{lang}] {e['intent']} -> {e['intent_prediction']['name']} "
                      f"({e['intent_prediction']['confidence']:.2f}): {e['text']}")
    print(f"nlu_heldout target macro_f1>={TARGET_F1}: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
