"""Customers' media files, fetched from the provider once and kept in MEDIA_DIR by content hash."""
from __future__ import annotations

import base64
import binascii
import mimetypes
import os
import uuid
from pathlib import Path
from typing import Any

from handoff.channels.whatsapp.graph import GraphClient, MediaError


def sha256_matches(hex_digest: str, expected: str | None) -> bool:
    """Meta states sha256 in hex (media endpoint) or base64 (webhooks); either form must match."""
    if not expected:
        return True
    expected = expected.strip()
    if expected.lower() == hex_digest.lower():
        return True
    try:
        return base64.b64decode(expected, validate=True) == bytes.fromhex(hex_digest)
    except (binascii.Error, ValueError):
        return False


def extension_for(mime_type: str | None) -> str:
    """A file extension agents' browsers understand; the type without parameters like `; codecs=opus`."""
    base = base_type(mime_type)
    return {"audio/ogg": ".ogg", "image/jpeg": ".jpg", "image/webp": ".webp"}.get(base) \
        or mimetypes.guess_extension(base) or ".bin"


# Types a browser shows without running anything; the rest (SVG, HTML, PDF, ...) is only downloaded.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "audio/ogg", "audio/mpeg",
                          "audio/aac", "audio/mp4", "video/mp4"})


def base_type(mime_type: str | None) -> str:
    return (mime_type or "").split(";")[0].strip().lower()


def agent_media(media: dict[str, Any] | None, error: str | None, url: str) -> dict[str, Any] | None:
    """What an agent may learn of a customer's file: its type, size and name, never the store path or Meta id."""
    if not media:
        return None
    mime = base_type(media.get("mime_type"))
    available = bool(media.get("path")) and not error
    return {"mime_type": mime or None, "size": media.get("size"), "filename": media.get("filename"),
            "inline": available and mime in INLINE_TYPES, "url": url if available else None, "error": error}


def serving(mime_type: str | None, filename: str | None) -> tuple[str, str]:
    """Content type and disposition for sending a stored file to an agent's browser."""
    mime = base_type(mime_type)
    safe_name = "".join(c for c in (filename or "") if c.isalnum() or c in "._- ")[:100].strip() or "file"
    if mime in INLINE_TYPES:
        return mime, "inline"
    return "application/octet-stream", f'attachment; filename="{safe_name}"'


def stored_path(root: Path, relative: str) -> Path | None:
    """The stored file for a path kept on the timeline; None for anything outside the store."""
    candidate = (root / relative).resolve()
    return candidate if candidate.is_relative_to(root.resolve()) else None


class MediaStore:
    """Content-addressed files under `root`: the same file sent twice is stored once."""

    def __init__(self, root: Path, graph: GraphClient, max_bytes: int) -> None:
        self.root = root
        self.graph = graph
        self.max_bytes = max_bytes

    async def fetch(self, media: dict[str, Any]) -> dict[str, Any]:
        """Media id → URL → bytes (with the token), checked against every sha256 Meta stated, then stored."""
        info = await self.graph.media_info(str(media["id"]))
        partial = self.root / "tmp" / f"{uuid.uuid4().hex}.part"
        digest, size = await self.graph.download(str(info["url"]), partial, self.max_bytes)
        for expected in (media.get("sha256"), info.get("sha256")):
            if not sha256_matches(digest, expected):
                partial.unlink(missing_ok=True)
                raise MediaError(f"media {media['id']}: sha256 mismatch, file discarded")
        mime_type = media.get("mime_type") or info.get("mime_type")
        relative = f"{digest[:2]}/{digest}{extension_for(mime_type)}"
        final = self.root / relative
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(partial, final)
        return {"path": relative, "sha256": digest, "size": size, "mime_type": mime_type}
