"""Merging two customers, or two open cases of one customer, and undoing it exactly.

A merge moves rows, never timeline events between cases: each event stays chained on its own case. The absorbed
customer keeps a pointer to the survivor (`merged_into_id`); its identities, cases, their events' customer and its
calls move to the survivor, so every lookup and the survivor's history find them. When both have an open case, the
one people hold further stays open and the other closes with status `merged` and `merged_into_case_id`, taking the
kept case's holder so whoever reads the conversation reads both; the absorbed case's calls go on as the kept case's
(a call in progress hears who holds the conversation, and its next events are filed there). The Merge row records
exactly what moved and each written row's previous values; `undo_merge` puts them back and refuses (409) when that
could not be exact.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from handoff.core import audit
from handoff.core.cases import LATEST, OPEN_STATUSES
from handoff.core.hashchain import utc_iso
from handoff.core.locks import xact_lock
from handoff.core.merge_rules import (
    MERGED,
    MergeRefused,
    absorbs,
    combined_facts,
    facts_after_undo,
    filled,
    undo_refusal,
)
from handoff.core.timeline import append_event
from handoff.store.models import (
    Call,
    Case,
    Customer,
    CustomerKey,
    Handoff,
    Identity,
    Merge,
    MergeSuggestion,
    TimelineEvent,
    new_id,
    utcnow,
)

CASE_FIELDS = ("status", "assignee_id", "team", "merged_into_case_id")


@dataclass
class MergeResult:
    """What a merge or undo did: the row, the cases whose screens should refresh and the events it appended."""

    merge: Merge
    case_ids: list[str] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)


def _iso(moment: datetime | None) -> str | None:
    return utc_iso(moment) if moment else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _stamp(row: Case | Customer, moment: datetime) -> None:
    """Writes `moment` as the row's updated_at even when it holds it already (else onupdate would write now)."""
    row.updated_at = moment
    flag_modified(row, "updated_at")


def _restored_stamp(current: datetime | None, written: str, before: str | None, now: datetime) -> datetime:
    """A row's updated_at after undo: as before the merge if nothing wrote it since, else now."""
    return (_moment(before) or now) if _iso(current) == written else now


async def _fact_keys(session: AsyncSession, customer_id: str) -> set[tuple[str, str]]:
    """The customer's search keys learnt from facts (order numbers, emails, phones): a merge's facts add some."""
    rows = await session.execute(select(CustomerKey.kind, CustomerKey.value).where(
        CustomerKey.customer_id == customer_id, CustomerKey.kind != "name"))
    return {(kind, value) for kind, value in rows.tuples()}


async def _lock_customers(session: AsyncSession, *customer_ids: str) -> None:
    """One merge or undo of these customers at a time, on every worker, in a fixed order (no deadlock)."""
    for customer_id in sorted(set(customer_ids)):
        await xact_lock(session, f"customer:{customer_id}")


async def _open_case(session: AsyncSession, customer_id: str) -> Case | None:
    found: Case | None = await session.scalar(
        select(Case).where(Case.customer_id == customer_id, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.created_at.desc()).limit(1).with_for_update())
    return found


async def _latest_case(session: AsyncSession, customer_id: str) -> Case | None:
    found: Case | None = await session.scalar(select(Case).where(Case.customer_id == customer_id)
                                              .order_by(Case.created_at.desc()).limit(1))
    return found


async def _move_calls(session: AsyncSession, where: Any, at: datetime, **values: str) -> list[dict[str, Any]]:
    """Writes `values` on the calls `where` selects, stamped `at`; returns each call's id and stamp before."""
    calls = (await session.execute(select(Call.id, Call.updated_at).where(where))).all()
    if calls:  # Core update: the stamp given, or onupdate would write now
        await session.execute(update(Call).where(Call.id.in_([call.id for call in calls]))
                              .values(**values, updated_at=at).execution_options(synchronize_session="fetch"))
    return [{"id": call.id, "updated_at": _iso(call.updated_at)} for call in calls]


