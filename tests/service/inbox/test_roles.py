"""Every inbox endpoint and Socket.IO event refuses the wrong role (401/403), and teams fence cases."""
from __future__ import annotations

import io
import uuid

import pytest
import socketio

from handoff.cli import build_parser
from handoff.inbox.agents_cli import create_agent_command
from handoff.settings import Settings
from tests.service.inbox.support import AgentClient, InboxSocket, create_agent, create_agent_with_cli
from tests.service.support.webchat_client import Visitor

CASE = "CASE"
ENDPOINTS = [  # (method, path, body, permission)
    ("GET", "/me", None, "anyone"),
    ("POST", "/logout", {}, "anyone"),
    ("POST", "/presence", {"presence": "away"}, "inbox"),
    ("GET", "/queue", None, "inbox"),
    ("GET", "/mine", None, "inbox"),
    ("GET", "/options", None, "inbox"),
    ("GET", f"/cases/{CASE}", None, "inbox"),
    ("POST", f"/cases/{CASE}/accept", {}, "work"),
    ("POST", f"/cases/{CASE}/reply", {"text": "hola"}, "work"),
    ("POST", f"/cases/{CASE}/note", {"text": "nota"}, "work"),
    ("POST", f"/cases/{CASE}/transfer", {"team": "care"}, "work"),
    ("POST", f"/cases/{CASE}/resolve", {"disposition": "resolved"}, "work"),
    ("POST", f"/cases/{CASE}/return", {}, "work"),
    ("GET", "/search?q=maria", None, "inbox"),
    ("GET", "/cases?team=care", None, "inbox"),
    ("GET", "/case-filters", None, "inbox"),
    ("GET", "/supervisor", None, "supervise"),
    ("GET", "/agents", None, "supervise"),
    ("POST", "/agents", {"email": "x@example.com", "name": "X", "role": "agent", "teams": ["care"],
                         "password": "long enough password"}, "manage_agents"),
    ("GET", "/qa/queue", None, "review_quality"),
    ("GET", f"/qa/cases/{CASE}", None, "review_quality"),
    ("POST", f"/qa/cases/{CASE}/reviews", {"scores": {}}, "review_quality"),
    ("GET", "/qa/trends", None, "review_quality"),
    ("GET", "/qa/mine", None, "anyone"),
]
ALLOWED = {
    "anyone": {"agent", "supervisor", "designer", "reviewer", "admin"},
    "inbox": {"agent", "supervisor", "admin"},
    "work": {"agent", "supervisor", "admin"},
    "supervise": {"supervisor", "admin"},
    "manage_agents": {"admin"},
    "review_quality": {"supervisor", "reviewer", "admin"},
}


def email(role: str) -> str:
    return f"{role}-{uuid.uuid4().hex[:8]}@example.com"


async def logged_in(service, role: str, teams: str = "care") -> AgentClient:
    address = email(role)
    create_agent(service.database_url, address, role=role, teams=teams)
    client = AgentClient(service.base_url)
    assert (await client.login(address)).status_code == 200
    return client


async def call(client: AgentClient, method: str, path: str, body, *, csrf: bool = True):
    if method == "GET":
        return await client.get(path)
    return await client.post(path, body, csrf=csrf)


async def test_without_a_session_every_endpoint_answers_401(inbox_service) -> None:
    anonymous = AgentClient(inbox_service.base_url)
    for method, path, body, _permission in ENDPOINTS:
        response = await call(anonymous, method, path, body)
        assert response.status_code == 401, (method, path, response.status_code)
    await anonymous.close()


async def test_the_command_line_creates_an_account_that_signs_in(inbox_service) -> None:
    address = email("supervisor")
    created = create_agent_with_cli(inbox_service.database_url, address, role="supervisor", teams="care,returns")
    assert created.returncode == 0 and created.stdout.startswith(f"created supervisor {address} ("), created.stderr
    client = AgentClient(inbox_service.base_url)
    assert (await client.login(address)).status_code == 200
    assert (client.me["role"], sorted(client.me["teams"])) == ("supervisor", ["care", "returns"])
    await client.close()


