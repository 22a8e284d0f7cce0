"""Annotated samples into Rasa's YAML training format, deduplicated against training and held-out examples."""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core import audit
from handoff.settings import REPO_ROOT
from handoff.store.models import NluSample, utcnow

REVIEWED_FILE = "nlu/reviewed.yml"
ENTITY = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")


def normalized(text: str) -> str:
    """How two examples are compared: entity markup removed, case and spacing ignored."""
    return " ".join(ENTITY.sub(r"\1", text).casefold().split())


def safe_example(text: str) -> str:
    """One line, and no brackets Rasa would read as entity markup."""
    return " ".join(text.replace("[", "(").replace("]", ")").split())


def read_examples(data_dir: Path) -> dict[str, list[str]]:
    """Every intent example in the YAML files under data_dir, per intent, in file order."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(data_dir.rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in document.get("nlu") or []:
            if isinstance(item, dict) and "intent" in item and isinstance(item.get("examples"), str):
                for line in item["examples"].splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        found[item["intent"]].append(line[2:].strip())
    return found


def known_examples(data_dir: Path) -> dict[str, list[str]]:
    """Training examples and the held-out test set beside them (`bot/heldout`): exporting a held-out utterance
    into training would make the accuracy `make retrain` prints look better than the model is."""
    found = read_examples(data_dir)
    heldout = data_dir.parent / "heldout"
    if heldout.is_dir():
        for intent, texts in read_examples(heldout).items():
            found.setdefault(intent, []).extend(texts)
    return found


def domain_intents(domain_file: Path = REPO_ROOT / "domain.yml") -> set[str]:
    """Only intents the domain declares can be exported; a new intent needs domain.yml first."""
    document = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    return {intent if isinstance(intent, str) else next(iter(intent)) for intent in document.get("intents") or []}


def render(examples: dict[str, list[str]]) -> str:
    """Rasa 3 YAML: one block of examples per intent."""
    lines = ['version: "3.1"', "# Written by `python -m handoff designers export` from annotated NLU samples.", "nlu:"]
    for intent in sorted(examples):
        if examples[intent]:
            lines += [f"- intent: {intent}", "  examples: |"] + [f"    - {text}" for text in examples[intent]]
    return "\n".join(lines) + "\n"


def new_examples(annotated: list[tuple[str, str]], existing: dict[str, list[str]],
                 known_intents: set[str]) -> dict[str, list[str]]:
    """(intent, text) pairs not yet in the training data, for declared intents, each once."""
    seen = {normalized(text) for texts in existing.values() for text in texts}
    fresh: dict[str, list[str]] = defaultdict(list)
    for intent, text in annotated:
        example = safe_example(text)
        key = normalized(example)
        if intent in known_intents and key and key not in seen:
            seen.add(key)
            fresh[intent].append(example)
    return dict(fresh)


async def _annotated(session: AsyncSession) -> list[NluSample]:
    return list(await session.scalars(select(NluSample).where(NluSample.status == "annotated")
                                      .order_by(NluSample.id)))


async def download(session: AsyncSession, data_dir: Path, domain_file: Path = REPO_ROOT / "domain.yml") -> str:
    """The YAML the export would add, without writing anything."""
    samples = await _annotated(session)
    fresh = new_examples([(s.intent or "", s.text) for s in samples], known_examples(data_dir),
                         domain_intents(domain_file))
    return render(fresh)


async def export_to_bot_data(session: AsyncSession, data_dir: Path, *, actor: str,
                             domain_file: Path = REPO_ROOT / "domain.yml") -> tuple[Path, int]:
    """Merges new examples into bot/data/nlu/reviewed.yml and marks their samples exported."""
    samples = await _annotated(session)
    known = domain_intents(domain_file)
    fresh = new_examples([(s.intent or "", s.text) for s in samples], known_examples(data_dir), known)
    target = data_dir / REVIEWED_FILE
    merged: dict[str, list[str]] = defaultdict(list)
    if target.exists():
        for intent, texts in read_examples_file(target).items():
            merged[intent].extend(texts)
    for intent, texts in fresh.items():
        merged[intent].extend(texts)
    added = sum(len(texts) for texts in fresh.values())
    if merged:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(dict(merged)), encoding="utf-8")
    now = utcnow()
    for sample in samples:
        if sample.intent in known:  # duplicates too: the training or held-out data already holds them
            sample.status, sample.exported_at = "exported", now
    await audit.record(session, actor, "nlu_export", added=added, file=str(target))
    return target, added


def read_examples_file(path: Path) -> dict[str, list[str]]:
    """The examples of one file (the reviewed file being merged into)."""
    found: dict[str, list[str]] = defaultdict(list)
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for item in document.get("nlu") or []:
        if isinstance(item, dict) and isinstance(item.get("examples"), str):
            found[item["intent"]] += [line.strip()[2:].strip() for line in item["examples"].splitlines()
                                      if line.strip().startswith("- ")]
    return dict(found)