async def _restore_calls(session: AsyncSession, saved: list[dict[str, Any]], moved_to: Any, written: str,
                         now: datetime, **values: str) -> None:
    """Writes `values` back on the calls a merge moved (still where it put them): each keeps its stamp from before
    the merge unless something wrote it since (a status callback of a call in progress), then it is stamped now."""
    if not saved:
        return
    before = {call["id"]: call["updated_at"] for call in saved}
    current = (await session.execute(select(Call.id, Call.updated_at)
                                     .where(Call.id.in_(before), moved_to))).all()
    for call in current:
        stamp = _restored_stamp(call.updated_at, written, before[call.id], now)
        await session.execute(update(Call).where(Call.id == call.id).values(**values, updated_at=stamp)
                              .execution_options(synchronize_session="fetch"))


async def _combine(session: AsyncSession, kept: Case, absorbed: Case, at: datetime) -> dict[str, Any]:
    """Closes `absorbed` into `kept` (its open transition ends as `merged`, its calls go on as the kept case's);
    returns what undo needs."""
    record: dict[str, Any] = {"kept": kept.id, "absorbed": absorbed.id,
                              "before": {name: getattr(absorbed, name) for name in CASE_FIELDS},
                              "updated_at": _iso(absorbed.updated_at), "handoffs": []}
    for handoff in await session.scalars(select(Handoff).where(Handoff.case_id == absorbed.id,
                                                               Handoff.ended_at.is_(None))):
        record["handoffs"].append({"id": handoff.id, "outcome": handoff.outcome})
        handoff.ended_at, handoff.outcome = at, MERGED
    absorbed.status, absorbed.merged_into_case_id = MERGED, kept.id
    absorbed.team, absorbed.assignee_id = kept.team, kept.assignee_id  # read by whoever holds the conversation
    _stamp(absorbed, at)
    record["calls"] = await _move_calls(session, Call.case_id == absorbed.id, at, case_id=kept.id)
    return record


async def _uncombine(session: AsyncSession, record: dict[str, Any], written: str, now: datetime) -> Case:
    """Reopens the absorbed case as it was, with its transitions and its calls."""
    absorbed = await session.get_one(Case, record["absorbed"], with_for_update=True)
    for name, value in record["before"].items():
        setattr(absorbed, name, value)
    for saved in record["handoffs"]:
        handoff = await session.get_one(Handoff, saved["id"])
        handoff.ended_at, handoff.outcome = None, saved["outcome"]
    await _restore_calls(session, record.get("calls", []), Call.case_id == record["kept"], written, now,
                         case_id=absorbed.id)
    return absorbed


async def _note(session: AsyncSession, result: MergeResult, cases: list[Case], actor: str, text: str,
                payload: dict[str, Any]) -> None:
    """The merge (or its undo) on the timeline of each case involved, chained like any event."""
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            continue
        seen.add(case.id)
        event = await append_event(session, case, channel=case.channel, direction="internal", actor=actor,
                                   kind="merge", text=text, payload=payload)
        result.case_ids.append(case.id)
        result.event_ids.append(event.id)


def _forget_latest(session: AsyncSession) -> None:
    """Cases changed customers: the transaction's memo of each customer's latest case is stale."""
    session.info.pop(LATEST, None)


