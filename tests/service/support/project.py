"""A scratch copy of the assistant's project, so exports, validation and retraining never touch the real one."""
from __future__ import annotations

import shutil
from pathlib import Path

from tests.service.support.processes import REPO

MODEL = REPO / "models" / "current.tar.gz"


def project_copy(tmp_path: Path, with_model: bool = False) -> Path:
    """Config, domain, training data, held-out set, the pipeline's and policies' own components with the actions'
    decisions they share (bot/components/turn_slots.py reads actions/session.py), and optionally the current model
    with its fingerprint."""
    root = tmp_path / "project"
    for folder in ("bot/data", "bot/heldout", "bot/components", "actions"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "bot" / "__init__.py", root / "bot" / "__init__.py")  # config.yml names bot.components.…
    for name in ("config.yml", "domain.yml"):
        shutil.copy(REPO / name, root / name)
    if with_model:
        (root / "models").mkdir()
        shutil.copy(MODEL, root / "models" / "current.tar.gz")
        shutil.copy(REPO / "models" / ".fingerprint", root / "models" / ".fingerprint")
    return root
