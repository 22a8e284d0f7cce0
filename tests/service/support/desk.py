"""For the desk's Chromium tests: a webchat customer who writes (and writes again), and the page's captured
notifications and tones (the real Notification and AudioContext, observed)."""
from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.service.support.webchat_client import Visitor

# Runs before the inbox's scripts: every Notification the page shows and every tone it plays is recorded.
CAPTURE_ALERTS = """
(() => {
  window.__notes = [];
  window.__tones = 0;
  const Real = window.Notification;
  if (Real) {
    class Captured extends Real {
      constructor(title, options = {}) {
        super(title, options);
        window.__notes.push({ title, body: options.body || "", tag: options.tag || "" });
      }
    }
    Object.defineProperty(Captured, "permission", { get: () => Real.permission });
    Captured.requestPermission = (...args) => Real.requestPermission(...args);
    window.Notification = Captured;
  }
  const Audio = window.AudioContext;
  if (Audio) {
    const make = Audio.prototype.createOscillator;
    Audio.prototype.createOscillator = function (...args) { window.__tones += 1; return make.apply(this, args); };
  }
})();
"""


def customer_writes(base_url: str, words: str, session_id: str | None = None) -> str:
    """A web visitor writes (no assistant behind the service: handed to people); the same session writes again."""
    async def talk() -> str:
        visitor = Visitor(base_url)
        session = await visitor.connect(session_id)
        if session_id is None:
            await visitor.say(words, metadata={"language": "es"})  # the holding message ends the turn
        else:  # people hold the case: nothing answers at once, the message is stored and pushed to them
            await visitor.client.emit("user_uttered", {"message": words, "session_id": session,
                                                       "message_id": uuid.uuid4().hex, "metadata": {"language": "es"}})
            await asyncio.sleep(0.5)
        await visitor.close()
        return session
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        return pool.submit(asyncio.run, talk()).result()


def notes(page: Any) -> list[dict[str, str]]:
    return list(page.evaluate("window.__notes"))
