"""Liveness and readiness, for load balancers and `make run`'s own wait."""
from __future__ import annotations

import asyncio
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.settings import Settings
from handoff.web.deps import provided

router = APIRouter()


class Health(BaseModel):
    status: str


class Check(BaseModel):
    ok: bool
    detail: str  # what answered (Rasa: the model file) or why not


class Readiness(BaseModel):
    ready: bool
    missing: list[str]  # the checks that failed, by name: what the service waits for
    checks: dict[str, Check]  # database, rasa, action_server


@router.get("/healthz")
async def healthz() -> Health:
    """Answers while the process lives."""
    return Health(status="ok")


async def _check_database(sessions: async_sessionmaker[AsyncSession]) -> tuple[bool, str]:
    try:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
        return True, "ok"
    except Exception as exc:  # readiness reports every failure instead of raising
        return False, type(exc).__name__


async def _check_rasa(client: httpx.AsyncClient, rasa_url: str, token: str | None) -> tuple[bool, str]:
    try:
        response = await client.get(f"{rasa_url}/status", params={"token": token} if token else None)
        if response.status_code != 200:
            return False, f"HTTP {response.status_code}"
        model = response.json().get("model_file")
        return (True, model) if model else (False, "no model loaded")
    except (httpx.HTTPError, ValueError) as exc:
        return False, type(exc).__name__


async def check_rasa_replicas(client: httpx.AsyncClient, urls: list[str], token: str | None) -> tuple[bool, str]:
    """Ready when any replica answers with a model (the others' cases fail over to it); one replica: its own detail."""
    results = await asyncio.gather(*(_check_rasa(client, url, token) for url in urls))
    if len(results) == 1:
        return results[0]
    answering = [detail for ok, detail in results if ok]
    # replicas by their place in RASA_URLS: /readyz is public, the internal addresses are not
    down = ", ".join(f"#{place} {detail}" for place, (ok, detail) in enumerate(results, 1) if not ok)
    summary = f"{len(answering)} of {len(urls)} replicas answer" + (f" (down: {down})" if down else "")
    return bool(answering), f"{answering[0]}; {summary}" if answering else summary


async def _check_actions(client: httpx.AsyncClient, action_url: str) -> tuple[bool, str]:
    try:
        response = await client.get(f"{action_url}/health")
        return response.status_code == 200, f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        return False, type(exc).__name__


class ReadinessProbe:
    """Asks the database, the replicas and the action server, over one HTTP client kept for the process: the
    balancer probes every worker each second, and a client per probe cost a TLS context (~5 % of a busy worker)."""

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.rasa_urls = settings.rasa_replicas
        self.rasa_token = settings.rasa_token
        self.action_url = settings.action_server_url.rstrip("/")
        self._client = httpx.AsyncClient(timeout=2.0)

    async def check(self) -> Readiness:
        database, rasa, actions = await asyncio.gather(
            _check_database(self.sessions),
            check_rasa_replicas(self._client, self.rasa_urls, self.rasa_token),
            _check_actions(self._client, self.action_url),
        )
        checks = {name: Check(ok=ok, detail=detail)
                  for name, (ok, detail) in {"database": database, "rasa": rasa, "action_server": actions}.items()}
        missing = [name for name, check in checks.items() if not check.ok]
        return Readiness(ready=not missing, missing=missing, checks=checks)

    async def aclose(self) -> None:
        await self._client.aclose()


ProbeDep = Annotated[ReadinessProbe, Depends(provided(ReadinessProbe))]


@router.get("/readyz", responses={503: {"model": Readiness, "description": "Not ready"}})
async def readyz(response: Response, probe: ProbeDep) -> Readiness:
    """200 only when the database, Rasa with a model (one replica is enough) and the action server answer."""
    readiness = await probe.check()
    response.status_code = 200 if readiness.ready else 503
    return readiness
