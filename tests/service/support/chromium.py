"""Debian's Chromium driven by Playwright; Playwright never downloads a browser here."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    """The Chromium binary, or a skip naming the missing Debian package."""
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    found = shutil.which("chromium")
    if not found:
        pytest.skip("Debian package chromium is not installed")
    return found


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """A headless browser for one test module.

    Use it from module-scoped fixtures only: Playwright's sync API keeps an event loop running in this
    thread while it is open, which would break every async test collected after it.
    """
    path = chromium_path()
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
