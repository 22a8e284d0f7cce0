"""The dashboard's one SQL statement: the database measures every case and transition of the range (definitions
in the README) and sums them per (local day, channel, team, intent, reason) cell, so 100,000 cases come back as a
few hundred rows. Identical on SQLite and PostgreSQL: durations are whole microseconds, never floats. A case merged
into another is no case of its own: its transitions and re-asks count in the story of the case it continues on."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Integer,
    SQLColumnExpression,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement, CompoundSelect, Select
from sqlalchemy.sql.functions import FunctionElement

from handoff.core.handoffs import WITHDRAWN
from handoff.core.merge_rules import MERGED
from handoff.reports.facts import BOT_ONLY, CELL_SUMS, OVERFLOW, OVERFLOW_CHOICES, TRANSFER, Day
from handoff.store.models import Case, Commitment, Handoff, TimelineEvent, UTCDateTime

MICROS = 1_000_000
AGENT_PREFIX = "agent:"  # timeline actor of a person answering: agent:<id>
MAX_MERGE_CHAIN = 32  # merges followed from a merged case to the case it continues on (a guard, never reached)


class elapsed_us(FunctionElement[int]):
    """`later - earlier` in whole microseconds (NULL if either is NULL)."""

    type = BigInteger()
    inherit_cache = True
    name = "elapsed_us"


@compiles(elapsed_us, "postgresql")
def _elapsed_postgresql(element: elapsed_us, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    # date_part of an interval is float8 seconds: exact to the microsecond for spans under 285 years.
    return f"CAST(date_part('epoch', {later} - {earlier}) * 1000000 AS BIGINT)"


def _sqlite_micros(value: str) -> str:
    """SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds from strftime, the fraction as digits."""
    return (f"(CAST(strftime('%s', substr({value}, 1, 19)) AS INTEGER) * 1000000"
            f" + CAST(substr({value}, 21, 6) AS INTEGER))")


@compiles(elapsed_us, "sqlite")
def _elapsed_sqlite(element: elapsed_us, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({_sqlite_micros(later)} - {_sqlite_micros(earlier)})"


class shifted(FunctionElement[datetime]):
    """A timestamp moved by whole hours, exactly."""

    type = UTCDateTime()
    inherit_cache = True
    name = "shifted"


@compiles(shifted, "postgresql")
def _shifted_postgresql(element: shifted, compiler: Any, **kw: Any) -> str:
    value, hours = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({value} + make_interval(hours => {hours}))"


@compiles(shifted, "sqlite")
def _shifted_sqlite(element: shifted, compiler: Any, **kw: Any) -> str:
    value, hours = (compiler.process(clause, **kw) for clause in element.clauses)
    # strftime works in milliseconds: move the whole seconds, carry the microseconds over as they are.
    return (f"(strftime('%Y-%m-%d %H:%M:%S', substr({value}, 1, 19), ({hours}) || ' hours')"
            f" || substr({value}, 20))")


class by_agent(FunctionElement[bool]):
    """The actor is a person answering (`agent:<id>`); case-sensitive on both dialects."""

    type = Boolean()
    inherit_cache = True
    name = "by_agent"


@compiles(by_agent, "postgresql")
def _by_agent_postgresql(element: by_agent, compiler: Any, **kw: Any) -> str:
    # A constant LIKE prefix is estimated from the column's statistics; a function of the column would get a
    # blind guess of "almost no rows", and such guesses give nested loops over whole tables.
    return f"({compiler.process(list(element.clauses)[0], **kw)} LIKE '{AGENT_PREFIX}%')"


@compiles(by_agent, "sqlite")
def _by_agent_sqlite(element: by_agent, compiler: Any, **kw: Any) -> str:
    value = compiler.process(list(element.clauses)[0], **kw)
    return f"(substr({value}, 1, {len(AGENT_PREFIX)}) = '{AGENT_PREFIX}')"  # SQLite's LIKE ignores case


def _hours(value: ColumnElement[Any], hours: int) -> ColumnElement[datetime]:
    return shifted(value, literal(int(hours), Integer()))


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _total(condition: ColumnElement[bool], amount: ColumnElement[Any]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, amount), else_=0)), 0)


def _day_of(moment: SQLColumnExpression[datetime], days: Sequence[Day]) -> ColumnElement[str]:
    """The local day a moment falls on, by bisecting the day boundaries: a CASE a few levels deep."""
    if len(days) == 1:
        return literal(days[0][0], String())
    middle = len(days) // 2
    return case((moment < literal(days[middle][1], UTCDateTime()), _day_of(moment, days[:middle])),
                else_=_day_of(moment, days[middle:]))


def _story() -> Any:
    """Each case merged into another, with the case its conversation continues on (merges followed to the end)."""
    step, end = aliased(Case, name="step"), aliased(Case, name="story_end")
    chain = (select(Case.id, Case.merged_into_case_id.label("root"), literal(1, Integer()).label("depth"))
             .where(Case.merged_into_case_id.is_not(None)).cte("merge_chain", recursive=True))
    chain = chain.union_all(select(chain.c.id, step.merged_into_case_id, chain.c.depth + 1)
                            .join(step, step.id == chain.c.root)
                            .where(step.merged_into_case_id.is_not(None), chain.c.depth < MAX_MERGE_CHAIN))
    return (select(chain.c.id, chain.c.root).join(end, end.id == chain.c.root)
            .where(end.merged_into_case_id.is_(None)).cte("story").prefix_with("MATERIALIZED"))


def _in_range(column: SQLColumnExpression[datetime], days: Sequence[Day]) -> ColumnElement[bool]:
    return and_(column >= days[0][1], column < days[-1][2])


def _merged_transitions(days: Sequence[Day], story: Any) -> Any:
    """Transitions to people of the cases merged into a case of the range (few): with that case, when their own
    case began, and their position in that story's merged transitions (1: the earliest)."""
    kept, absorbed = aliased(Case, name="kept"), aliased(Case, name="absorbed")
    position = func.row_number().over(partition_by=story.c.root, order_by=(Handoff.queued_at, Handoff.id))
    return (select(story.c.root, absorbed.created_at.label("opened"), Handoff.id, Handoff.case_id, Handoff.reason,
                   Handoff.intent, Handoff.team, Handoff.bot_turns, Handoff.queued_at, Handoff.accepted_at,
                   Handoff.ended_at, Handoff.outcome, Handoff.decision, Handoff.overflow_choice,
                   position.label("position"))
            .join(kept, and_(kept.id == story.c.root, _in_range(kept.created_at, days)))
            .join(absorbed, absorbed.id == story.c.id)
            .join(Handoff, and_(Handoff.case_id == story.c.id, Handoff.direction == "to_human"))
            .cte("merged_transitions").prefix_with("MATERIALIZED"))


