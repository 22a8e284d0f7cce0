"""Finds visible text written into the inbox's static HTML and JavaScript instead of its message catalogues.

A fast lexical check (no browser): HTML text and visible attributes must come from data-i18n / data-i18n-attr;
a JavaScript string literal is flagged when it reads like prose (a capitalised word, or several lowercase words
outside a class name) or when it is written straight into the page (a child of h(), a textContent).
A line ending in `// i18n: <why>` is exempt (values the API stores, for instance), and says why.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

VISIBLE_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "label", "aria-description")
LETTERS = re.compile(r"[A-Za-zÀ-ÿ]{2,}")
CAPITALISED = re.compile(r"(?<![\w$-])[A-ZÀ-Ý][a-zà-ÿ]+")
WORDS = re.compile(r"[A-Za-zÀ-ÿ]+(?:\s+[A-Za-zÀ-ÿ]+)+")
CLASS_CONTEXT = re.compile(r"(?:class|Class)\w*\"?\s*[:=,]\s*[(\w\s.?&|!]*$")
CODE_CONTEXT = re.compile(r"(?:===|!==|\[|querySelector(?:All)?\(|closest\(|\$\()\s*$")  # compared, indexed, selected
EXEMPT = re.compile(r"//\s*i18n:\s*\S")
ATTRS = r"\{(?:[^{}]|\{[^{}]*\})*\}"
SINKS = (
    re.compile(r"\bh\(\s*\"[\w-]+\"\s*,\s*" + ATTRS + r"\s*,\s*$"),  # h(tag, attrs, "text")
    re.compile(r"\b(?:textContent|innerText|title|placeholder)\s*=\s*$"),
    re.compile(r"\b(?:element|node)\(\s*\"[\w-]+\"\s*,\s*(?:" + ATTRS + r"\s*,\s*)?$"),  # element(name, "text")
    re.compile(r"setAttribute\(\s*\"(?:" + "|".join(VISIBLE_ATTRIBUTES) + r")\"\s*,\s*$"),
    re.compile(r"\b(?:" + "|".join(a.replace("-", "") for a in VISIBLE_ATTRIBUTES) + r"|title)\s*:\s*$"),
)
REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^") | {""}


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text!r}"


class _Html(HTMLParser):
    def __init__(self, name: str) -> None:
        super().__init__(convert_charrefs=True)
        self.name = name
        self.stack: list[str] = []
        self.findings: list[Finding] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in VISIBLE_ATTRIBUTES and value and LETTERS.search(value):
                self.findings.append(Finding(self.name, self.getpos()[0], f"{key}={value}"))
        if tag not in ("meta", "link", "input", "br", "img", "hr"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        inside = self.stack[-1] if self.stack else ""
        if inside in ("script", "style", "kbd") or not LETTERS.search(data):
            return
        self.findings.append(Finding(self.name, self.getpos()[0], data.strip()))


def html_findings(name: str, source: str) -> list[Finding]:
    """Text nodes and visible attributes of static HTML (a keyboard key in <kbd> is not a word)."""
    parser = _Html(name)
    parser.feed(source)
    parser.close()
    return parser.findings


@dataclass(frozen=True)
class Literal:
    start: int
    text: str  # a template literal's static parts, its ${…} as a space
    end: int


def js_literals(source: str) -> list[Literal]:
    """The string and template literals of a script (comments and regular expressions skipped)."""
    found: list[Literal] = []
    _scan(source, 0, found, until=None)
    return found


def _scan(src: str, i: int, found: list[Literal], until: str | None) -> int:
    depth = 0
    last = ""
    while i < len(src):
        c = src[i]
        if src.startswith("//", i):
            i = src.find("\n", i)
            i = len(src) if i < 0 else i
            continue
        if src.startswith("/*", i):
            i = src.index("*/", i) + 2
            continue
        if c in "\"'":
            j = i + 1
            while src[j] != c:
                j += 2 if src[j] == "\\" else 1
            found.append(Literal(i, src[i + 1:j], j + 1))
            i, last = j + 1, "x"
            continue
        if c == "`":
            i, last = _template(src, i, found), "x"
            continue
        if c == "/" and (last in REGEX_BEFORE or re.search(r"\b(?:return|typeof)\s*$", src[:i])):
            i, last = _regex(src, i), "x"
            continue
        if until and c == "{":
            depth += 1
        elif until and c == "}":
            if depth == 0:
                return i + 1
            depth -= 1
        if not c.isspace():
            last = c if not (c.isalnum() or c in "_$") else "x"
        i += 1
    return i


def _template(src: str, i: int, found: list[Literal]) -> int:
    start, j, parts = i, i + 1, []
    while src[j] != "`":
        if src[j] == "\\":
            parts.append(src[j:j + 2])
            j += 2
        elif src.startswith("${", j):
            parts.append(" ")
            j = _scan(src, j + 2, found, until="}")
        else:
            parts.append(src[j])
            j += 1
    found.append(Literal(start, "".join(parts), j + 1))
    return j + 1


def _regex(src: str, i: int) -> int:
    j, in_class = i + 1, False
    while True:
        c = src[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            j += 1
            while j < len(src) and src[j].isalpha():
                j += 1
            return j
        j += 1


def prose(text: str, before: str) -> bool:
    """Reads like words for a person: a capitalised word, or several words outside a class attribute."""
    if not LETTERS.search(text) or CODE_CONTEXT.search(before):
        return False
    if CAPITALISED.search(text):
        return True
    return bool(WORDS.search(text)) and not CLASS_CONTEXT.search(before)


def js_findings(name: str, source: str) -> list[Finding]:
    findings = []
    lines = source.splitlines()
    for literal in js_literals(source):
        line = source.count("\n", 0, literal.start) + 1
        if EXEMPT.search(lines[line - 1]):
            continue
        before = source[max(0, literal.start - 300):literal.start]
        if re.match(r"\s*:", source[literal.end:]) and re.search(r"[{,]\s*$", before):
            continue  # an object's key (a header name, a map's entry): never shown as it is
        into_page = any(sink.search(before) for sink in SINKS) and LETTERS.search(literal.text)
        if into_page or prose(literal.text, before):
            findings.append(Finding(name, line, literal.text))
    return findings