async def merge_customers(session: AsyncSession, survivor: Customer, absorbed: Customer, actor: str,
                          evidence: dict[str, Any]) -> MergeResult:
    """Makes `absorbed` part of `survivor`; the caller commits (and publishes the result's cases as changed)."""
    if survivor.id == absorbed.id:
        raise MergeRefused(422, "a customer cannot be merged with itself")
    await session.flush()  # the caller's pending changes first: the rows are read again under the lock
    await _lock_customers(session, survivor.id, absorbed.id)
    await session.refresh(survivor)
    await session.refresh(absorbed)
    if survivor.merged_into_id or absorbed.merged_into_id:
        raise MergeRefused(409, "one of these customers is already merged into another")
    at = utcnow()
    survivor_open, absorbed_open = await _open_case(session, survivor.id), await _open_case(session, absorbed.id)
    change = combined_facts(survivor.facts or {}, absorbed.facts or {})
    moved: dict[str, Any] = {
        "at": _iso(at),
        "absorbed": {"updated_at": _iso(absorbed.updated_at)},
        "survivor": {"updated_at": _iso(survivor.updated_at), "display_name": survivor.display_name,
                     "language": survivor.language, "facts_before": change.before,
                     "facts_absent": sorted(change.absent),
                     "facts_merged": {key: change.facts[key] for key in (*change.before, *change.absent)}},
    }
    absorbed.merged_into_id = survivor.id
    _stamp(absorbed, at)
    name, language = filled(survivor.display_name, absorbed.display_name), filled(survivor.language,
                                                                                   absorbed.language)
    # One person: a WhatsApp "stop" said as either customer holds for both (core/consent.py).
    opted_out = survivor.whatsapp_opted_out_at or absorbed.whatsapp_opted_out_at
    wrote = (bool(change.before or change.absent) or name != survivor.display_name or language != survivor.language
             or opted_out != survivor.whatsapp_opted_out_at)
    moved["survivor"]["whatsapp_opted_out_at"] = _iso(survivor.whatsapp_opted_out_at)
    if wrote:
        keys_before = await _fact_keys(session, survivor.id)
        survivor.facts, survivor.display_name, survivor.language = change.facts, name, language
        survivor.whatsapp_opted_out_at = opted_out
        _stamp(survivor, at)
        await session.flush()  # the search keys of the facts it learnt are written with it
        moved["survivor"]["keys_added"] = sorted(await _fact_keys(session, survivor.id) - keys_before)
    moved["survivor"].update(wrote=wrote, now={"display_name": name, "language": language,
                                               "whatsapp_opted_out_at": _iso(opted_out)})
    identities = list(await session.scalars(select(Identity).where(Identity.customer_id == absorbed.id)))
    for identity in identities:
        identity.customer_id = survivor.id
    moved["identities"] = [identity.id for identity in identities]
    cases = list(await session.scalars(select(Case).where(Case.customer_id == absorbed.id).with_for_update()))
    moved["cases"] = [{"id": case.id, "updated_at": _iso(case.updated_at)} for case in cases]
    for case in cases:
        case.customer_id = survivor.id
        _stamp(case, at)
    case_ids = [case.id for case in cases]
    await session.flush()
    if case_ids:  # where each event is filed, not what its hash covers: the chains are untouched
        await session.execute(update(TimelineEvent).where(TimelineEvent.case_id.in_(case_ids))
                              .values(customer_id=survivor.id))
    moved["calls"] = await _move_calls(session, Call.customer_id == absorbed.id, at, customer_id=survivor.id)
    kept = absorbed_case = None
    if survivor_open is not None and absorbed_open is not None:
        kept, absorbed_case = ((survivor_open, absorbed_open) if absorbs(survivor_open.status, absorbed_open.status)
                               else (absorbed_open, survivor_open))
        moved["combined"] = await _combine(session, kept, absorbed_case, at)
    merge = Merge(id=new_id(), kind="customers", survivor_customer_id=survivor.id, absorbed_customer_id=absorbed.id,
                  kept_case_id=kept.id if kept else None, absorbed_case_id=absorbed_case.id if absorbed_case else None,
                  actor=actor, evidence=evidence, moved=moved, created_at=at)
    session.add(merge)
    await session.flush()
    moved["suggestions"] = await _accept_suggestions(session, survivor.id, absorbed.id, merge.id, actor, at)
    merge.moved = moved
    flag_modified(merge, "moved")  # the same dict, changed since it was first flushed
    _forget_latest(session)
    result = MergeResult(merge)
    involved = [case for case in (kept, absorbed_case) if case is not None] or [
        case for case in (survivor_open or await _latest_case(session, survivor.id),
                          absorbed_open or (cases[0] if cases else None)) if case is not None]
    await _note(session, result, involved, actor, "customers merged",
                {"merge_id": merge.id, "survivor_customer_id": survivor.id, "absorbed_customer_id": absorbed.id,
                 "kept_case_id": merge.kept_case_id, "absorbed_case_id": merge.absorbed_case_id})
    await audit.record(session, actor, "merge_customers", case_id=merge.kept_case_id, merge_id=merge.id,
                       survivor=survivor.id, absorbed=absorbed.id, evidence=evidence)
    return result