def _keyed(days: Sequence[Day], story: Any, merged: Any) -> Any:
    """Each case of the range counted on its own, with its cell: local day, channel, and the team and intent of its
    story's first transition to people (its own first, unless one of a case merged into it came earlier)."""
    own, earlier = aliased(Handoff, name="first_handoff"), aliased(Handoff, name="earlier")
    before_first = exists().where(earlier.case_id == own.case_id, earlier.direction == "to_human",
                                  earlier.id < own.id)
    other = merged.alias("merged_first")
    absorbed = aliased(Case, name="absorbed_reasks")
    reasks = (select(story.c.root, func.max(absorbed.reask_turns).label("reask_turns"))
              .join(absorbed, absorbed.id == story.c.id).group_by(story.c.root).cte("merged_reasks"))
    theirs = and_(other.c.id.is_not(None), or_(own.id.is_(None), other.c.queued_at < own.queued_at))

    def first(mine: SQLColumnExpression[Any], their: SQLColumnExpression[Any]) -> ColumnElement[Any]:
        return case((theirs, their), else_=mine)

    first_id = first(own.id, other.c.id)
    assisted = first_id.is_not(None)
    return (select(Case.id, Case.customer_id, Case.status, Case.csat, Case.created_at, Case.resolved_at,
                   case((or_(Case.reask_turns > 0, func.coalesce(reasks.c.reask_turns, 0) > 0), 1),
                        else_=0).label("reasked"),
                   _day_of(Case.created_at, days).label("day"), Case.channel, first_id.label("first_id"),
                   first(own.reason, other.c.reason).label("first_reason"),
                   case((assisted, func.coalesce(first(own.team, other.c.team), "")), else_=BOT_ONLY).label("team"),
                   case((assisted, func.coalesce(first(own.intent, other.c.intent), "")),
                        else_=BOT_ONLY).label("intent"))
            .outerjoin(own, and_(own.case_id == Case.id, own.direction == "to_human", ~before_first))
            .outerjoin(other, and_(other.c.root == Case.id, other.c.position == 1))
            .outerjoin(reasks, reasks.c.root == Case.id)
            .where(_in_range(Case.created_at, days), Case.merged_into_case_id.is_(None))
            .cte("keyed").prefix_with("MATERIALIZED"))


