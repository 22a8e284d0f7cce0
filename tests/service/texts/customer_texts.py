"""Every customer-facing text of one variant (a language, and for Spanish a tone: es-tuteo, es-usted, es-voseo, en,
pt), gathered from where it is written: the assistant's responses and the actions' replies (bot/responses/), the
service's texts (handoff/core/texts/), voice prompts and day names (any `"es": …` in handoff/ and actions/), the
WhatsApp templates' bodies (operations.yml) and the web widget's strings (widget/src/i18n.js)."""
from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from handoff.settings import REPO_ROOT

TEMPLATE_LANGUAGES = {"es": ("es", "es_MX", "es_ES", "es_AR", "es_CO"), "en": ("en", "en_US"), "pt": ("pt_BR", "pt")}
VARIANTS = ("es-tuteo", "es-usted", "es-voseo", "en", "pt")
SERVICE_TEXTS = REPO_ROOT / "handoff" / "core" / "texts"


def language_of(variant: str) -> str:
    """"es-usted" → "es"."""
    return variant.split("-")[0]


@dataclass(frozen=True)
class Text:
    """One text and where it is written, so a failure names the file and the key."""

    where: str
    text: str


def _assistant(variant: str) -> Iterator[Text]:
    """The domain's responses (with button titles), the actions' replies and button words: domain.yml's responses
    are generated from these files (a test proves it)."""
    source = yaml.safe_load((REPO_ROOT / "bot" / "responses" / f"{variant}.yml").read_text(encoding="utf-8"))
    where = f"bot/responses/{variant}.yml"
    for name, said in (source.get("responses") or {}).items():
        text, buttons = (said.get("text"), said.get("buttons") or []) if isinstance(said, dict) else (said, [])
        yield Text(f"{where} {name}", str(text))
        for button in buttons:
            yield Text(f"{where} {name} button", str(button.get("title", "")))
    for section in ("replies", "field_names", "callback_windows"):
        for key, text in (source.get(section) or {}).items():
            yield Text(f"{where} {section}.{key}", str(text))


def _service(variant: str) -> Iterator[Text]:
    """The service's texts (handoff/core/texts/<variant>.yml), when written as files."""
    path = SERVICE_TEXTS / f"{variant}.yml"
    if path.exists():
        for key, text in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            yield Text(f"handoff/core/texts/{variant}.yml {key}", str(text))


def _string_parts(node: ast.AST) -> str | None:
    """A literal string (or the literal parts of an f-string / implicit concatenation), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(str(part.value) for part in node.values if isinstance(part, ast.Constant))
    return None


def _python(variant: str, roots: tuple[str, ...] = ("handoff", "actions")) -> Iterator[Text]:
    language = language_of(variant)
    keys = {variant, language, *TEMPLATE_LANGUAGES.get(language, ())}
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


def _templates(variant: str) -> Iterator[Text]:
    language = language_of(variant)
    operations = yaml.safe_load((REPO_ROOT / "operations.yml").read_text(encoding="utf-8"))
    notifications = (operations.get("notifications") or {}).get("templates") or []
    for template in [*(operations.get("whatsapp_templates") or []), *notifications]:
        if template.get("language") in TEMPLATE_LANGUAGES.get(language, ()):
            yield Text(f"operations.yml template {template.get('name')}", str(template.get("body") or ""))


def _widget_block(source: str, name: str) -> dict[str, str]:
    """One block of i18n.js ("  es: {" … "  },"): its strings by key, nested errors included."""
    block = re.search(rf"^  {name}: {{\n(.*?)^  }},", source, re.S | re.M)
    found = re.findall(r'^\s+(\w+): ("(?:[^"\\]|\\.)*"),?$', block.group(1), re.M) if block else []
    return {key: json.loads(text) for key, text in found}


def widget_texts(variant: str) -> Iterator[Text]:
    """The widget's strings in a variant: Spanish tuteo's with what usted or voseo change (TONE_STRINGS)."""
    language = language_of(variant)
    source = (REPO_ROOT / "widget" / "src" / "i18n.js").read_text(encoding="utf-8")
    strings = _widget_block(source, language)
    tone = variant.partition("-")[2]
    if tone in ("usted", "voseo"):
        strings.update(_widget_block(source, tone))
    for key, text in strings.items():
        yield Text(f"widget/src/i18n.js {variant}.{key}", text)


def customer_texts(variant: str) -> list[Text]:
    """Every customer-facing text in `variant`, non-empty."""
    found = [*_assistant(variant), *_service(variant), *_python(variant), *_templates(variant), *widget_texts(variant)]
    return [text for text in found if text.text.strip()]
