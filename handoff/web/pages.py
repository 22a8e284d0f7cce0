"""The demo page and the widget script, served from the widget build."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from handoff.settings import REPO_ROOT

router = APIRouter()
WIDGET = REPO_ROOT / "widget"


def _file(path: Path, media_type: str) -> FileResponse:
    if not path.is_file():
        raise HTTPException(404, f"{path.relative_to(REPO_ROOT)} is missing: run `make setup`")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})


@router.get("/", include_in_schema=False, response_class=FileResponse)
async def demo_page() -> FileResponse:
    """A page with the widget on it, to try the assistant."""
    return _file(WIDGET / "demo.html", "text/html; charset=utf-8")


@router.get("/widget/widget.js", include_in_schema=False, response_class=FileResponse)
async def widget_script() -> FileResponse:
    """The one script a website embeds."""
    return _file(WIDGET / "dist" / "widget.js", "application/javascript; charset=utf-8")
