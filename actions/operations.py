"""Loads the shared operations file, the single source of truth for hours, teams and languages."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Mapping

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
SUPPORTED_LANGUAGES = ("es", "en", "pt")
TONES = ("tuteo", "usted", "voseo")  # how Spanish addresses customers: tú, usted, vos


def operations_path() -> Path:
    """The operations file: OPERATIONS_FILE wins so the service and the actions can share one path."""
    return Path(os.environ.get("OPERATIONS_FILE") or REPO_ROOT / "operations.yml")


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Dict[str, Any]:
    """Parses the file once per modification time, so edits apply without a restart."""
    with open(path, encoding="utf-8") as handle:
        ops = yaml.safe_load(handle) or {}
    tone = (ops.get("assistant") or {}).get("tone") or "tuteo"
    if tone not in TONES:
        raise ValueError(f"{path}: assistant.tone {tone!r} is not one of {', '.join(TONES)}")
    return ops


def load_operations(path: Path | None = None) -> Dict[str, Any]:
    """Returns the parsed operations file (cached by mtime)."""
    target = Path(path) if path else operations_path()
    return _load(str(target), target.stat().st_mtime)


def default_language(ops: Mapping[str, Any] | None = None) -> str:
    """The language used when neither metadata nor the text tells it."""
    ops = load_operations() if ops is None else ops
    lang = str(ops.get("default_language") or "es")
    return lang if lang in SUPPORTED_LANGUAGES else "es"


def assistant_tone(ops: Mapping[str, Any] | None = None) -> str:
    """How Spanish responses address customers (assistant.tone; tuteo when unset): picks their variant."""
    ops = load_operations() if ops is None else ops
    return str((ops.get("assistant") or {}).get("tone") or "tuteo")


def default_region(ops: Mapping[str, Any] | None = None) -> str:
    """Region for parsing local phone numbers: the holidays country (e.g. MX)."""
    ops = load_operations() if ops is None else ops
    return str((ops.get("holidays") or {}).get("country") or "MX").upper()


def team_for_intent(intent: str | None, ops: Mapping[str, Any] | None = None) -> str:
    """Which team takes a handoff caused by this intent (intent_teams, falling back to default)."""
    ops = load_operations() if ops is None else ops
    teams = ops.get("intent_teams") or {}
    return str(teams.get(intent or "") or teams.get("default") or "care")