async def merge_cases(session: AsyncSession, kept: Case, absorbed: Case, actor: str,
                      evidence: dict[str, Any]) -> MergeResult:
    """Makes two open cases of one customer one: `kept` stays open, `absorbed` closes into it; the caller commits."""
    if kept.id == absorbed.id:
        raise MergeRefused(422, "a case cannot be merged with itself")
    if kept.customer_id != absorbed.customer_id:
        raise MergeRefused(409, "the cases belong to different customers: merge the customers")
    await session.flush()
    await _lock_customers(session, kept.customer_id)
    for case in (kept, absorbed):
        await session.refresh(case, with_for_update=True)
        if case.status not in OPEN_STATUSES:
            raise MergeRefused(409, f"case {case.id} is {case.status}: only open cases are merged")
    at = utcnow()
    written = _iso(at)
    combined = await _combine(session, kept, absorbed, at)
    merge = Merge(id=new_id(), kind="cases", survivor_customer_id=kept.customer_id,
                  absorbed_customer_id=kept.customer_id, kept_case_id=kept.id, absorbed_case_id=absorbed.id,
                  actor=actor, evidence=evidence, moved={"at": written, "combined": combined}, created_at=at)
    session.add(merge)
    await session.flush()
    result = MergeResult(merge)
    await _note(session, result, [kept, absorbed], actor, "cases merged",
                {"merge_id": merge.id, "kept_case_id": kept.id, "absorbed_case_id": absorbed.id})
    await audit.record(session, actor, "merge_cases", case_id=kept.id, merge_id=merge.id, absorbed_case=absorbed.id,
                       evidence=evidence)
    return result


async def _accept_suggestions(session: AsyncSession, first: str, second: str, merge_id: str, actor: str,
                              at: datetime) -> list[int]:
    """Open suggestions between the two customers are settled by the merge (and open again if it is undone)."""
    rows = list(await session.scalars(select(MergeSuggestion).where(
        MergeSuggestion.status == "open",
        or_((MergeSuggestion.customer_id == first) & (MergeSuggestion.other_customer_id == second),
            (MergeSuggestion.customer_id == second) & (MergeSuggestion.other_customer_id == first)))))
    for row in rows:
        row.status, row.merge_id, row.decided_by, row.decided_at = "accepted", merge_id, actor, at
    return [row.id for row in rows]


async def involved_cases(session: AsyncSession, merge: Merge) -> list[Case]:
    """The cases a merge touched (for the reading rule): the combined pair and every case that changed customer."""
    ids = {case["id"] for case in merge.moved.get("cases", [])}
    ids.update(case_id for case_id in (merge.kept_case_id, merge.absorbed_case_id) if case_id)
    if not ids:
        return []
    return list(await session.scalars(select(Case).where(Case.id.in_(ids))))


async def undo_merge(session: AsyncSession, merge_id: str, actor: str) -> MergeResult:
    """Restores exactly the state before the merge; the caller commits. Refused (409) when that is not possible."""
    merge = await session.get(Merge, merge_id)
    if merge is None:
        raise MergeRefused(404, "no such merge")
    customers = {merge.survivor_customer_id, merge.absorbed_customer_id}
    await _lock_customers(session, *customers)
    await session.refresh(merge, with_for_update=True)
    later = await session.scalars(select(Merge.id).where(
        Merge.id != merge.id, Merge.undone_at.is_(None), Merge.created_at >= merge.created_at,
        or_(Merge.survivor_customer_id.in_(customers), Merge.absorbed_customer_id.in_(customers))))
    moved: dict[str, Any] = merge.moved
    combined = moved.get("combined")
    intact = True
    if combined:
        absorbed_case = await session.get_one(Case, combined["absorbed"])
        intact = absorbed_case.status == MERGED and absorbed_case.merged_into_case_id == combined["kept"]
    refusal = undo_refusal(merge.undone_at is not None, list(later), intact)
    if refusal:
        raise MergeRefused(409, refusal)
    now, written = utcnow(), moved["at"]
    stamps = {case["id"]: case["updated_at"] for case in moved.get("cases", [])}
    if combined:
        stamps.setdefault(combined["absorbed"], combined["updated_at"])  # the earliest record is the state before
    written_cases = list(await session.scalars(select(Case).where(Case.id.in_(stamps)).with_for_update()))
    untouched = {case.id for case in written_cases if _iso(case.updated_at) == written}
    reopened = await _uncombine(session, combined, written, now) if combined else None
    if merge.kind == "customers":
        await _unmerge_customers(session, merge, moved, now)
    for case in written_cases:  # as before the merge, unless something wrote the row since
        _stamp(case, (_moment(stamps[case.id]) or now) if case.id in untouched else now)
    merge.undone_at, merge.undone_by = now, actor
    _forget_latest(session)
    result = MergeResult(merge)
    kept = await session.get(Case, merge.kept_case_id) if merge.kept_case_id else None
    involved = [case for case in (kept, reopened) if case is not None]
    if not involved:
        involved = [case for case in (await _latest_case(session, merge.survivor_customer_id),
                                      await _latest_case(session, merge.absorbed_customer_id)) if case is not None]
    await _note(session, result, involved, actor, "merge undone", {"merge_id": merge.id})
    await audit.record(session, actor, "undo_merge", case_id=merge.kept_case_id, merge_id=merge.id)
    return result


