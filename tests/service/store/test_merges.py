"""Merges on SQLite and PostgreSQL: undo restores every row exactly, every chain verifies, evidence decides."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from handoff.core import audit
from handoff.core.cases import open_case
from handoff.core.consent import may_message_on_whatsapp
from handoff.core.customers import find_contact, resolve_customer
from handoff.core.merge_evidence import link_verified_identity, open_suggestions, weigh_told
from handoff.core.merge_rules import MergeRefused
from handoff.core.merges import merge_cases, merge_customers, undo_merge
from handoff.store.models import Call, Case, Customer, Handoff, Merge, TimelineEvent, utcnow
from tests.service.support.merging import Sessions, case_with_events, chains_ok, snapshot, two_customers


async def test_undo_restores_every_row_of_customers_with_several_cases(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    async with sessions() as session, session.begin():  # the merge settles this suggestion, the undo reopens it
        await weigh_told(session, await session.get_one(Customer, ids["visitor"]), {"phone": ids["phone"]})
    before = await snapshot(sessions)
    async with sessions() as session, session.begin():
        ana, visitor = await session.get_one(Customer, ids["ana"]), await session.get_one(Customer, ids["visitor"])
        result = await merge_customers(session, ana, visitor, "agent:x", {"kind": "agent"})
    merge_id = result.merge.id
    await chains_ok(sessions)
    async with sessions() as session:
        contact = await find_contact(session, "webchat", "visitor-1")  # the absorbed customer's door finds Ana
        assert contact is not None and contact.customer.id == ids["ana"]
        assert {i.value for i in contact.identities} == {"+525512345678", "visitor-1", "ana@example.mx"}
        visitor = await session.get_one(Customer, ids["visitor"])
        assert visitor.merged_into_id == ids["ana"]
        ana = await session.get_one(Customer, ids["ana"])
        assert ana.facts == {"order_number": "100002", "email": "ana@example.mx"}  # Ana's order kept, email added
        cases = {c.id: c for c in await session.scalars(select(Case).where(Case.customer_id == ids["ana"]))}
        assert len(cases) == 4
        web_open, ana_open = cases[ids["web_open"]], cases[ids["ana_open"]]
        assert ana_open.status == "assigned"  # held by Maria: it absorbs the queued one
        assert (web_open.status, web_open.merged_into_case_id) == ("merged", ids["ana_open"])
        assert (web_open.team, web_open.assignee_id) == ("care", ids["maria"])
        events = list(await session.scalars(select(TimelineEvent).where(TimelineEvent.customer_id == ids["ana"])))
        assert {e.case_id for e in events} == set(cases)  # the survivor's history holds both customers' events
        assert [e.text for e in events if e.kind == "merge"] == ["customers merged"] * 2
        handoff = await session.scalar(select(Handoff).where(Handoff.case_id == ids["web_open"]))
        assert handoff is not None and handoff.outcome == "merged" and handoff.ended_at is not None
        call = await session.scalar(select(Call))
        assert call is not None and (call.customer_id, call.case_id) == (ids["ana"], ids["ana_open"])  # goes on
    async with sessions() as session, session.begin():
        undone = await undo_merge(session, merge_id, "agent:x")
    assert set(undone.case_ids) == {ids["ana_open"], ids["web_open"]}
    after = await snapshot(sessions)
    for table in before:  # row by row first: a failure names the table, the row and the columns
        for old, new in zip(before[table], after[table], strict=True):
            assert old == new, (table, old.get("id"), {key: (value, new[key]) for key, value in old.items()
                                                       if new[key] != value})
    assert after == before
    await chains_ok(sessions)
    async with sessions() as session:
        actions = [entry.action for entry in await audit.entries(session)]
        assert actions == ["merge_customers", "undo_merge"]
        with pytest.raises(MergeRefused) as refused:
            await undo_merge(session, merge_id, "agent:x")
        assert refused.value.status == 409


async def test_a_later_merge_must_be_undone_first(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    async with sessions() as session, session.begin():
        third = await resolve_customer(session, "webchat", "visitor-3")
    async with sessions() as session, session.begin():
        first = await merge_customers(session, await session.get_one(Customer, ids["ana"]),
                                      await session.get_one(Customer, ids["visitor"]), "agent:x", {})
    async with sessions() as session, session.begin():
        second = await merge_customers(session, await session.get_one(Customer, ids["ana"]),
                                       await session.get_one(Customer, third.id), "agent:x", {})
    async with sessions() as session, session.begin():
        with pytest.raises(MergeRefused) as refused:
            await undo_merge(session, first.merge.id, "agent:x")
    assert refused.value.status == 409 and second.merge.id in refused.value.message
    async with sessions() as session, session.begin():
        await undo_merge(session, second.merge.id, "agent:x")
    async with sessions() as session, session.begin():
        await undo_merge(session, first.merge.id, "agent:x")
    await chains_ok(sessions)


async def test_two_open_cases_of_one_customer_merge_and_come_apart(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    async with sessions() as session, session.begin():
        ana = await session.get_one(Customer, ids["ana"])
        second = await case_with_events(session, ana, "voice", "bot", texts=("otra vez",))
        session.add(Call(provider="twilio", provider_call_id="CA-second", case_id=second.id, customer_id=ana.id,
                         direction="inbound", status="in-progress"))
    before = await snapshot(sessions)
    async with sessions() as session, session.begin():
        kept = await session.get_one(Case, ids["ana_open"])
        result = await merge_cases(session, kept, await session.get_one(Case, second.id), "agent:x", {})
    async with sessions() as session:
        absorbed = await session.get_one(Case, second.id)
        assert (absorbed.status, absorbed.merged_into_case_id) == ("merged", ids["ana_open"])
        call = await session.scalar(select(Call).where(Call.provider_call_id == "CA-second"))
        assert call is not None and call.case_id == ids["ana_open"]  # the call in progress goes on with the case
    await chains_ok(sessions)
    async with sessions() as session, session.begin():
        with pytest.raises(MergeRefused) as refused:  # a closed case cannot be merged again
            await merge_cases(session, await session.get_one(Case, ids["ana_open"]),
                              await session.get_one(Case, second.id), "agent:x", {})
    assert refused.value.status == 409
    async with sessions() as session, session.begin():
        await undo_merge(session, result.merge.id, "agent:x")
    assert await snapshot(sessions) == before
    await chains_ok(sessions)


async def test_a_verified_identity_another_customer_owns_verified_merges_automatically(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    async with sessions() as session, session.begin():
        visitor = await session.get_one(Customer, ids["visitor"])
        continuing = await link_verified_identity(session, visitor, "phone", "+525512345678", "otp_whatsapp")
    assert continuing.id == ids["ana"]
    async with sessions() as session:
        merge = await session.scalar(select(Merge))
        assert merge is not None and (merge.actor, merge.absorbed_customer_id) == ("system", ids["visitor"])
        assert merge.evidence["verified_by"] == "otp_whatsapp"
    await chains_ok(sessions)


async def test_a_told_phone_of_someone_else_is_a_suggestion_not_a_merge(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    before = await snapshot(sessions)
    async with sessions() as session, session.begin():
        visitor = await session.get_one(Customer, ids["visitor"])
        await weigh_told(session, visitor, {"phone": "+52 55 1234 5678"})
        await weigh_told(session, visitor, {"phone": "+525512345678"})  # once per evidence
    after = await snapshot(sessions)
    assert after["customers"] == before["customers"] and after["identities"] == before["identities"]
    async with sessions() as session:
        assert await session.scalar(select(Merge)) is None
        suggestions = await open_suggestions(session, ids["ana"])
    assert [(s.evidence_kind, s.evidence_value, other.id) for s, other in suggestions] == [
        ("told_phone", "+525512345678", ids["visitor"])]


async def test_the_same_name_and_order_number_is_a_suggestion(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    async with sessions() as session, session.begin():
        other = await resolve_customer(session, "webchat", "visitor-9", display_name="  ana ")
        await weigh_told(session, other, {"order_number": "100002"})
    async with sessions() as session:
        suggestions = await open_suggestions(session, other.id)
    assert [(s.evidence_kind, found.id) for s, found in suggestions] == [("name_and_order", ids["ana"])]


async def test_the_absorbed_customers_next_message_continues_the_kept_case(sessions: Sessions) -> None:
    ids = await two_customers(sessions)  # the visitor's open case is the newer one: it is the customer's latest
    async with sessions() as session, session.begin():
        await merge_customers(session, await session.get_one(Customer, ids["ana"]),
                              await session.get_one(Customer, ids["visitor"]), "agent:x", {})
    async with sessions() as session, session.begin():
        contact = await find_contact(session, "webchat", "visitor-1")
        assert contact is not None and contact.latest_case is not None
        assert contact.latest_case.id == ids["web_open"]  # merged, newest
        case = await open_case(session, contact.customer, "webchat", follow_up_window_hours=72)
    assert case.id == ids["ana_open"]


async def test_a_call_written_after_the_merge_still_goes_back_with_its_case_and_customer(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    before = await snapshot(sessions)
    async with sessions() as session, session.begin():
        result = await merge_customers(session, await session.get_one(Customer, ids["ana"]),
                                       await session.get_one(Customer, ids["visitor"]), "agent:x", {})
    async with sessions() as session, session.begin():  # the call ends after the merge: a status callback
        call = await session.get_one(Call, before["calls"][0]["id"])
        assert (call.customer_id, call.case_id) == (ids["ana"], ids["ana_open"])
        call.duration_seconds = 42
    async with sessions() as session, session.begin():
        await undo_merge(session, result.merge.id, "agent:x")
    after = await snapshot(sessions)
    [old], [new] = before["calls"], after["calls"]
    assert (new["customer_id"], new["case_id"], new["duration_seconds"]) == (ids["visitor"], ids["web_open"], 42)
    assert new["updated_at"] > old["updated_at"]  # written since: stamped by the undo, not put back
    assert {k: v for k, v in after.items() if k != "calls"} == {k: v for k, v in before.items() if k != "calls"}
    await chains_ok(sessions)


async def test_a_whatsapp_opt_out_of_either_customer_holds_for_the_survivor_until_undone(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    async with sessions() as session, session.begin():  # the visitor said "baja" on WhatsApp once
        (await session.get_one(Customer, ids["visitor"])).whatsapp_opted_out_at = utcnow()
    before = await snapshot(sessions)
    async with sessions() as session, session.begin():
        ana, visitor = await session.get_one(Customer, ids["ana"]), await session.get_one(Customer, ids["visitor"])
        result = await merge_customers(session, ana, visitor, "agent:x", {"kind": "agent"})
    async with sessions() as session:
        ana = await session.get_one(Customer, ids["ana"])
        assert ana.whatsapp_opted_out_at is not None and not may_message_on_whatsapp(ana)
    async with sessions() as session, session.begin():
        await undo_merge(session, result.merge.id, "agent:x")
    assert await snapshot(sessions) == before  # Ana may be written to again; the visitor's opt-out stays
