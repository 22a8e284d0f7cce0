"""The demo page and the widget script, served from the widget build."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse

from handoff.settings import REPO_ROOT
from handoff.web.assets import AssetDirectory

router = APIRouter()
WIDGET = REPO_ROOT / "widget"
# Embeds on other sites name /widget/widget.js: cached five minutes, then revalidated by ETag (a 304, no redirect);
# /widget/widget.<hash>.js is cached for a year.
STABLE_WIDGET_CACHE = "public, max-age=300"
WIDGET_ASSETS = AssetDirectory(WIDGET / "dist", "/widget", stable_cache=STABLE_WIDGET_CACHE,
                               missing_hint="widget/dist/widget.js is missing: run `make setup`")


@router.get("/", include_in_schema=False, response_class=HTMLResponse)
async def demo_page() -> HTMLResponse:
    """A page with the widget on it, to try the assistant (it loads the hashed script)."""
    path = WIDGET / "demo.html"
    if not (WIDGET / "dist" / "widget.js").is_file() or not path.is_file():
        raise HTTPException(404, "widget/dist/widget.js is missing: run `make setup`")
    page = path.read_text("utf-8").replace('src="/widget/widget.js"', f'src="{WIDGET_ASSETS.url("widget.js")}"')
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


@router.api_route("/widget/{name}", methods=["GET", "HEAD"], include_in_schema=False)
async def widget_script(request: Request, name: str) -> Response:
    """The one script a website embeds: /widget/widget.js, or its content-hashed name."""
    return WIDGET_ASSETS.serve(request, name)
