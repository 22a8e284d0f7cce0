"""Typed FastAPI dependencies: a route names the object it needs by type, and the app factory wired it once.

Imports only the core, the store and the settings, so routers of every layer (channels, inbox, reports, web) can
use it; each folder declares its own typed aliases next to its routes with `provided`.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.operations import Operations
from handoff.settings import Settings

T = TypeVar("T")


class Services:
    """The process's objects a route may ask for, at most one per type, registered once by the app factory."""

    def __init__(self, *objects: object) -> None:
        self._by_type: dict[type[Any], object] = {}
        for found in objects:
            if type(found) in self._by_type:
                raise ValueError(f"two {type(found).__name__} objects given; a route could not tell which")
            self._by_type[type(found)] = found

    def get(self, kind: type[T]) -> T:
        """The one object of exactly this type; a missing one is a wiring bug, not a request error."""
        if kind not in self._by_type:
            raise LookupError(f"no {kind.__name__} was registered with the app")
        return cast(T, self._by_type[kind])  # keyed by the object's own type


def provided(kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency answering the app's object of this type (async: no thread hop per request)."""
    async def dependency(request: Request) -> T:
        services: Services = request.app.state.services
        return services.get(kind)
    return dependency


SettingsDep = Annotated[Settings, Depends(provided(Settings))]
SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(provided(async_sessionmaker))]
OperationsDep = Annotated[Operations, Depends(provided(Operations))]