def test_the_command_line_refuses_a_short_password(inbox_service, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The same command's parser and handler in-process, the password on stdin."""
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    args = build_parser().parse_args(["agents", "create", "--email", email("agent"), "--name", "Short",
                                      "--role", "agent", "--teams", "care"])
    assert create_agent_command(Settings(database_url=inbox_service.database_url), args) == 2
    assert "at least 10 characters" in capsys.readouterr().err


@pytest.mark.parametrize("role", ["agent", "supervisor", "designer", "reviewer", "admin"])
async def test_each_role_gets_403_where_it_has_no_permission(inbox_service, role: str) -> None:
    client = await logged_in(inbox_service, role)
    for method, path, body, permission in ENDPOINTS:
        if path == "/logout":
            continue
        response = await call(client, method, path, body)
        if role in ALLOWED[permission]:
            assert response.status_code not in (401, 403), (role, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
    await client.post("/logout")
    await client.close()


async def test_state_changes_without_the_csrf_header_are_refused(inbox_service) -> None:
    admin = await logged_in(inbox_service, "admin")
    for method, path, body, _permission in ENDPOINTS:
        if method == "POST":
            response = await call(admin, method, path, body, csrf=False)
            assert response.status_code == 403 and "CSRF" in response.text, (path, response.text)
    await admin.post("/logout")
    await admin.close()


async def test_logout_revokes_the_cookie_and_wrong_passwords_are_refused(inbox_service) -> None:
    agent = await logged_in(inbox_service, "agent")
    assert (await agent.get("/me")).status_code == 200
    assert (await agent.post("/logout")).status_code == 200
    stale = AgentClient(inbox_service.base_url)
    stale.http.cookies.update(agent.http.cookies)
    assert (await agent.get("/me")).status_code == 401
    wrong = AgentClient(inbox_service.base_url)
    assert (await wrong.login(agent.me["email"], "not the password")).status_code == 401
    assert (await wrong.login("nobody@example.com", "not the password")).status_code == 401
    for client in (agent, stale, wrong):
        await client.close()


async def test_the_inbox_socket_refuses_anonymous_and_designer_connections(inbox_service) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        await InboxSocket(inbox_service.base_url, None).connect()
    designer = await logged_in(inbox_service, "designer")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await InboxSocket(inbox_service.base_url, designer.cookie_header()).connect()
    forged = InboxSocket(inbox_service.base_url, "frontdoor_inbox=abc.def")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await forged.connect()
    await designer.close()


async def test_an_agent_cannot_read_another_teams_case_unless_it_is_assigned_to_them(inbox_service) -> None:
    supervisor = await logged_in(inbox_service, "supervisor")
    outsider = await logged_in(inbox_service, "agent", teams="fraud")
    visitor = Visitor(inbox_service.base_url)
    await visitor.connect()
    await visitor.say("hola", metadata={"language": "es"})
    queue = (await supervisor.get("/queue")).json()
    case_id = next(item["id"] for item in queue)
    assert (await supervisor.post(f"/cases/{case_id}/transfer", {"team": "returns"})).status_code == 200

    for method, path, body, _permission in ENDPOINTS:
        if "/cases/" not in path:
            continue
        response = await call(outsider, method, path.replace(CASE, case_id), body)
        assert response.status_code == 403, (path, response.status_code)
    assert all(item["id"] != case_id for item in (await outsider.get("/queue")).json())
    socket = InboxSocket(inbox_service.base_url, outsider.cookie_header())
    await socket.connect()
    assert await socket.call("join_case", {"case_id": case_id}) == {"error": 403}
    assert await socket.call("typing", {"case_id": case_id, "on": True}) == {"error": 403}

    moved = await supervisor.post(f"/cases/{case_id}/transfer", {"agent_id": outsider.me["id"]})
    assert moved.status_code == 200, moved.text
    assert (await outsider.get(f"/cases/{case_id}")).status_code == 200
    assert await socket.call("join_case", {"case_id": case_id}) == {"ok": True}
    assert (await outsider.post(f"/cases/{case_id}/reply", {"text": "Hola, te atiendo yo"})).status_code == 200
    await socket.close()
    await visitor.close()
    for client in (supervisor, outsider):
        await client.post("/logout")
        await client.close()