def _returns(keyed: Any, window_hours: int) -> Any:
    """Per case with other cases of its customer: was it recontacted after closing, is it itself a recontact.
    A case merged into another is no case of its own here either."""
    other = aliased(Case, name="other")
    recontacted = and_(other.created_at > keyed.c.resolved_at,
                       other.created_at <= _hours(keyed.c.resolved_at, window_hours))
    recontact = and_(other.resolved_at < keyed.c.created_at,
                     other.resolved_at >= _hours(keyed.c.created_at, -window_hours))
    return (select(keyed.c.id, func.max(case((recontacted, 1), else_=0)).label("recontacted"),
                   func.max(case((recontact, 1), else_=0)).label("recontact"))
            .join(other, and_(other.customer_id == keyed.c.customer_id, other.id != keyed.c.id,
                              other.merged_into_case_id.is_(None)))
            .group_by(keyed.c.id).cte("customer_returns"))


def _handed(keyed: Any, merged: Any) -> Any:
    """Every transition to people (bot to people and transfers) of the range's stories, with the case's cell;
    `created_at` is when the transition's own case began (its first stretch with the assistant)."""
    k, m = keyed.c, merged.c
    cell = (k.day, k.channel, k.team, k.intent)
    own = (select(*cell, k.created_at, Handoff.id, Handoff.case_id, Handoff.reason, Handoff.bot_turns,
                  Handoff.queued_at, Handoff.accepted_at, Handoff.ended_at, Handoff.outcome, Handoff.decision,
                  Handoff.overflow_choice)
           .join(keyed, k.id == Handoff.case_id).where(Handoff.direction == "to_human"))
    theirs = select(*cell, m.opened, m.id, m.case_id, m.reason, m.bot_turns, m.queued_at, m.accepted_at,
                    m.ended_at, m.outcome, m.decision, m.overflow_choice).join(keyed, k.id == m.root)
    return union_all(own, theirs).cte("handed").prefix_with("MATERIALIZED")


def _first_replies(handed: Any) -> Any:
    """The first agent message at or after queueing, before the transition ended."""
    reply = aliased(TimelineEvent, name="reply")
    return (select(handed.c.id, func.min(reply.created_at).label("first_reply"))
            .join(reply, and_(reply.case_id == handed.c.case_id, reply.created_at >= handed.c.queued_at,
                              or_(handed.c.ended_at.is_(None), reply.created_at <= handed.c.ended_at)))
            .where(reply.kind == "message", reply.direction == "out", by_agent(reply.actor))
            .group_by(handed.c.id).cte("first_replies"))


def _back_to_bot(handed: Any) -> Any:
    """The latest return to the assistant before each transition: its stretch with the assistant began there."""
    back, later = aliased(Handoff, name="back"), aliased(Handoff, name="later_back")
    newer = exists().where(later.case_id == back.case_id, later.direction == "to_bot", later.id > back.id,
                           later.id < handed.c.id)
    return (select(handed.c.id, func.coalesce(back.ended_at, back.queued_at).label("since"))
            .join(back, and_(back.case_id == handed.c.case_id, back.direction == "to_bot", back.id < handed.c.id))
            .where(~newer).cte("back_to_bot"))


def _sla_target(channel: ColumnElement[str], sla: Mapping[str, int]) -> ColumnElement[Any]:
    """The channel's first-response target in microseconds, NULL where it has none."""
    none = cast(null(), BigInteger())  # typed: PostgreSQL reads an untyped NULL column as text
    if not sla:
        return none
    return case(*((channel == name, literal(int(seconds) * MICROS, BigInteger()))
                  for name, seconds in sorted(sla.items())), else_=none)


def _case_sums(keyed: Any, returns: Any) -> Select[Any]:
    """What each case itself adds, on the cell of its first transition to people."""
    k = keyed.c
    assisted, resolved, with_csat = k.first_id.is_not(None), k.status == "resolved", k.csat.is_not(None)
    sums = {
        "cases": func.count(), "assisted": _count(assisted), "resolved": _count(resolved),
        "fcr": _count(and_(resolved, func.coalesce(returns.c.recontacted, 0) == 0)),
        "recontacts": _count(returns.c.recontact == 1),
        "csat_bot_sum": _total(and_(~assisted, with_csat), k.csat),
        "csat_bot_responses": _count(and_(~assisted, with_csat)),
        "csat_assisted_sum": _total(and_(assisted, with_csat), k.csat),
        "csat_assisted_responses": _count(and_(assisted, with_csat)),
        "reasked": _count(k.reasked == 1),
    }
    keys = (k.day, k.channel, k.team, k.intent, k.first_reason)
    return (select(*keys, *_in_order(sums)).select_from(keyed).outerjoin(returns, returns.c.id == k.id)
            .group_by(*keys))


