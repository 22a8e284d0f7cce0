"""axe-core (the npm package pinned in tests/service/browser/package.json) run inside a Chromium page."""
from __future__ import annotations

from typing import Any

import pytest

from tests.service.support.processes import REPO

AXE_JS = REPO / "tests" / "service" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
}"""


def axe_source() -> str:
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing: run `make setup` (cd tests/service/browser && npm ci)")
    return AXE_JS.read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """Every violation axe finds in the page as it is now (the page's context must bypass its CSP)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source())
    return list(page.evaluate(RUN))


def blocking(page: Any) -> list[dict[str, Any]]:
    """The serious and critical ones: the issue's bar is none of them on any screen."""
    return [v for v in violations(page) if v["impact"] in BLOCKING]


def scrolls_sideways(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth"))


WIDER_THAN_THE_PAGE = """() => { const width = document.documentElement.clientWidth;
  const clipped = (n) => { for (let p = n.parentElement; p && p !== document.body; p = p.parentElement) {
    if (getComputedStyle(p).overflowX !== "visible") return true; } return false; };
  return [...document.querySelectorAll("body *")].filter((n) => n.offsetParent !== null
    && n.getBoundingClientRect().right > width + 1 && !clipped(n)).slice(0, 8)
    .map((n) => `${n.tagName.toLowerCase()}.${n.className} in #${(n.closest("[id]") || {}).id}`); }"""


def wider_than_the_page(page: Any) -> list[str]:
    """What sticks out on the right (the reason a page scrolls sideways)."""
    return list(page.evaluate(WIDER_THAN_THE_PAGE))
