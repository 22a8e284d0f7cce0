"""The service KPIs' reads: one statement for the per-(day, channel) cells of service.py (the same definitions, as
SQL: the tests check both agree on SQLite and PostgreSQL), and the presence history and handle time per agent of
occupancy.py. Durations are whole microseconds, never floats."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement, CompoundSelect, Select

from handoff.core.handoffs import WITHDRAWN
from handoff.core.merge_rules import MERGED
from handoff.reports.facts import Day
from handoff.reports.queries import (
    _count,
    _day_of,
    _hours,
    _in_range,
    _returns,
    _sla_target,
    _story,
    _total,
    elapsed_us,
)
from handoff.reports.service import CELL_SUMS, FRUSTRATING_FALLBACKS, MICROS, Targets
from handoff.store.models import Case, Handoff, NluSample, PresenceChange, TimelineEvent, UTCDateTime

FALLBACK_SOURCE = "nlu_fallback"  # nlu_samples.source of a customer message the assistant did not understand


def _moment(value: datetime) -> ColumnElement[datetime]:
    return literal(value, UTCDateTime())


def _in_order(sums: Mapping[str, ColumnElement[Any]]) -> list[ColumnElement[Any]]:
    """Every cell sum in the order of service.ServiceCell, 0 for those this part does not measure."""
    return [sums.get(name, literal(0, BigInteger())).label(name) for name in CELL_SUMS]


def _cases(days: Sequence[Day]) -> tuple[Any, Any]:
    """The range's cases counted on their own (keyed), and the cases merged into them with their kept case (few)."""
    story = _story()
    keyed = (select(Case.id, Case.customer_id, Case.status, Case.created_at, Case.resolved_at, Case.reask_turns,
                    Case.last_customer_message_at, _day_of(Case.created_at, days).label("day"), Case.channel)
             .where(_in_range(Case.created_at, days), Case.merged_into_case_id.is_(None))
             .cte("service_keyed").prefix_with("MATERIALIZED"))
    merged = (select(story.c.id.label("case_id"), story.c.root).join(keyed, keyed.c.id == story.c.root)
              .cte("service_merged").prefix_with("MATERIALIZED"))
    return keyed, merged


def _case_part(keyed: Any, merged: Any, targets: Targets) -> Select[Any]:
    """What each case adds: containment raw and durable, one-contact resolution, frustration. Sets are read once
    and hashed (IN a subquery), never probed case by case."""
    k, m = keyed.c, merged.c
    to_people = select(Handoff.case_id).where(Handoff.direction == "to_human")
    merged_to_people = (select(m.root).join(Handoff, and_(Handoff.case_id == m.case_id,
                                                          Handoff.direction == "to_human")))
    absorbed = aliased(Case, name="absorbed")
    per_story = (select(m.root, func.count().label("merged"), func.max(absorbed.reask_turns).label("reasks"))
                 .join(absorbed, absorbed.id == m.case_id).group_by(m.root).cte("merged_sums"))
    fallback_case = (select(func.coalesce(m.root, NluSample.case_id).label("root"))
                     .select_from(NluSample).outerjoin(merged, m.case_id == NluSample.case_id)
                     .where(NluSample.source == FALLBACK_SOURCE).subquery())
    fallbacks = (select(fallback_case.c.root, func.count().label("fallbacks")).group_by(fallback_case.c.root)
                 .cte("story_fallbacks"))
    two_channels = (select(TimelineEvent.case_id).join(keyed, k.id == TimelineEvent.case_id)
                    .where(TimelineEvent.direction == "in").group_by(TimelineEvent.case_id)
                    .having(func.min(TimelineEvent.channel) != func.max(TimelineEvent.channel)))
    returns = _returns(keyed, targets.window_hours)
    other, people = aliased(Case, name="later_case"), aliased(Handoff, name="later_handoff")
    reached_later = exists().where(
        other.customer_id == k.customer_id, other.id != k.id, other.created_at > k.created_at,
        other.created_at <= _hours(func.coalesce(k.resolved_at, k.created_at), targets.window_hours),
        exists().where(people.case_id == other.id, people.direction == "to_human"))
    bot_only = and_(k.id.not_in(to_people), k.id.not_in(merged_to_people))
    resolved = k.status == "resolved"
    silent_since = _moment(targets.now - timedelta(minutes=targets.assistant_silence_minutes))
    struggled = or_(func.coalesce(fallbacks.c.fallbacks, 0) >= FRUSTRATING_FALLBACKS, k.reask_turns > 0,
                    func.coalesce(per_story.c.reasks, 0) > 0)
    sums = {
        "cases": func.count(), "bot_only": _count(bot_only), "durable": _count(and_(bot_only, ~reached_later)),
        "resolved": _count(resolved),
        "one_contact": _count(and_(resolved, per_story.c.root.is_(None), k.id.not_in(two_channels),
                                   func.coalesce(returns.c.recontact, 0) == 0,
                                   func.coalesce(returns.c.recontacted, 0) == 0)),
        "frustration": _count(and_(k.status == "bot", struggled,
                                   func.coalesce(k.last_customer_message_at, k.created_at) <= silent_since)),
    }
    return (select(k.day, k.channel, *_in_order(sums)).select_from(keyed)
            .outerjoin(per_story, per_story.c.root == k.id)
            .outerjoin(fallbacks, fallbacks.c.root == k.id)
            .outerjoin(returns, returns.c.id == k.id)
            .group_by(k.day, k.channel))


