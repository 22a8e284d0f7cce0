"""Static files compressed once and served under content-hashed URLs (a year's immutable cache) and stable names."""
from __future__ import annotations

import gzip
import hashlib
import os
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request, Response

IMMUTABLE = "public, max-age=31536000, immutable"
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
               ".json": "application/json", ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml",
               ".png": "image/png", ".ico": "image/x-icon", ".map": "application/json"}
COMPRESSIBLE = (".js", ".css", ".json", ".html", ".svg", ".map")
# A quoted reference: "./x.js", "../x.js" or "/prefix/x.js" (imports, src=, href=); template strings stay as they are.
QUOTED = re.compile(r"""(["'])((?:\.{1,2}/|/)[^"'\s<>`$]*)\1""")
HASH_CHARS = 10


@dataclass(frozen=True)
class Asset:
    """One representation set of a file: its bytes, their gzip (None when it does not pay) and its ETag."""

    body: bytes
    gzipped: bytes | None
    etag: str
    media_type: str


# ---- pure decisions ------------------------------------------------------------------------------------------
def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hashed_name(name: str, content_hash: str) -> str:
    """`dir/app.js` → `dir/app.<hash>.js`: the hash goes before the last suffix, so the type stays readable."""
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{content_hash}.{suffix}" if dot else f"{name}.{content_hash}"


def resolve(source: str, reference: str, prefix: str) -> str | None:
    """The file name a quoted reference in `source` points to, relative to the directory (None: outside it)."""
    if reference.startswith(prefix + "/"):
        return reference[len(prefix) + 1:]
    if reference.startswith("."):
        target = posixpath.normpath(posixpath.join(posixpath.dirname(source), reference))
        return None if target.startswith("..") else target
    return None


def references(source: str, text: str, names: Iterable[str], prefix: str) -> set[str]:
    known = set(names)
    found = {resolve(source, match.group(2), prefix) for match in QUOTED.finditer(text)}
    return {name for name in found if name in known and name != source}


