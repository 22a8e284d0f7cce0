"""The training fingerprint `make train` and `make retrain` share: a model is current when its inputs hash the same.

`python -m bot.scripts.fingerprint [ROOT]` prints it (standard library only, so it starts fast).
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Iterable, List

ROOT = Path(__file__).resolve().parents[2]


def training_inputs(root: Path) -> List[Path]:
    """config.yml, domain.yml, every YAML file under bot/data, then the pipeline's own components (bot/components),
    each group in path order (not the locale's)."""
    def in_order(paths: Iterable[Path]) -> List[Path]:
        return sorted(paths, key=lambda path: path.relative_to(root).as_posix())

    data = in_order((root / "bot" / "data").rglob("*.yml"))
    components = in_order((root / "bot" / "components").glob("*.py"))
    return [root / "config.yml", root / "domain.yml", *data, *components]


def fingerprint(root: Path) -> str:
    """SHA-256 of the training inputs concatenated."""
    digest = hashlib.sha256()
    for path in training_inputs(root):
        digest.update(path.read_bytes())
    return digest.hexdigest()


if __name__ == "__main__":
    print(fingerprint(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT))
