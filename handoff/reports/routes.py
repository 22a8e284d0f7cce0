"""Supervisor and designer endpoints under /inbox/api: thin, each asks for its role and calls a report module."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core import audit
from handoff.inbox.auth import Principal
from handoff.inbox.deps import Designer, Supervisor
from handoff.inbox.routes import ASSETS, PAGE_HEADERS
from handoff.reports import nlu_export, nlu_samples, transitions
from handoff.reports.audit_export import export_case, render_html
from handoff.reports.loader import dashboard
from handoff.reports.notifications import notification_report
from handoff.reports.schemas import (
    CaseExport,
    KpiReport,
    NluSample,
    NotificationReport,
    ReviewedTransition,
    StaffingReport,
    Transition,
)
from handoff.reports.staffing import INTERVALS
from handoff.reports.staffing_loader import StaffingQuery, staffing_report
from handoff.settings import REPO_ROOT
from handoff.web.body_limit import TOO_LARGE
from handoff.web.deps import OperationsDep, SessionsDep
from handoff.web.errors import errors, invalid, refusal
from handoff.web.params import CaseId, Day, HandoffId, Moment, Name, SampleId

router = APIRouter(prefix="/inbox")
BOT_DATA = REPO_ROOT / "bot" / "data"


class YamlDownload(PlainTextResponse):
    media_type = "application/x-yaml"


# Rasa's training-data format: a version and the annotated examples (null when there are none yet).
NLU_DATA = {"type": "object", "required": ["version", "nlu"],
            "properties": {"version": {"type": "string"},
                           "nlu": {"type": ["array", "null"], "items": {"type": "object"}}}}
NLU_FILE: dict[int | str, dict[str, Any]] = {
    200: {"description": "Rasa NLU training data", "content": {YamlDownload.media_type: {"schema": NLU_DATA}}}}


@router.api_route("/reports", methods=["GET", "HEAD"], include_in_schema=False)
async def reports_page(request: Request) -> Response:
    """The transition review and the designers' review list (the KPI dashboard is a view of /inbox)."""
    return ASSETS.serve(request, "reports.html", PAGE_HEADERS)


def local_day_start(day: date, zone: str) -> datetime:
    """Midnight of a local day (operations.yml timezone) as UTC, the store's clock."""
    return datetime.combine(day, time.min, ZoneInfo(zone)).astimezone(timezone.utc)


@router.get("/api/reports/kpis", response_model=KpiReport, responses=errors(401, 403))
async def kpis(start: Day, end: Day, principal: Supervisor, operations: OperationsDep,
               sessions: SessionsDep) -> dict[str, Any]:
    """KPIs for local days start..end inclusive, recomputed from the rows."""
    if end < start or (end - start).days > 366:
        raise invalid(("query", "end"), "end must be on or after start, at most a year later", end.isoformat())
    async with sessions() as session:
        return await dashboard(session, operations, local_day_start(start, operations.timezone),
                               local_day_start(end + timedelta(days=1), operations.timezone))


@router.get("/api/reports/notifications", response_model=NotificationReport, responses=errors(401, 403))
async def notifications(start: Day, end: Day, principal: Supervisor, operations: OperationsDep,
                        sessions: SessionsDep) -> dict[str, Any]:
    """Notifications asked for on local days start..end inclusive, per template: sent, delivered, read, answered,
    opt-outs after them and replies that reached people."""
    if end < start or (end - start).days > 366:
        raise invalid(("query", "end"), "end must be on or after start, at most a year later", end.isoformat())
    async with sessions() as session:
        return await notification_report(session, local_day_start(start, operations.timezone),
                                         local_day_start(end + timedelta(days=1), operations.timezone))


STAFFING_DAYS = 92  # a quarter of 15-minute intervals at most


@router.get("/api/reports/staffing", response_model=StaffingReport, responses=errors(401, 403))
async def staffing(start: Day, end: Day, principal: Supervisor, operations: OperationsDep, sessions: SessionsDep,
                   interval_minutes: Annotated[int, Query(description="15, 30 or 60")] = 30, channel: Name = None,
                   team: Name = None) -> Response:
    """Contacts offered, handle time, agents required by Erlang C and agents online per interval of local days
    start..end inclusive, and the seasonal forecast of the week after (README: Staffing)."""
    if interval_minutes not in INTERVALS:
        raise invalid(("query", "interval_minutes"), "must be 15, 30 or 60", interval_minutes)
    if end < start or (end - start).days >= STAFFING_DAYS:
        raise invalid(("query", "end"), f"end must be on or after start, at most {STAFFING_DAYS} days in all",
                      end.isoformat())
    wanted = StaffingQuery(local_day_start(start, operations.timezone),
                           local_day_start(end + timedelta(days=1), operations.timezone), interval_minutes,
                           channel or None, team)
    async with sessions() as session:
        report = await staffing_report(session, operations, wanted)
    # Up to 100,000 intervals: checked and encoded once by the model (FastAPI would validate, convert, then dump).
    return Response(StaffingReport.model_validate(report).model_dump_json(), media_type="application/json")


