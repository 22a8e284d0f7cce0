"""What the service itself says to customers, one file per variant beside this module: Spanish in each tone
(es-tuteo.yml, es-usted.yml, es-voseo.yml; operations.yml assistant.tone picks one), en.yml and pt.yml."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml

TONES = ("tuteo", "usted", "voseo")
VARIANTS = ("es-tuteo", "es-usted", "es-voseo", "en", "pt")
FALLBACK = "es-tuteo"  # our first market's


def variant(language: str, tone: str = "tuteo") -> str:
    """The variant a customer reads: Spanish in the operation's tone, any other language as it is."""
    if language == "es":
        return f"es-{tone if tone in TONES else 'tuteo'}"
    return language


def _load() -> dict[str, dict[str, str]]:
    """Every text by key, then by variant, read once at import."""
    here = Path(__file__).parent
    texts: dict[str, dict[str, str]] = {}
    for name in VARIANTS:
        catalogue = yaml.safe_load((here / f"{name}.yml").read_text(encoding="utf-8")) or {}
        for key, said in catalogue.items():
            texts.setdefault(str(key), {})[name] = str(said)
    return texts


TEXTS: dict[str, dict[str, str]] = _load()


def text(key: str, language: str, tone: str = "tuteo", **values: object) -> str:
    """The text in the customer's language (Spanish in `tone`), falling back to Spanish in tuteo."""
    variants = TEXTS[key]
    return variants.get(variant(language, tone), variants[FALLBACK]).format(**values)


def folded(text: str) -> str:
    """A customer's words as answers are compared: lower case, no accents, single spaces, no punctuation around the
    words ("¡Sí, ESPERO!" reads as "si espero")."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", plain.casefold()).split())
