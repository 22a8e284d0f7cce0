"""The inbox's message catalogues: the same keys and placeholders in every language, every key the pages use
present, no visible text written into the HTML or JavaScript, and the languages the server accepts the same as
the catalogues."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_args

import pytest

from handoff.core.agents import LOCALES
from handoff.inbox.schemas import Locale
from tests.service.inbox.ui_strings import html_findings, js_findings, js_literals

STATIC = Path(__file__).resolve().parents[3] / "handoff" / "inbox" / "static"
CATALOGUES = STATIC / "i18n"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def catalogue(code: str) -> dict[str, str]:
    return json.loads((CATALOGUES / f"{code}.json").read_text(encoding="utf-8"))


def sources() -> list[Path]:
    return sorted([*STATIC.glob("*.html"), *STATIC.glob("*.js")])


def test_the_server_the_page_and_the_catalogues_know_the_same_languages() -> None:
    files = sorted(path.stem for path in CATALOGUES.glob("*.json"))
    assert files == sorted(LOCALES) == sorted(get_args(Locale))
    listed = re.search(r"export const LOCALES = \[([^\]]*)\]", (STATIC / "i18n.js").read_text()).group(1)
    assert sorted(re.findall(r'"(\w+)"', listed)) == sorted(LOCALES)


@pytest.mark.parametrize("code", [code for code in LOCALES if code != "en"])
def test_every_catalogue_has_the_english_keys_and_placeholders(code: str) -> None:
    english, other = catalogue("en"), catalogue(code)
    assert set(other) - set(english) == set(), code
    assert set(english) - set(other) == set(), code
    for key, text in english.items():
        assert sorted(PLACEHOLDER.findall(other[key])) == sorted(PLACEHOLDER.findall(text)), f"{code}: {key}"
        assert other[key].strip(), f"{code}: {key} is empty"


def test_spanish_and_portuguese_are_written_in_their_own_language() -> None:
    spanish, portuguese, english = catalogue("es"), catalogue("pt"), catalogue("en")
    translated = [key for key in english if spanish[key] != english[key] and portuguese[key] != english[key]]
    assert len(translated) > 0.8 * len(english)
    assert {"ñ", "á", "é", "í", "ó", "ú"} <= set("".join(spanish.values()))
    assert {"ç", "ã", "õ", "ê", "á"} <= set("".join(portuguese.values()))


def used_keys() -> tuple[set[str], set[str]]:
    """Keys the pages name literally (data-i18n, data-i18n-attr, t("…")), and prefixes of t(`prefix.${…}`)."""
    keys: set[str] = set()
    prefixes: set[str] = set()
    for path in sources():
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r'data-i18n="([\w.]+)"', text))
        for pairs in re.findall(r'data-i18n-attr="([^"]+)"', text):
            keys |= {pair.split(":")[1].strip() for pair in pairs.split(";")}
        keys |= set(re.findall(r'\bt\(\s*"([\w.]+)"', text))
        prefixes |= set(re.findall(r"\bt\(\s*`([\w.]+\.)\$\{", text))
    return keys, prefixes


def test_every_key_the_pages_use_is_in_the_catalogue() -> None:
    english = catalogue("en")
    keys, prefixes = used_keys()
    plural = {key for key in keys if f"{key}.other" in english}
    assert keys - plural - set(english) == set()
    assert all(any(key.startswith(prefix) for key in english) for prefix in prefixes)
    assert len(keys) > 100




def test_no_visible_text_is_written_into_the_pages() -> None:
    findings = []
    for path in sources():
        text = path.read_text(encoding="utf-8")
        findings += html_findings(path.name, text) if path.suffix == ".html" else js_findings(path.name, text)
    assert not findings, "text outside the catalogues:\n" + "\n".join(map(str, findings))


def test_the_check_finds_text_where_a_page_would_show_it() -> None:
    page = '<p>Hola <span data-i18n="x"></span></p><input placeholder="your name"><kbd>r</kbd><b data-i18n="y"></b>'
    assert [f.text for f in html_findings("page.html", page)] == ["Hola", "placeholder=your name"]
    script = """
const LABEL = { customer: "Customer" };                 // prose in a table
node.textContent = "live";                              // one lowercase word, but into the page
list.append(h("li", { class: "muted" }, "nada"));       // a child of h()
const wrapped = `Assigned to ${name}`;                  // a template's static part
const ok = h("li", { class: `case-item ${on ? "selected" : ""}` }, t("lists.empty"));
if (e.key === "Enter" && /^[=+"']/.test(text)) x = a / 2 / b;  // a comparison, a regex, divisions
const tags = ["late handoff"];  // i18n: values the API stores
"""
    assert [f.text for f in js_findings("app.js", script)] == ["Customer", "live", "nada", "Assigned to  "]
    assert [lit.text for lit in js_literals('x = /"/.test(y) ? `a${"b"}c` : "d"')] == ["b", "a c", "d"]