@router.get("/api/transitions", response_model=list[Transition], responses=errors(401, 403))
async def list_transitions(principal: Supervisor, sessions: SessionsDep, start: Moment = None, end: Moment = None,
                           channel: Name = None, team: Name = None, reason: Name = None, intent: Name = None,
                           direction: Name = None, tagged: bool | None = None) -> list[dict[str, Any]]:
    wanted = transitions.TransitionFilter(start, end, channel, team, reason, intent, direction, tagged)
    async with sessions() as session:
        return await transitions.list_transitions(session, wanted)


class Review(BaseModel):
    tag: transitions.ReviewTag  # typed, so the schema lists the four verdicts
    note: str | None = Field(default=None, max_length=4000)


@router.post("/api/transitions/{handoff_id}/review", response_model=ReviewedTransition,
             responses={**TOO_LARGE, **errors(400, 401, 403, 404)})
async def review(handoff_id: HandoffId, body: Review, principal: Supervisor, sessions: SessionsDep) -> dict[str, Any]:
    try:
        async with sessions() as session, session.begin():
            return await transitions.tag_transition(session, handoff_id, body.tag, body.note, actor=principal.actor)
    except transitions.ReviewError as exc:
        raise refusal(exc.status, exc.message, ("body", "tag"), body.tag) from exc


async def _export(sessions: async_sessionmaker[AsyncSession], case_id: str, principal: Principal) -> dict[str, Any]:
    async with sessions() as session, session.begin():
        document = await export_case(session, case_id)
        if document is None:
            raise HTTPException(404, "no such case")
        await audit.record(session, principal.actor, "export", case_id=case_id)
    return document


# JSONResponse: a downloaded document keeps the bytes json.dumps gave it before it had a model.
@router.get("/api/cases/{case_id}/export.json", response_model=CaseExport, response_class=JSONResponse,
            response_model_exclude_unset=True,  # payload_exact only where the export carries it
            responses=errors(401, 403, 404))
async def export_json(case_id: CaseId, response: Response, principal: Supervisor,
                      sessions: SessionsDep) -> dict[str, Any]:
    document = await _export(sessions, case_id, principal)
    response.headers["Content-Disposition"] = f'attachment; filename="case-{case_id}.json"'
    return document


@router.get("/api/cases/{case_id}/export.html", response_class=HTMLResponse, responses=errors(401, 403, 404))
async def export_html(case_id: CaseId, principal: Supervisor, sessions: SessionsDep) -> HTMLResponse:
    document = await _export(sessions, case_id, principal)
    return HTMLResponse(render_html(document), headers=PAGE_HEADERS)


@router.get("/api/nlu-samples", response_model=list[NluSample], responses=errors(401, 403))
async def samples(principal: Designer, sessions: SessionsDep, status: Name = "open") -> list[dict[str, Any]]:
    async with sessions() as session:
        return await nlu_samples.review_list(session, status or None)


class Label(BaseModel):
    intent: str | None = Field(default=None, max_length=64)
    dismiss: bool = False
    text: str | None = Field(default=None, max_length=2000)


@router.post("/api/nlu-samples/{sample_id}", response_model=NluSample,
             responses={**TOO_LARGE, **errors(400, 401, 403, 404)})
async def label(sample_id: SampleId, body: Label, principal: Designer, sessions: SessionsDep) -> dict[str, Any]:
    try:
        async with sessions() as session, session.begin():
            return await nlu_samples.label(session, sample_id, intent=body.intent, dismiss=body.dismiss,
                                           actor=principal.actor, text=body.text)
    except nlu_samples.SampleError as exc:
        raise refusal(exc.status, exc.message, ("body", "intent"), body.intent) from exc


@router.get("/api/nlu-export.yml", response_class=YamlDownload, responses={**NLU_FILE, **errors(401, 403)})
async def export_yaml(principal: Designer, sessions: SessionsDep) -> YamlDownload:
    """The annotated examples not yet in bot/data, as a Rasa YAML file to download."""
    async with sessions() as session:
        body = await nlu_export.download(session, BOT_DATA)
    return YamlDownload(body, headers={"Content-Disposition": 'attachment; filename="nlu_reviewed.yml"'})
