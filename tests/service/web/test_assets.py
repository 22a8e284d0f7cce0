"""Static assets: compressed once, content-hashed URLs cached for a year, stable names revalidated by ETag."""
from __future__ import annotations

import gzip
import re
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from handoff.app import create_app
from handoff.settings import Settings
from handoff.web.assets import IMMUTABLE, AssetDirectory, accepts_gzip, etag_matches, link
from tests.service.support.processes import free_port

REPO = Path(__file__).resolve().parents[3]
WIDGET_JS = REPO / "widget" / "dist" / "widget.js"
GZIP = {"Accept-Encoding": "gzip, deflate, br"}
HASHED = re.compile(r'"(/inbox/static/[\w/.-]+\.[0-9a-f]{10}\.(?:js|css))"')


def test_a_change_in_an_imported_module_changes_the_url_of_every_module_that_reaches_it() -> None:
    files = {"app.js": b'import { a } from "./a.js";\nimport "/s/lib/b.js";\nconst t = `/s/i18n/${x}.json`;',
             "a.js": b'import { b } from "./lib/b.js";', "lib/b.js": b'import { a } from "../a.js"; // a cycle',
             "page.html": b'<script type="module" src="/s/app.js"></script>', "alone.js": b"1"}
    hashed, linked = link(files, "/s")
    assert re.fullmatch(r"app\.[0-9a-f]{10}\.js", hashed["app.js"]) and hashed["page.html"] == "page.html"
    assert linked["page.html"].decode() == f'<script type="module" src="/s/{hashed["app.js"]}"></script>'
    assert f'from "/s/{hashed["a.js"]}"' in linked["app.js"].decode()
    assert f'import "/s/{hashed["lib/b.js"]}"' in linked["app.js"].decode()
    assert "`/s/i18n/${x}.json`" in linked["app.js"].decode()  # a template string stays: revalidated by ETag
    changed, _ = link({**files, "lib/b.js": b'import { a } from "../a.js"; // edited'}, "/s")
    assert all(changed[name] != hashed[name] for name in ("app.js", "a.js", "lib/b.js"))
    assert changed["alone.js"] == hashed["alone.js"]


def test_encodings_and_validators_are_read_as_http_says() -> None:
    assert accepts_gzip("gzip, deflate, br") and accepts_gzip("br;q=1.0, gzip;q=0.5") and accepts_gzip("*")
    assert not accepts_gzip("") and not accepts_gzip("identity") and not accepts_gzip("gzip;q=0")
    assert etag_matches('"abc"', '"abc"') and etag_matches('W/"abc-gz"', "abc") and etag_matches("*", "abc")
    assert etag_matches('"zzz", "abc"', "abc") and not etag_matches('"abd"', "abc") and not etag_matches("", "abc")


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    (tmp_path / "app.js").write_text('import { x } from "./x.js";\n' + "const long = 'padding';\n" * 100)
    (tmp_path / "x.js").write_text("export const x = 1;\n")
    (tmp_path / "page.html").write_text('<script type="module" src="/s/app.js"></script>')
    return tmp_path


@pytest.fixture
def client(directory: Path) -> httpx.AsyncClient:
    assets = AssetDirectory(directory, "/s")
    api = FastAPI()

    @api.api_route("/s/{path:path}", methods=["GET", "HEAD"])
    async def serve(request: Request, path: str) -> Response:
        return assets.serve(request, path)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://assets")


