"""Held-out NLU evaluation shared by `make bench` and `make retrain`: intent accuracy and macro-F1 per language.

The model parses every utterance of bot/heldout/<lang>.yml in this process (one model load for all
languages), exactly as `rasa test nlu` scores intents: a fallback prediction is undone, so the intent the
classifier ranked first is what counts (the figures match `rasa test nlu`'s intent report). Macro-F1 is
averaged over the intents present in the held-out set; Rasa's own "macro avg", which also averages over
labels that were only predicted, is computed alongside.
"""
from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

LANGUAGES = ("es", "en", "pt")


@dataclass(frozen=True)
class Scores:
    """The figures of one language's held-out set."""

    accuracy: float
    macro_f1: float
    rasa_macro_avg_f1: float
    intents: int
    utterances: int


@dataclass(frozen=True)
class Miss:
    """An utterance the model got wrong, for the report."""

    text: str
    intent: str
    predicted: str
    confidence: float


def _f1(label: str, gold: Sequence[str], predicted: Sequence[str]) -> float:
    true_pos = sum(1 for g, p in zip(gold, predicted) if g == p == label)
    false_pos = sum(1 for g, p in zip(gold, predicted) if p == label and g != label)
    false_neg = sum(1 for g, p in zip(gold, predicted) if g == label and p != label)
    denominator = 2 * true_pos + false_pos + false_neg
    return 2 * true_pos / denominator if denominator else 0.0


def scores(gold: Sequence[str], predicted: Sequence[str]) -> Scores:
    """Accuracy, macro-F1 over the gold intents, and sklearn's macro avg over gold and predicted labels."""
    if not gold or len(gold) != len(predicted):
        raise ValueError("need one prediction per held-out utterance")
    gold_labels = sorted(set(gold))
    all_labels = sorted(set(gold) | set(predicted))
    return Scores(
        accuracy=sum(1 for g, p in zip(gold, predicted) if g == p) / len(gold),
        macro_f1=sum(_f1(label, gold, predicted) for label in gold_labels) / len(gold_labels),
        rasa_macro_avg_f1=sum(_f1(label, gold, predicted) for label in all_labels) / len(all_labels),
        intents=len(gold_labels),
        utterances=len(gold),
    )


def load_heldout(path: Path) -> List[Tuple[str, str]]:
    """(text, intent) of every example, entity markup removed, as Rasa reads the file."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [(example.get("text"), example.get("intent")) for example in load_data(str(path)).intent_examples]


def _quiet() -> None:
    """Rasa's structured debug log of every parse would bury the report."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


async def _predict(model: Path, texts: List[str]) -> List[Tuple[str, float]]:
    from rasa.core.agent import Agent
    from rasa.nlu.classifiers import fallback_classifier

    _quiet()
    agent = Agent.load(str(model))
    predictions = []
    for text in texts:
        result = await agent.parse_message(text)
        if fallback_classifier.is_fallback_classifier_prediction(result):
            result = fallback_classifier.undo_fallback_prediction(result)
        intent = result.get("intent") or {}
        predictions.append((str(intent.get("name")), float(intent.get("confidence") or 0.0)))
    return predictions


def evaluate(model: Path, heldout_dir: Path,
             languages: Sequence[str] = LANGUAGES) -> Dict[str, Tuple[Scores, List[Miss]]]:
    """Scores and misses of `model` on heldout_dir/<lang>.yml for each language."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    examples = {lang: load_heldout(heldout_dir / f"{lang}.yml") for lang in languages}
    texts = [text for lang in languages for text, _ in examples[lang]]
    predictions = iter(asyncio.run(_predict(model, texts)))
    results: Dict[str, Tuple[Scores, List[Miss]]] = {}
    for lang in languages:
        pairs = [(text, intent, *next(predictions)) for text, intent in examples[lang]]
        misses = [Miss(text, intent, name, confidence) for text, intent, name, confidence in pairs if name != intent]
        results[lang] = (scores([p[1] for p in pairs], [p[2] for p in pairs]), misses)
    return results
