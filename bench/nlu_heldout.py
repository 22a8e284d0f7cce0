"""Held-out NLU benchmark: intent accuracy and macro-F1 per language on bot/heldout/<lang>.yml.

Run with the bot environment: .venv-bot/bin/python bench/nlu_heldout.py [--model models/current.tar.gz]
The evaluation itself is bot/scripts/heldout.py, shared with `make retrain`: intents scored as `rasa test nlu`
scores them (a fallback prediction is undone), macro-F1 averaged over the intents present in the held-out
set, and Rasa's own "macro avg" (which also averages over labels that were only predicted) alongside.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.scripts.heldout import evaluate  # noqa: E402  (the repository root is on the path only now)

TARGET_F1 = 0.92


def main() -> int:
    """Prints one line per language, every miss, and a verdict against the 0.92 macro-F1 target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "current.tar.gz"))
    args = parser.parse_args()
    ok = True
    for lang, (s, misses) in evaluate(Path(args.model), ROOT / "bot" / "heldout").items():
        ok &= s.macro_f1 >= TARGET_F1
        print(f"nlu_heldout lang={lang} utterances={s.utterances} intents={s.intents} "
              f"accuracy={s.accuracy:.3f} macro_f1={s.macro_f1:.3f} rasa_macro_avg_f1={s.rasa_macro_avg_f1:.3f}")
        for miss in misses:
            print(f"  miss [{lang}] {miss.intent} -> {miss.predicted} ({miss.confidence:.2f}): {miss.text}")
    print(f"nlu_heldout target macro_f1>={TARGET_F1}: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
