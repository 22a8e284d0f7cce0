"""The inbox's live channel: an authenticated Socket.IO namespace with rooms per team, agent and case holder."""
from __future__ import annotations

from typing import Any, Protocol

import socketio
import structlog
from socketio.exceptions import ConnectionRefusedError

from handoff.core.permissions import can, can_read_case, can_work_case, sees_all_teams
from handoff.inbox.auth import Auth, Principal, cookie_from_header

log = structlog.get_logger(__name__)
NAMESPACE = "/inbox"
SUPERVISORS = "supervisors"


def team_room(team: str | None) -> str:
    return f"team:{team}"


def agent_room(agent_id: str) -> str:
    return f"agent:{agent_id}"


def case_room(case_id: str, team: str | None, assignee_id: str | None) -> str:
    """Viewers of a case as it is held now: when its team or assignee changes, pushes go to a new room.

    Whoever joined under the old holder hears nothing more until they join again, and joining checks the
    reading rule anew (across workers too, with nothing to close).
    """
    return f"{case_prefix(case_id)}{team or ''}|{assignee_id or ''}"


def case_prefix(case_id: str) -> str:
    return f"case:{case_id}|"


class CaseAccess(Protocol):
    """How the namespace learns a case's team and assignee, and reaches the customer for typing."""

    async def case_owner(self, case_id: str) -> tuple[str | None, str | None] | None: ...

    async def agent_typing(self, principal: Principal, case_id: str, on: bool) -> None: ...