async def _unmerge_customers(session: AsyncSession, merge: Merge, moved: dict[str, Any], now: datetime) -> None:
    """The absorbed customer again on its own, with its identities, cases, events and calls; the survivor as before
    except what it learnt since."""
    written = moved["at"]
    survivor = await session.get_one(Customer, merge.survivor_customer_id)
    absorbed = await session.get_one(Customer, merge.absorbed_customer_id)
    await session.refresh(survivor)
    await session.refresh(absorbed)
    absorbed.merged_into_id = None
    _stamp(absorbed, _restored_stamp(absorbed.updated_at, written, moved["absorbed"]["updated_at"], now))
    if moved["survivor"]["wrote"]:
        _restore_survivor(survivor, moved["survivor"], written, now)
        await session.flush()
        for kind, value in moved["survivor"].get("keys_added", []):  # found by them because of the merge only
            await session.execute(delete(CustomerKey).where(CustomerKey.customer_id == survivor.id,
                                                            CustomerKey.kind == kind, CustomerKey.value == value))
    for identity in await session.scalars(select(Identity).where(Identity.id.in_(moved["identities"]),
                                                                 Identity.customer_id == survivor.id)):
        identity.customer_id = absorbed.id
    case_ids = [case["id"] for case in moved["cases"]]
    for case in await session.scalars(select(Case).where(Case.id.in_(case_ids))):
        case.customer_id = absorbed.id
    await session.flush()
    if case_ids:
        await session.execute(update(TimelineEvent).where(TimelineEvent.case_id.in_(case_ids))
                              .values(customer_id=absorbed.id))
    await _restore_calls(session, moved["calls"], Call.customer_id == survivor.id, written, now,
                         customer_id=absorbed.id)
    for suggestion in await session.scalars(select(MergeSuggestion).where(
            MergeSuggestion.id.in_(moved.get("suggestions", [])), MergeSuggestion.merge_id == merge.id)):
        suggestion.status, suggestion.merge_id, suggestion.decided_by, suggestion.decided_at = "open", None, None, None


def _restore_survivor(survivor: Customer, saved: dict[str, Any], written: str, now: datetime) -> None:
    """The survivor's name, language and facts as before the merge, except what changed since (learnt later)."""
    if survivor.display_name == saved["now"]["display_name"]:
        survivor.display_name = saved["display_name"]
    if survivor.language == saved["now"]["language"]:
        survivor.language = saved["language"]
    if "whatsapp_opted_out_at" in saved["now"] and \
            _iso(survivor.whatsapp_opted_out_at) == saved["now"]["whatsapp_opted_out_at"]:  # not changed since
        survivor.whatsapp_opted_out_at = _moment(saved.get("whatsapp_opted_out_at"))
    survivor.facts = facts_after_undo(dict(survivor.facts or {}), saved["facts_merged"], saved["facts_before"],
                                      saved["facts_absent"])
    _stamp(survivor, _restored_stamp(survivor.updated_at, written, saved["updated_at"], now))