async def test_hashed_names_are_immutable_gzipped_and_answer_304_and_head(directory: Path,
                                                                          client: httpx.AsyncClient) -> None:
    page = (await client.get("/s/page.html")).text
    url = re.search(r'src="(/s/app\.[0-9a-f]{10}\.js)"', page)
    assert url, page
    plain = await client.get(url[1], headers={"Accept-Encoding": "identity"})
    assert plain.headers["cache-control"] == IMMUTABLE and plain.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in plain.headers and plain.headers["content-type"].startswith("text/javascript")
    packed = await client.get(url[1], headers=GZIP)
    assert packed.headers["content-encoding"] == "gzip"
    # httpx decodes the body: the gzip that travelled is smaller and decodes to the same bytes
    assert packed.content == plain.content and int(packed.headers["content-length"]) < len(plain.content) / 3
    assert re.search(r'from "/s/x\.[0-9a-f]{10}\.js"', plain.text)
    again = await client.get(url[1], headers={**GZIP, "If-None-Match": packed.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == packed.headers["etag"]
    head = await client.head(url[1], headers=GZIP)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == packed.headers["content-length"]

    stable = await client.get("/s/app.js", headers=GZIP)
    assert stable.headers["cache-control"] == "no-cache" and stable.content == plain.content
    assert (await client.get("/s/app.js", headers={"If-None-Match": stable.headers["etag"]})).status_code == 304

    time.sleep(0.01)  # a new mtime even on coarse clocks
    (directory / "x.js").write_text("export const x = 2;\n")
    edited = re.search(r'src="(/s/app\.[0-9a-f]{10}\.js)"', (await client.get("/s/page.html")).text)
    assert edited and edited[1] != url[1]
    assert (await client.get(url[1])).status_code == 200  # a page loaded before the edit still gets its modules
    assert (await client.get("/s/app.0123456789.js")).status_code == 404
    assert (await client.get("/s/../page.html")).status_code == 404


def served_app(tmp_path: Path) -> httpx.AsyncClient:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
                        rasa_url=f"http://127.0.0.1:{free_port()}", action_server_url=f"http://127.0.0.1:{free_port()}",
                        bot_retries=0, media_dir=tmp_path / "media", secret_key="k" * 32, log_json=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings).other_asgi_app),
                             base_url="http://service")


async def test_the_inbox_page_names_hashed_modules_that_all_resolve(tmp_path: Path) -> None:
    async with served_app(tmp_path) as client:
        page = await client.get("/inbox", headers=GZIP)
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        assert page.headers["cache-control"] == "no-cache" and page.headers["content-encoding"] == "gzip"
        names = set(HASHED.findall(page.text))
        assert any(re.fullmatch(r"/inbox/static/app\.[0-9a-f]{10}\.js", n) for n in names), names
        assert any(n.endswith(".css") for n in names), names
        seen: set[str] = set()
        while names - seen:  # every module the page reaches, through hashed imports only
            url = sorted(names - seen)[0]
            seen.add(url)
            answer = await client.get(url, headers=GZIP)
            assert answer.status_code == 200 and answer.headers["cache-control"] == IMMUTABLE, url
            assert not re.search(r'from "\./', answer.text), url  # no import left on a stable name
            names |= set(HASHED.findall(answer.text))
        assert any("/vendor/socket.io.esm.min." in url for url in seen) and len(seen) > 20
        for page_url in ("/inbox/reports", "/inbox/qa", "/inbox/integrations"):
            assert HASHED.search((await client.get(page_url)).text), page_url
        catalogue = await client.get("/inbox/static/i18n/en.json", headers=GZIP)
        assert catalogue.headers["cache-control"] == "no-cache"
        assert catalogue.json()["a11y.skip"] == "Skip to the content"


@pytest.mark.skipif(not WIDGET_JS.is_file(), reason="widget/dist/widget.js is not built (run `make setup`)")
async def test_the_widget_script_stable_and_hashed(tmp_path: Path) -> None:
    built = WIDGET_JS.read_bytes()
    async with served_app(tmp_path) as client:
        stable = await client.get("/widget/widget.js", headers=GZIP)
        assert stable.status_code == 200 and stable.content == built  # gzip decodes to the built bytes
        assert stable.headers["content-encoding"] == "gzip" and stable.headers["vary"] == "Accept-Encoding"
        assert stable.headers["cache-control"] == "public, max-age=300" and stable.headers["etag"]
        revalidated = await client.get("/widget/widget.js", headers={**GZIP, "If-None-Match": stable.headers["etag"]})
        assert revalidated.status_code == 304 and revalidated.content == b""
        head = await client.head("/widget/widget.js", headers={"Accept-Encoding": "identity"})
        assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) == len(built)
        demo = (await client.get("/")).text
        hashed = re.search(r'<script src="(/widget/widget\.[0-9a-f]{10}\.js)"', demo)
        assert hashed, demo
        forever = await client.get(hashed[1], headers=GZIP)
        assert forever.headers["cache-control"] == IMMUTABLE and forever.content == built
        assert (await client.get("/widget/widget.0123456789.js")).status_code == 404


@pytest.mark.skipif(not WIDGET_JS.is_file(), reason="widget/dist/widget.js is not built (run `make setup`)")
def test_the_widget_bundle_stays_under_25_kb_compressed() -> None:
    size = len(gzip.compress(WIDGET_JS.read_bytes(), compresslevel=9, mtime=0))
    assert size < 25 * 1024, f"widget.js is {size} bytes gzipped"