class LiveInbox:
    """Pushes queue, case and timeline changes to the agents allowed to see them."""

    def __init__(self, sio: socketio.AsyncServer, auth: Auth, origins: list[str], cases: CaseAccess) -> None:
        self.sio = sio
        self.auth = auth
        self.origins = set(origins)
        self.cases = cases
        sio.on("connect", self.on_connect, namespace=NAMESPACE)
        sio.on("join_case", self.on_join_case, namespace=NAMESPACE)
        sio.on("leave_case", self.on_leave_case, namespace=NAMESPACE)
        sio.on("typing", self.on_typing, namespace=NAMESPACE)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        """Only a logged-in inbox user from our own pages may connect (cookie + origin)."""
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin.rstrip("/") not in self.origins:
            raise ConnectionRefusedError({"status": 403, "message": "origin not allowed"})
        cookie = cookie_from_header(environ.get("HTTP_COOKIE"))
        principal = await self.auth.principal(cookie)
        if principal is None:
            raise ConnectionRefusedError({"status": 401, "message": "log in first"})
        if not can(principal.agent.role, "inbox"):
            raise ConnectionRefusedError({"status": 403, "message": "this role has no inbox"})
        await self.sio.save_session(sid, {"cookie": cookie}, namespace=NAMESPACE)
        agent = principal.agent
        await self.sio.enter_room(sid, agent_room(agent.id), namespace=NAMESPACE)
        for team in agent.teams or []:
            await self.sio.enter_room(sid, team_room(team), namespace=NAMESPACE)
        if sees_all_teams(agent.role):
            await self.sio.enter_room(sid, SUPERVISORS, namespace=NAMESPACE)

    async def _principal(self, sid: str) -> Principal | None:
        """Re-checked on every event: a logout or a deactivation takes effect at once."""
        session = await self.sio.get_session(sid, namespace=NAMESPACE)
        return await self.auth.principal(session.get("cookie"))

    async def _allowed(self, sid: str, data: Any, *, work: bool) -> tuple[Principal | None, str | None,
                                                                            tuple[str | None, str | None],
                                                                            dict[str, Any]]:
        """The principal, the case id and its holder (team, assignee) when the rule allows; else the error."""
        principal = await self._principal(sid)
        if principal is None:
            return None, None, (None, None), {"error": 401}
        case_id = data.get("case_id") if isinstance(data, dict) else None
        if not isinstance(case_id, str):
            return None, None, (None, None), {"error": 400}
        owner = await self.cases.case_owner(case_id)
        if owner is None:
            return None, None, (None, None), {"error": 404}
        rule = can_work_case if work else can_read_case
        agent = principal.agent
        if not rule(agent.role, agent.id, agent.teams or [], owner[0], owner[1]):
            return None, None, owner, {"error": 403}
        return principal, case_id, owner, {"ok": True}

    async def _leave_case_rooms(self, sid: str, case_id: str) -> None:
        for room in self.sio.rooms(sid, namespace=NAMESPACE):
            if room.startswith(case_prefix(case_id)):
                await self.sio.leave_room(sid, room, namespace=NAMESPACE)

    async def on_join_case(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Follow one case's timeline live (the case view), as the case is held now; asked again when that changes."""
        principal, case_id, owner, answer = await self._allowed(sid, data, work=False)
        if isinstance(data, dict) and isinstance(data.get("case_id"), str):
            await self._leave_case_rooms(sid, data["case_id"])  # a refused or repeated join leaves the old holder's
        if principal is not None and case_id is not None:
            await self.sio.enter_room(sid, case_room(case_id, *owner), namespace=NAMESPACE)
        return answer

    async def on_leave_case(self, sid: str, data: Any = None) -> dict[str, Any]:
        case_id = data.get("case_id") if isinstance(data, dict) else None
        if isinstance(case_id, str):
            await self._leave_case_rooms(sid, case_id)
        return {"ok": True}

    async def on_typing(self, sid: str, data: Any = None) -> dict[str, Any]:
        """The agent's typing indicator, shown on the customer's widget."""
        principal, case_id, _owner, answer = await self._allowed(sid, data, work=True)
        if principal is not None and case_id is not None:
            await self.cases.agent_typing(principal, case_id, bool(data.get("on")))
        return answer

    # ---- pushes -------------------------------------------------------------------------------------------
    async def case_updated(self, summary: dict[str, Any], *, previous_team: str | None = None) -> None:
        """A case entered, moved in or left a queue or someone's plate: its viewers then join again."""
        rooms = [SUPERVISORS, team_room(summary.get("team")),
                 case_room(summary["id"], summary.get("team"), summary.get("assignee_id"))]
        if previous_team and previous_team != summary.get("team"):
            rooms.append(team_room(previous_team))
        if summary.get("assignee_id"):
            rooms.append(agent_room(summary["assignee_id"]))
        await self.sio.emit("case_updated", summary, room=rooms, namespace=NAMESPACE)
        await self.panel_changed()

    async def case_event(self, case_id: str, team: str | None, assignee_id: str | None,
                         event: dict[str, Any]) -> None:
        """A new timeline event: to whoever opened the case as it is held now, and its assignee."""
        rooms = [case_room(case_id, team, assignee_id)] + ([agent_room(assignee_id)] if assignee_id else [])
        await self.sio.emit("case_event", {"case_id": case_id, "event": event}, room=rooms, namespace=NAMESPACE)

    async def commitment_due(self, alert: dict[str, Any], *, team: str | None, agent_ids: list[str]) -> None:
        """A promise came due: its agents and the case's team see the alert; supervisors' panel lists it overdue."""
        rooms = [agent_room(agent_id) for agent_id in agent_ids] + ([team_room(team)] if team else [])
        await self.sio.emit("commitment_due", alert, room=rooms, namespace=NAMESPACE)
        await self.panel_changed()

    async def panel_changed(self) -> None:
        """Presence or load changed: supervisors refresh their panel."""
        await self.sio.emit("panel_changed", {}, room=SUPERVISORS, namespace=NAMESPACE)

    async def disconnect_agent(self, agent_id: str) -> None:
        """Logout: this worker's sockets of the agent go at once; others fail their next event check."""
        participants = list(self.sio.manager.get_participants(NAMESPACE, agent_room(agent_id)))
        for sid, _eio_sid in participants:
            await self.sio.disconnect(sid, namespace=NAMESPACE)