def _transition_part(keyed: Any, merged: Any, targets: Targets) -> Select[Any]:
    """What each transition to people people had to answer adds, on its story's cell (its own case's, or the
    case it was merged into)."""
    k, m = keyed.c, merged.c
    columns = (Handoff.queued_at, Handoff.accepted_at, Handoff.ended_at, Handoff.outcome)
    offered = and_(Handoff.direction == "to_human", func.coalesce(Handoff.outcome, "").not_in((WITHDRAWN, MERGED)))
    handed = union_all(
        select(k.day, k.channel, *columns).select_from(Handoff).join(keyed, k.id == Handoff.case_id).where(offered),
        select(k.day, k.channel, *columns).select_from(Handoff).join(merged, m.case_id == Handoff.case_id)
        .join(keyed, k.id == m.root).where(offered)).subquery("service_handed")
    h = handed.c
    measured = (select(h.day, h.channel, _sla_target(h.channel, targets.answer).label("target_us"),
                       elapsed_us(h.accepted_at, h.queued_at).label("wait_us"),
                       elapsed_us(h.ended_at, h.accepted_at).label("handle_us"),
                       case((and_(h.outcome == "abandoned", h.accepted_at.is_(None)),
                             elapsed_us(func.coalesce(h.ended_at, h.queued_at), h.queued_at)),
                            else_=None).label("abandon_us"))
                .cte("service_transitions").prefix_with("MATERIALIZED")).c
    answered, handled = measured.wait_us.is_not(None), measured.handle_us.is_not(None)
    left = measured.abandon_us.is_not(None)
    short = and_(left, measured.abandon_us < literal(targets.short_abandon_seconds * MICROS, BigInteger()))
    targeted = measured.target_us.is_not(None)
    sums = {
        "answered": _count(answered), "wait_us": _total(answered, measured.wait_us),
        "answered_in_target": _count(and_(answered, targeted, measured.wait_us <= measured.target_us)),
        "sl_offered": _count(and_(targeted, or_(answered, and_(left, ~short)))),
        "handled": _count(handled), "handle_us": _total(handled, measured.handle_us),
        "queue_abandons": _count(left), "short_abandons": _count(short),
        "saturation_abandons": _count(and_(left, ~short, targeted, measured.abandon_us > measured.target_us)),
    }
    return select(measured.day, measured.channel, *_in_order(sums)).group_by(measured.day, measured.channel)


def service_cells(days: Sequence[Day], targets: Targets) -> CompoundSelect[Any]:
    """Rows of (day, channel, sums...) in the order of service.ServiceCell; a key may come twice (the cases' sums
    and the transitions'): the arithmetic adds them up."""
    keyed, merged = _cases(days)
    return union_all(_case_part(keyed, merged, targets), _transition_part(keyed, merged, targets))


def presence_changes(start: datetime, end: datetime) -> Select[Any]:
    """The presence changes within [start, end), and each agent's last one before `start` (how they began)."""
    before = (select(func.max(PresenceChange.id)).where(PresenceChange.changed_at < start)
              .group_by(PresenceChange.agent_id))
    return (select(PresenceChange.agent_id, PresenceChange.presence, PresenceChange.changed_at)
            .where(or_(and_(PresenceChange.changed_at >= start, PresenceChange.changed_at < end),
                       PresenceChange.id.in_(before)))
            .order_by(PresenceChange.agent_id, PresenceChange.changed_at, PresenceChange.id))


def handle_by_agent(start: datetime, end: datetime) -> Select[Any]:
    """Per agent, the microseconds within [start, end) of the transitions they accepted (open ones up to `end`)."""
    first = case((Handoff.accepted_at < _moment(start), _moment(start)), else_=Handoff.accepted_at)
    last = case((or_(Handoff.ended_at.is_(None), Handoff.ended_at > _moment(end)), _moment(end)),
                else_=Handoff.ended_at)
    return (select(Handoff.agent_id, func.sum(elapsed_us(last, first)).label("handle_us"))
            .where(Handoff.direction == "to_human", Handoff.agent_id.is_not(None), Handoff.accepted_at.is_not(None),
                   Handoff.accepted_at < _moment(end),
                   or_(Handoff.ended_at.is_(None), Handoff.ended_at > _moment(start)))
            .group_by(Handoff.agent_id))