def closure(start: str, graph: Mapping[str, set[str]]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for target in graph.get(todo.pop(), set()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def link(files: Mapping[str, bytes], prefix: str) -> tuple[dict[str, str], dict[str, bytes]]:
    """Each file's hashed name and its text with references rewritten to hashed URLs.

    A file's hash covers its own bytes and every file it reaches (imports, stylesheets): change a module and the
    URL of every module that imports it, directly or not, changes too. Cycles are fine (a closure is a set).
    """
    texts = {name: data.decode("utf-8") for name, data in files.items() if name.endswith(COMPRESSIBLE)}
    graph = {name: references(name, text, files, prefix) for name, text in texts.items()}
    own = {name: digest(data) for name, data in files.items()}
    hashed: dict[str, str] = {}
    for name in files:
        reached = sorted(closure(name, graph))
        combined = digest("".join(f"{other}\0{own[other]}\n" for other in reached).encode())
        hashed[name] = name if name.endswith(".html") else hashed_name(name, combined[:HASH_CHARS])

    def rewrite(source: str, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            target = resolve(source, match.group(2), prefix)
            if target is None or target not in hashed or target == source:
                return match.group(0)
            return f"{match.group(1)}{prefix}/{hashed[target]}{match.group(1)}"
        return QUOTED.sub(one, text)

    linked = {name: rewrite(name, texts[name]).encode("utf-8") if name in texts else data
              for name, data in files.items()}
    return hashed, linked


def compress(name: str, body: bytes) -> bytes | None:
    """gzip at level 9 once, with a fixed mtime (the same bytes every start); None when it would not save a packet."""
    if not name.endswith(COMPRESSIBLE) or len(body) < 256:
        return None
    packed = gzip.compress(body, compresslevel=9, mtime=0)
    return packed if len(packed) < len(body) - 64 else None


def media_type(name: str) -> str:
    return MEDIA_TYPES.get(posixpath.splitext(name)[1], "application/octet-stream")


def accepts_gzip(accept_encoding: str) -> bool:
    """Accept-Encoding names gzip (or *) with a q above 0."""
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = params.strip().lower()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def etag_matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match by weak comparison (a proxy may weaken the tag, or add an encoding suffix)."""
    if if_none_match.strip() == "*":
        return True
    bare = etag.strip('"')
    for tag in if_none_match.split(","):
        value = tag.strip().removeprefix("W/").strip('"')
        if value == bare or value.split("-")[0] == bare:
            return True
    return False


# ---- the edges: files in, responses out -----------------------------------------------------------------------
def respond(request: Request, asset: Asset, cache_control: str, extra: Mapping[str, str] | None = None) -> Response:
    """200 with the best encoding the client accepts, 304 when its copy is current; HEAD gets the headers only."""
    use_gzip = asset.gzipped is not None and accepts_gzip(request.headers.get("accept-encoding", ""))
    etag = f'"{asset.etag}-gz"' if use_gzip else f'"{asset.etag}"'
    headers = {"Cache-Control": cache_control, "ETag": etag, "Vary": "Accept-Encoding", **(extra or {})}
    if etag_matches(request.headers.get("if-none-match", ""), asset.etag):
        return Response(status_code=304, headers=headers)
    body = asset.gzipped if use_gzip and asset.gzipped is not None else asset.body
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
    headers["Content-Length"] = str(len(body))
    return Response(b"" if request.method == "HEAD" else body, media_type=asset.media_type, headers=headers)


@dataclass(frozen=True)
class Built:
    """One scan of a directory: assets by their stable and their hashed names."""

    signature: tuple[tuple[str, int, int], ...]
    hashed: dict[str, str]
    stable: dict[str, Asset]
    immutable: dict[str, Asset]


class AssetDirectory:
    """A directory served under a URL prefix; rebuilt when a file in it changes (developers edit and reload)."""

    def __init__(self, directory: Path, prefix: str, *, stable_cache: str = "no-cache",
                 missing_hint: str = "") -> None:
        self.directory = directory
        self.prefix = prefix.rstrip("/")
        self.stable_cache = stable_cache
        self.missing_hint = missing_hint
        self.built: Built | None = None
        self.earlier: dict[str, Asset] = {}  # hashed names of earlier builds: pages loaded before an edit still work

    def _signature(self) -> tuple[tuple[str, int, int], ...]:
        found = []
        for root, _dirs, names in os.walk(self.directory):
            for name in names:
                stat = os.stat(os.path.join(root, name))
                relative = os.path.relpath(os.path.join(root, name), self.directory).replace(os.sep, "/")
                found.append((relative, stat.st_mtime_ns, stat.st_size))
        return tuple(sorted(found))

    def current(self) -> Built:
        """The assets as the files are now: a directory scan (stat only) unless nothing changed."""
        signature = self._signature()
        if self.built is not None and self.built.signature == signature:
            return self.built
        files = {name: (self.directory / name).read_bytes() for name, _mtime, _size in signature}
        hashed, linked = link(files, self.prefix)
        stable: dict[str, Asset] = {}
        immutable: dict[str, Asset] = {}
        for name, body in linked.items():
            asset = Asset(body, compress(name, body), digest(body)[:16], media_type(name))
            stable[name] = asset
            immutable[hashed[name]] = asset
        if self.built is not None:
            self.earlier.update(self.built.immutable)
        self.built = Built(signature, hashed, stable, immutable)
        return self.built

    def url(self, name: str) -> str:
        """The content-hashed URL of a file (for pages and embed snippets)."""
        return f"{self.prefix}/{self.current().hashed[name]}"

    def serve(self, request: Request, path: str, extra: Mapping[str, str] | None = None) -> Response:
        """A hashed name: cached for a year; a stable name: the site's short cache, revalidated by ETag."""
        built = self.built if self.built is not None else self.current()
        if path in built.immutable and path not in built.stable:
            return respond(request, built.immutable[path], IMMUTABLE, extra)
        built = self.current()  # a stable name, or a hashed one of a build this process has not seen yet
        if path in built.stable:
            return respond(request, built.stable[path], self.stable_cache, extra)
        asset = built.immutable.get(path) or self.earlier.get(path)
        if asset is None:
            raise HTTPException(404, "not found" if self.directory.is_dir() else self.missing_hint or "not found")
        return respond(request, asset, IMMUTABLE, extra)
