"""What importing contact rows would do, decided before anything is written (pure): new, matched or conflict.

Rows and existing customers are linked by what they share (a crm_id, a phone, an email); each linked group is one
customer. A group is a conflict, every row of it, when it links two existing customers (the phone is one
customer's and the crm_id another's), names two crm_ids (in the file, or the file's and the customer's own), or
gives one crm_id two phones or two emails (the same crm_id twice in the file with different phones): the operator
decides, nothing is guessed. Otherwise the group is its existing customer (matched) or a new one (its first row
new, the others matched to it): never a duplicate customer.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from handoff.core.contact_rows import BadRow, ContactRow

NEW, MATCHED, CONFLICT, INVALID = "new", "matched", "conflict", "invalid"
OUTCOMES = (NEW, MATCHED, CONFLICT, INVALID)
KIND_NAMES = {"crm": "crm_id", "phone": "phone", "email": "email"}
# (kind, value) -> the existing customers (survivors of merges) owning it; a phone counts as a WhatsApp number too
Owners = Mapping[tuple[str, str], frozenset[str]]


@dataclass(frozen=True)
class Planned:
    """One row's outcome; `customer_id` is the existing customer it matched, `same_as` the row creating its new one."""

    row: int
    outcome: str
    customer_id: str | None = None
    same_as: int | None = None
    reason: str | None = None


@dataclass
class Write:
    """One customer to create (`customer_id` None) or complete: the identities they lack, name and language."""

    customer_id: str | None
    rows: list[int]
    identities: list[tuple[str, str]] = field(default_factory=list)
    name: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Plan:
    rows: list[Planned]
    writes: list[Write]

    def counts(self) -> dict[str, int]:
        counted = dict.fromkeys(OUTCOMES, 0)
        for planned in self.rows:
            counted[planned.outcome] += 1
        return counted


class _Groups:
    """Union-find over rows, keys and customers."""

    def __init__(self) -> None:
        self.parent: dict[object, object] = {}

    def find(self, node: object) -> object:
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def join(self, a: object, b: object) -> None:
        self.parent[self.find(a)] = self.find(b)


def _rows_text(rows: Iterable[int]) -> str:
    numbers = sorted(set(rows))
    return f"row{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers))}"


def _conflict(rows: list[ContactRow], owners: Owners, crm_of: Mapping[str, str]) -> str | None:
    """Why one linked group of rows cannot be one customer, or None when it can."""
    owned: dict[str, list[str]] = {}
    for row in rows:
        for kind, value in row.identities():
            for customer in sorted(owners.get((kind, value), ())):
                said = f"{KIND_NAMES[kind]} {value} (row {row.row}) is customer {customer}'s"
                if said not in owned.setdefault(customer, []):
                    owned[customer].append(said)
    if len(owned) > 1:
        return "names two customers: " + "; ".join(said[0] for said in owned.values())
    crm_rows: dict[str, list[int]] = {}
    for row in rows:
        if row.crm_id:
            crm_rows.setdefault(row.crm_id, []).append(row.row)
    for customer in owned:
        if customer in crm_of and crm_of[customer] not in crm_rows:
            others = ", ".join(f"crm_id {crm} ({_rows_text(numbers)})" for crm, numbers in crm_rows.items())
            if others:
                return f"customer {customer} already has crm_id {crm_of[customer]}, not {others}"
    if len(crm_rows) > 1:
        return "one phone or email with two crm_ids: " + ", ".join(
            f"{crm} ({_rows_text(numbers)})" for crm, numbers in crm_rows.items())
    for attribute in ("phone", "email"):
        told = {(getattr(row, attribute), row.row) for row in rows if row.crm_id and getattr(row, attribute)}
        values = {value for value, _ in told}
        if len(values) > 1:
            crm = next(row.crm_id for row in rows if row.crm_id)
            return f"crm_id {crm} with two {attribute}s: " + ", ".join(
                f"{value} ({_rows_text(number for v, number in told if v == value)})" for value in sorted(values))
    return None


def plan_import(rows: list[ContactRow], bad: list[BadRow], owners: Owners,
                crm_of: Mapping[str, str]) -> Plan:
    """Each row's outcome and the writes that carry them out (`crm_of`: an existing customer's crm_id)."""
    groups = _Groups()
    for row in rows:
        groups.find(("row", row.row))
        for key in row.identities():
            groups.join(("row", row.row), ("key", key))
            for customer in owners.get(key, ()):
                groups.join(("key", key), ("customer", customer))
    linked: dict[object, list[ContactRow]] = {}
    for row in rows:
        linked.setdefault(groups.find(("row", row.row)), []).append(row)
    planned = [Planned(item.row, INVALID, reason=item.reason) for item in bad]
    writes: list[Write] = []
    for members in linked.values():
        reason = _conflict(members, owners, crm_of)
        if reason is not None:
            planned.extend(Planned(row.row, CONFLICT, reason=reason) for row in members)
            continue
        customers = {customer for row in members for key in row.identities() for customer in owners.get(key, ())}
        existing = next(iter(customers), None)
        write = Write(existing, [row.row for row in members])
        for row in members:
            write.name = row.name or write.name  # the last row that names them
            write.language = row.language or write.language
            write.identities.extend(key for key in row.identities()
                                    if not owners.get(key) and key not in write.identities)
        writes.append(write)
        first = members[0].row
        for row in members:
            if existing is not None:
                planned.append(Planned(row.row, MATCHED, customer_id=existing))
            elif row.row == first:
                planned.append(Planned(row.row, NEW))
            else:
                planned.append(Planned(row.row, MATCHED, same_as=first, reason=f"same customer as row {first}"))
    planned.sort(key=lambda item: item.row)
    return Plan(planned, writes)