def _measured(handed: Any, sla: Mapping[str, int]) -> Any:
    """Each transition to people, measured once: flags as 0/1 and durations in microseconds (NULL: not measured)."""
    h = handed.c
    replies, back = _first_replies(handed), _back_to_bot(handed)

    def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return case((condition, 1), else_=0)

    return (select(h.day, h.channel, h.team, h.intent, h.reason, func.coalesce(h.bot_turns, 0).label("bot_turns"),
                   flag(h.reason != TRANSFER).label("from_bot"),
                   elapsed_us(h.queued_at, func.coalesce(back.c.since, h.created_at)).label("bot_us"),
                   elapsed_us(h.accepted_at, h.queued_at).label("wait_us"),
                   elapsed_us(replies.c.first_reply, h.queued_at).label("response_us"),
                   elapsed_us(h.ended_at, h.accepted_at).label("handle_us"),
                   flag(and_(h.outcome == "abandoned", h.accepted_at.is_(None))).label("abandoned"),
                   # ended and still people's to meet: a withdrawn or merged one is not (measures.sla_met)
                   flag(and_(h.ended_at.is_not(None), func.coalesce(h.outcome, "").not_in((WITHDRAWN, MERGED))))
                   .label("ended"),
                   _sla_target(h.channel, sla).label("target_us"),
                   flag(and_(h.reason != TRANSFER, h.decision == OVERFLOW)).label("overflowed"),
                   h.overflow_choice)
            .select_from(handed)
            .outerjoin(replies, replies.c.id == h.id).outerjoin(back, back.c.id == h.id)
            .cte("measured").prefix_with("MATERIALIZED"))


def _handoff_sums(handed: Any, sla: Mapping[str, int]) -> Select[Any]:
    """What each transition to people adds, on the cell of its case and its own reason."""
    m = _measured(handed, sla).c
    from_bot, abandoned = m.from_bot == 1, m.abandoned == 1
    answered, waited, handled = m.response_us.is_not(None), m.wait_us.is_not(None), m.handle_us.is_not(None)
    checked = and_(m.target_us.is_not(None), or_(answered, abandoned, m.ended == 1))
    sums = {
        "handoffs": _count(from_bot), "bot_turns": _total(from_bot, m.bot_turns),
        "bot_us": _total(from_bot, m.bot_us),
        "waits": _count(waited), "wait_us": _total(waited, m.wait_us),
        "queue_done": _count(or_(waited, abandoned)), "abandoned": _count(abandoned),
        "responses": _count(answered), "response_us": _total(answered, m.response_us),
        "handled": _count(handled), "handle_us": _total(handled, m.handle_us),
        "sla_checks": _count(checked), "sla_met": _count(and_(checked, m.response_us <= m.target_us)),
        "overflowed": _count(m.overflowed == 1),
        **{f"chose_{choice}": _count(and_(m.overflowed == 1, m.overflow_choice == choice))
           for choice in OVERFLOW_CHOICES},
    }
    keys = (m.day, m.channel, m.team, m.intent, m.reason)
    return select(*keys, *_in_order(sums)).group_by(*keys)


def _in_order(sums: Mapping[str, ColumnElement[Any]]) -> list[ColumnElement[Any]]:
    """Every cell sum in the order of facts.Cell, 0 for those this part does not measure."""
    return [sums.get(name, literal(0, BigInteger())).label(name) for name in CELL_SUMS]


def dashboard_cells(days: Sequence[Day], window_hours: int, sla: Mapping[str, int]) -> CompoundSelect[Any]:
    """Rows of (day, channel, team, intent, reason, sums...) in the order of facts.Cell; a key may come
    twice (once with the cases' sums, once with the transitions'): the KPI arithmetic adds cells up anyway."""
    story = _story()
    merged = _merged_transitions(days, story)
    keyed = _keyed(days, story, merged)
    return union_all(_case_sums(keyed, _returns(keyed, window_hours)), _handoff_sums(_handed(keyed, merged), sla))


def commitment_counts(start: datetime, end: datetime, now: datetime) -> Select[Any]:
    """One row: the commitments due within [start, end) by outcome at `now` (kept on time, kept late, broken,
    overdue, pending), the same definitions as measures.commitment_outcome."""
    kept, still_open = Commitment.status == "kept", Commitment.status == "open"
    return select(
        _count(and_(kept, Commitment.kept_at <= Commitment.due_at)).label("kept_on_time"),
        _count(and_(kept, Commitment.kept_at > Commitment.due_at)).label("kept_late"),
        _count(Commitment.status == "broken").label("broken"),
        _count(and_(still_open, Commitment.due_at <= now)).label("overdue"),
        _count(and_(still_open, Commitment.due_at > now)).label("pending"),
    ).where(Commitment.due_at >= start, Commitment.due_at < end)
