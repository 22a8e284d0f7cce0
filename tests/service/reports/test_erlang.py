"""Erlang C (reports/erlang.py) against the textbook formula computed here independently, with factorials in exact
fractions: the waiting probability, the service level, and the fewest agents for a target and an occupancy cap."""
from __future__ import annotations

import math
from fractions import Fraction

import pytest

from handoff.reports.erlang import erlang_b, erlang_c, required_agents, service_level


def waits_exactly(agents: int, traffic: Fraction) -> Fraction:
    """Erlang C as printed: (Aᴺ/N!)·N/(N−A) over Σₖ₌₀ᴺ⁻¹ Aᵏ/k! + (Aᴺ/N!)·N/(N−A)."""
    top = traffic**agents / math.factorial(agents) * agents / (agents - traffic)
    return top / (sum(traffic**k / math.factorial(k) for k in range(agents)) + top)


def answered_in_time(agents: int, traffic: Fraction, aht: Fraction, seconds: int) -> float:
    return 1 - float(waits_exactly(agents, traffic)) * math.exp(-float(agents - traffic) * seconds / float(aht))


def fewest_agents(offered: Fraction, aht: Fraction, interval: int, target: float, seconds: int,
                  occupancy: float) -> int:
    """Brute force from one agent up with the printed formula."""
    traffic = Fraction(offered) * Fraction(aht) / interval
    agents = 1
    while not (agents > traffic and traffic / agents <= Fraction(occupancy).limit_denominator(1000)
               and answered_in_time(agents, traffic, aht, seconds) >= target):
        agents += 1
    return agents


@pytest.mark.parametrize(("agents", "traffic"), [(1, Fraction(1, 2)), (3, Fraction(5, 2)), (11, Fraction(10)),
                                                  (14, Fraction(10)), (40, Fraction(733, 20)),
                                                  (120, Fraction(2203, 20))])
def test_the_waiting_probability_is_the_factorial_formula(agents: int, traffic: Fraction) -> None:
    assert erlang_c(agents, float(traffic)) == pytest.approx(float(waits_exactly(agents, traffic)), rel=1e-12)
    blocking = (traffic**agents / math.factorial(agents)
                / sum(traffic**k / math.factorial(k) for k in range(agents + 1)))
    assert erlang_b(agents, float(traffic)) == pytest.approx(float(blocking), rel=1e-12)


def test_the_textbook_case_100_calls_of_3_minutes_in_half_an_hour_need_14_agents_for_80_in_20() -> None:
    # 10 erlangs: 13 agents answer 79.6 % within 20 s, 14 answer 88.8 %
    assert service_level(13, 10.0, 180, 20) == pytest.approx(answered_in_time(13, Fraction(10), Fraction(180), 20))
    assert round(service_level(13, 10.0, 180, 20), 3) == 0.796
    assert required_agents(100, 180, 1800, target=0.8, answer_seconds=20, max_occupancy=0.85) == 14


@pytest.mark.parametrize(("offered", "aht", "interval", "target", "seconds", "occupancy"), [
    (100, 180, 1800, 0.8, 20, 0.85), (1, 300, 900, 0.8, 60, 0.85), (7, 420, 1800, 0.9, 30, 0.85),
    (250, 240, 3600, 0.8, 20, 0.85), (40, 900, 1800, 0.8, 300, 0.7),  # the occupancy cap decides: 20 erlangs
    (30, 200, 900, 0.95, 10, 1.0), (333, 97, 1800, 0.5, 5, 0.9)])
def test_the_fewest_agents_equal_a_brute_force_over_the_formula(offered: int, aht: int, interval: int, target: float,
                                                                seconds: int, occupancy: float) -> None:
    assert required_agents(offered, aht, interval, target=target, answer_seconds=seconds,
                           max_occupancy=occupancy) == fewest_agents(Fraction(offered), Fraction(aht), interval,
                                                                     target, seconds, occupancy)


def test_the_occupancy_cap_binds_when_the_target_is_easy() -> None:
    # 20 erlangs with a 300 s answer target: Erlang C is met by 23 agents, 70 % occupancy needs 29
    assert required_agents(40, 900, 1800, target=0.8, answer_seconds=300, max_occupancy=1.0) == 23
    assert service_level(22, 20.0, 900, 300) < 0.8 <= service_level(23, 20.0, 900, 300)
    assert required_agents(40, 900, 1800, target=0.8, answer_seconds=300, max_occupancy=0.7) == 29


def test_nothing_offered_needs_nobody_and_an_overloaded_interval_is_never_met() -> None:
    assert required_agents(0, 300, 1800, target=0.8, answer_seconds=20, max_occupancy=0.85) == 0
    assert erlang_c(5, 5.0) == 1.0 and service_level(4, 5.0, 300, 20) == 0.0


def test_large_traffic_stays_finite() -> None:
    # 2,000 erlangs: factorials of that size overflow a float; the recursion does not
    agents = required_agents(12_000, 300, 1800, target=0.8, answer_seconds=20, max_occupancy=1.0)
    assert 2000 < agents < 2030
    assert service_level(agents - 1, 2000.0, 300, 20) < 0.8 <= service_level(agents, 2000.0, 300, 20)
