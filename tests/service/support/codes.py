"""What the verification-code tests read and look for: the code a template or a call carried, a code other than
it, and every place it must not be (tables, logs, requests to the assistant)."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import JSON, String, Text, select

from handoff.store.models import Base
from tests.service.support.merging import Sessions


def template_code(body: dict[str, Any]) -> str:
    """The code in a send of the authentication template (its body parameter; the copy-code button repeats it)."""
    return str(body["template"]["components"][0]["parameters"][0]["text"])


def spoken_code(twiml: str) -> str:
    """The digits the call says, read back from its first <Say>."""
    said = re.findall(r"<Say[^>]*>([^<]*)</Say>", twiml)
    return "".join(re.findall(r"\d", said[0]))


def other_than(code: str) -> str:
    """A wrong code: the next one, wrapping at a million."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def leaks(code: str, texts: list[str]) -> list[str]:
    """Texts holding the code as typed, or its digits apart as read or said ("1, 2, 3…", "1 2 3…")."""
    forms = (code, ", ".join(code), " ".join(code))
    return [text for text in texts if any(form in text for form in forms)]


async def text_columns(sessions: Sessions) -> list[str]:
    """Every text and JSON value in every table, as text."""
    found: list[str] = []
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
            if columns:
                found.extend(str(value) for row in await session.execute(select(*columns)) for value in row)
    return found
