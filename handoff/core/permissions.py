"""Who may do what in the inbox: pure rules, so every endpoint and Socket.IO event asks the same question."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

ROLES = ("agent", "supervisor", "designer", "reviewer", "admin")

# Designers train the assistant (their tools live elsewhere); they hold no customer conversations. Reviewers score
# whole cases for quality (reports/qa_*): they read any case through the quality review only, never the inbox.
PERMISSIONS: dict[str, frozenset[str]] = {
    "inbox": frozenset({"agent", "supervisor", "admin"}),  # read the queue and cases, be present
    "work": frozenset({"agent", "supervisor", "admin"}),  # reply, note, accept, transfer, resolve, return
    "supervise": frozenset({"supervisor", "admin"}),  # the live panel, every team's cases
    "manage_agents": frozenset({"admin"}),
    "design": frozenset({"designer", "admin"}),  # the NLU review list and its export to training data
    "review_quality": frozenset({"supervisor", "reviewer", "admin"}),  # score whole cases against the QA scorecards
}


INBOX_ROLES = tuple(role for role in ROLES if role in PERMISSIONS["inbox"])  # the people the live panel lists


def can(role: str, permission: str) -> bool:
    """Whether a role holds a permission; unknown roles and permissions hold nothing."""
    return role in PERMISSIONS.get(permission, frozenset())


def sees_all_teams(role: str) -> bool:
    """Supervisors and admins watch every queue."""
    return can(role, "supervise")


def can_read_case(role: str, agent_id: str, teams: Iterable[str], case_team: str | None,
                  case_assignee: str | None) -> bool:
    """An agent reads cases of their teams or assigned to them; supervisors and admins read all.

    A conversation no team holds yet (the assistant's, never handed off) is open to any agent, to take over.
    """
    if not can(role, "inbox"):
        return False
    if sees_all_teams(role) or case_assignee == agent_id:
        return True
    if case_team is None:
        return case_assignee is None
    return case_team in set(teams)


class Reader(Protocol):
    """Whoever asks to read a case: an agent account (its id, role and teams)."""

    @property
    def id(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def teams(self) -> Sequence[str] | None: ...


class Owned(Protocol):
    """A case as far as reading it goes: who holds it."""

    @property
    def team(self) -> str | None: ...

    @property
    def assignee_id(self) -> str | None: ...


def may_read_case(reader: Reader, case: Owned) -> bool:
    """The one case-reading rule, for a case and for each earlier case of its customer's history.

    Its SQL form, for lists and histories, is `core.case_scope.readable`.
    """
    return can_read_case(reader.role, reader.id, reader.teams or (), case.team, case.assignee_id)


def can_work_case(role: str, agent_id: str, teams: Iterable[str], case_team: str | None,
                  case_assignee: str | None) -> bool:
    """Working a case needs the right to read it and to work; assignment is checked by each action."""
    return can(role, "work") and can_read_case(role, agent_id, teams, case_team, case_assignee)
