"""Customers' files (WhatsApp photos, voice notes, documents) for the agents allowed to read the case."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from handoff.channels.whatsapp.media import serving, stored_path
from handoff.core import audit
from handoff.core.permissions import may_read_case
from handoff.inbox.deps import InboxUser
from handoff.store.models import Case, TimelineEvent
from handoff.web.deps import SessionsDep, SettingsDep
from handoff.web.errors import errors
from handoff.web.params import EventId

router = APIRouter(prefix="/inbox")
# A file a customer sent is data, never a page: no scripts, no plugins, no sniffing it into HTML.
FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "private, max-age=300", "Cross-Origin-Resource-Policy": "same-origin"}


# The file is served with the type the provider gave it (any), or a JSON refusal.
FILE: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file", "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}}


@router.get("/api/events/{event_id}/media", response_class=FileResponse, responses={**FILE, **errors(401, 403, 404)})
async def event_media(event_id: EventId, principal: InboxUser, sessions: SessionsDep,
                      settings: SettingsDep) -> FileResponse:
    async with sessions() as session, session.begin():
        event = await session.get(TimelineEvent, event_id)
        media = (event.payload or {}).get("media") if event is not None else None
        if event is None or not media:
            raise HTTPException(404, "no file on this event")
        case = await session.get(Case, event.case_id)
        if case is None or not may_read_case(principal.agent, case):
            raise HTTPException(403, "this case belongs to a team you are not in")
        if not media.get("path") or (event.payload or {}).get("media_error"):
            raise HTTPException(404, "the file could not be fetched from the provider")
        path = stored_path(settings.media_dir, str(media["path"]))
        if path is None:
            raise HTTPException(404, "no such stored file")
        if not path.is_file():
            raise HTTPException(404, "the stored file is missing")
        await audit.record(session, principal.actor, "view_media", case_id=case.id, event_id=event.id)
    content_type, disposition = serving(media.get("mime_type"), media.get("filename"))
    return FileResponse(path, media_type=content_type, headers={**FILE_HEADERS, "Content-Disposition": disposition})
