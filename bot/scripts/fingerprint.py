"""The training fingerprint `make train` and `make retrain` share: a model is current when its inputs hash the same.

`python -m bot.scripts.fingerprint [ROOT]` prints it (standard library only, so it starts fast).
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parents[2]


def training_inputs(root: Path) -> List[Path]:
    """config.yml, domain.yml, then every YAML file under bot/data in path order (not the locale's)."""
    data = sorted((path for path in (root / "bot" / "data").rglob("*.yml")),
                  key=lambda path: path.relative_to(root).as_posix())
    return [root / "config.yml", root / "domain.yml", *data]


def fingerprint(root: Path) -> str:
    """SHA-256 of the training inputs concatenated."""
    digest = hashlib.sha256()
    for path in training_inputs(root):
        digest.update(path.read_bytes())
    return digest.hexdigest()


if __name__ == "__main__":
    print(fingerprint(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT))
