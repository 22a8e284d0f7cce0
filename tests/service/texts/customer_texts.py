"""Every customer-facing text of one language, gathered from where it is written: the assistant's responses
(domain.yml), the actions' replies (actions/), the service's texts, voice prompts and day names (any `"es": …` in
handoff/), the WhatsApp templates' bodies (operations.yml) and the web widget's strings (widget/src/i18n.js)."""
from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from handoff.settings import REPO_ROOT

TEMPLATE_LANGUAGES = {"es": ("es", "es_MX", "es_ES", "es_AR", "es_CO"), "en": ("en", "en_US"), "pt": ("pt_BR", "pt")}


@dataclass(frozen=True)
class Text:
    """One text and where it is written, so a failure names the file and the key."""

    where: str
    text: str


def _domain(language: str) -> Iterator[Text]:
    domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
    for name, variations in (domain.get("responses") or {}).items():
        for variation in variations:
            said = {c.get("value") for c in variation.get("condition") or [] if c.get("name") == "language"}
            if said and language not in said:
                continue
            # The variation without a condition says every language, one line each (YAML folds the blank line
            # between them), Spanish first.
            texts = [variation.get("text") or ""] if said else (variation.get("text") or "").split("\n")[:1] \
                if language == "es" else []
            for text in texts:
                yield Text(f"domain.yml {name}", text)
            if said:
                for button in variation.get("buttons") or []:
                    yield Text(f"domain.yml {name} button", str(button.get("title", "")))


def _string_parts(node: ast.AST) -> str | None:
    """A literal string (or the literal parts of an f-string / implicit concatenation), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(str(part.value) for part in node.values if isinstance(part, ast.Constant))
    return None


def _python(language: str, roots: tuple[str, ...] = ("handoff", "actions")) -> Iterator[Text]:
    keys = {language, *TEMPLATE_LANGUAGES.get(language, ())}
    for root in roots:
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Dict):
                    continue
                for key, value in zip(node.keys, node.values, strict=True):
                    if not (isinstance(key, ast.Constant) and key.value in keys):
                        continue
                    where = f"{path.relative_to(REPO_ROOT)}:{value.lineno}"
                    values = value.elts if isinstance(value, (ast.Tuple, ast.List)) else [value]
                    for item in values:
                        text = _string_parts(item)
                        if text is not None:
                            yield Text(where, text)


def _templates(language: str) -> Iterator[Text]:
    operations = yaml.safe_load((REPO_ROOT / "operations.yml").read_text(encoding="utf-8"))
    for template in operations.get("whatsapp_templates") or []:
        if template.get("language") in TEMPLATE_LANGUAGES.get(language, ()):
            yield Text(f"operations.yml template {template.get('name')}", str(template.get("body") or ""))


def _widget(language: str) -> Iterator[Text]:
    source = (REPO_ROOT / "widget" / "src" / "i18n.js").read_text(encoding="utf-8")
    block = re.search(rf"^  {language}: {{\n(.*?)^  }},", source, re.S | re.M)
    if block is None:
        return
    for key, text in re.findall(r'^\s+(\w+): ("(?:[^"\\]|\\.)*"),?$', block.group(1), re.M):
        yield Text(f"widget/src/i18n.js {language}.{key}", json.loads(text))


def customer_texts(language: str) -> list[Text]:
    """Every customer-facing text in `language`, non-empty."""
    found = [*_domain(language), *_python(language), *_templates(language), *_widget(language)]
    return [text for text in found if text.text.strip()]
