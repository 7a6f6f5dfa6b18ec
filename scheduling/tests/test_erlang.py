"""Erlang C against published values, closed forms, an independent log-space
computation, and its limits (no traffic, unstable queues, impossible inputs)."""

import math

import pytest

from scheduling import erlang


def erlang_b_log_space(traffic: float, agents: int) -> float:
    """B(n, A) = (A^n / n!) / sum_k (A^k / k!), each term in logs (an independent method)."""
    logs = [k * math.log(traffic) - math.lgamma(k + 1) for k in range(agents + 1)]
    top = max(logs)
    return math.exp(logs[-1] - top) / sum(math.exp(x - top) for x in logs)


# The worked example of "Erlang C Formula - Made Simple" (Call Centre Helper), used in most
# workforce-management courses: 100 calls in 30 minutes, 180 s handle time, 80 % answered
# in 20 s, 85 % maximum occupancy, 30 % shrinkage. It publishes: 10 Erlangs; 11 agents
# wait 68.21 % of the time; 14 agents are needed (88.8 %, ASA 7.8 s, occupancy 71.4 %);
# 20 people once shrinkage is added.


def test_published_example_traffic_is_ten_erlangs():
    assert erlang.traffic_erlangs(100, 180, 1800) == pytest.approx(10.0)


def test_published_example_per_agent_count():
    assert erlang.probability_of_waiting(10.0, 11) == pytest.approx(0.6821, abs=5e-5)
    assert erlang.probability_of_waiting(10.0, 14) == pytest.approx(0.1741, abs=5e-5)
    assert erlang.service_level(10.0, 14, 180, 20) == pytest.approx(0.888, abs=5e-4)
    assert erlang.average_speed_of_answer(10.0, 14, 180) == pytest.approx(7.8, abs=0.05)
    # 13 agents fall just short of 80 %: that is why the answer is 14.
    assert erlang.service_level(10.0, 13, 180, 20) < 0.80


def test_published_example_needs_14_agents_and_20_people_at_30_percent_shrinkage():
    result = erlang.staffing(10.0, 180, 20, 0.80, max_occupancy=0.85, shrinkage=0.30)
    assert result.agents == 14  # 13 agents give 79.6 %, just under the target
    assert result.headcount == 20  # 14 / 0.7
    assert result.service_level == pytest.approx(0.8884, abs=5e-5)
    assert result.occupancy == pytest.approx(10 / 14)
    assert result.asa_s == pytest.approx(7.84, abs=0.01)


def test_occupancy_cap_adds_agents_beyond_the_service_level():
    # 80/20 is met by 14 agents at 71 % occupancy; a 70 % cap needs ceil(10 / 0.7) = 15.
    assert erlang.required_agents(10.0, 180, 20, 0.80, max_occupancy=0.70) == 15
    assert erlang.required_agents(10.0, 180, 20, 0.80, max_occupancy=0.85) == 14


def test_erlang_b_table_values():
    # Published Erlang B tables: 10 circuits at 5 Erlangs block 1.84 %; B(1, A) = A / (1 + A).
    assert erlang.erlang_b(5.0, 10) == pytest.approx(0.018385, abs=1e-6)
    assert erlang.erlang_b(3.0, 1) == pytest.approx(3 / 4)
    assert erlang.erlang_b(0.0, 3) == 0.0


def test_single_agent_closed_forms():
    # M/M/1: the probability of waiting is the utilisation, ASA = rho * AHT / (1 - rho).
    assert erlang.probability_of_waiting(0.6, 1) == pytest.approx(0.6)
    assert erlang.average_speed_of_answer(0.6, 1, 300) == pytest.approx(0.6 * 300 / 0.4)
    # M/M/2 with one Erlang: C = 1/3.
    assert erlang.probability_of_waiting(1.0, 2) == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("traffic", "agents"),
    [(0.3, 1), (7.5, 9), (95.2, 101), (480.0, 500), (1999.5, 2050), (4000.0, 4100), (12000.0, 12200)],
)
def test_erlang_b_matches_an_independent_log_space_computation(traffic, agents):
    assert erlang.erlang_b(traffic, agents) == pytest.approx(erlang_b_log_space(traffic, agents), rel=1e-10)


def test_very_large_center_has_no_overflow_and_sane_answers():
    # 50,000 Erlangs (100,000 calls per half-hour at 15 minutes each): no factorial
    # overflow, and the requirement sits a little above the traffic, as it must.
    result = erlang.staffing(50_000.0, 900, 20, 0.80)
    assert 50_000 < result.agents < 50_200
    assert 0.80 <= result.service_level < 1
    assert erlang.service_level(50_000.0, result.agents - 1, 900, 20) < 0.80
    assert 0 <= result.asa_s < 20


def test_service_level_rises_with_every_agent():
    levels = [erlang.service_level(200.0, n, 240, 20) for n in range(201, 240)]
    assert levels == sorted(levels)
    assert levels[0] < 0.2 and levels[-1] > 0.99


def test_required_agents_is_the_first_count_meeting_the_target():
    for traffic in (0.2, 1.0, 3.7, 42.0, 333.3, 1500.0):
        n = erlang.required_agents(traffic, 300, 30, 0.9)
        assert erlang.service_level(traffic, n, 300, 30) >= 0.9
        if n - 1 > traffic:
            assert erlang.service_level(traffic, n - 1, 300, 30) < 0.9


def test_no_traffic_needs_no_agent():
    assert erlang.required_agents(0.0, 300, 20, 0.8) == 0
    result = erlang.staffing(0.0, 300, 20, 0.8, shrinkage=0.3)
    assert (result.agents, result.headcount, result.service_level, result.asa_s) == (0, 0, 1.0, 0.0)
    assert erlang.outcome(0.0, 0, 300, 20).stable


@pytest.mark.parametrize("agents", [0, 5, 10])
def test_unstable_queue_is_reported_not_divided_by_zero(agents):
    # 10 Erlangs on 10 agents or fewer: the queue grows without bound.
    for call in (
        lambda: erlang.probability_of_waiting(10.0, agents),
        lambda: erlang.service_level(10.0, agents, 180, 20),
        lambda: erlang.average_speed_of_answer(10.0, agents, 180),
        lambda: erlang.occupancy(10.0, agents),
    ):
        with pytest.raises(erlang.UnstableQueueError) as excinfo:
            call()
        assert excinfo.value.agents == agents
        assert "at least 11 agents" in str(excinfo.value)
    result = erlang.outcome(10.0, agents, 180, 20)
    assert (result.stable, result.probability_of_waiting, result.service_level, result.asa_s) == (False, 1.0, 0.0, None)


def test_outcome_of_a_stable_queue_matches_the_functions():
    result = erlang.outcome(10.0, 13, 180, 20)
    assert result.stable
    assert result.service_level == erlang.service_level(10.0, 13, 180, 20)
    assert result.asa_s == erlang.average_speed_of_answer(10.0, 13, 180)
    assert result.occupancy == pytest.approx(10 / 13)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: erlang.required_agents(-1.0, 180, 20, 0.8), "traffic"),
        (lambda: erlang.required_agents(float("nan"), 180, 20, 0.8), "traffic"),
        (lambda: erlang.required_agents(10.0, 0, 20, 0.8), "aht_s"),
        (lambda: erlang.required_agents(10.0, 180, -5, 0.8), "threshold_s"),
        (lambda: erlang.required_agents(10.0, 180, 20, 1.0), "target"),  # 100 % is never reached
        (lambda: erlang.required_agents(10.0, 180, 20, 1.2), "target"),
        (lambda: erlang.required_agents(10.0, 180, 20, -0.1), "target"),
        (lambda: erlang.required_agents(10.0, 180, 20, 0.8, max_occupancy=0), "max_occupancy"),
        (lambda: erlang.required_agents(10.0, 180, 20, 0.8, max_occupancy=1.5), "max_occupancy"),
        (lambda: erlang.staffing(10.0, 180, 20, 0.8, shrinkage=1.0), "shrinkage"),
        (lambda: erlang.headcount(10, -0.1), "shrinkage"),
        (lambda: erlang.service_level(10.0, 12.5, 180, 20), "agents"),
        (lambda: erlang.service_level(10.0, -1, 180, 20), "agents"),
        (lambda: erlang.traffic_erlangs(-3, 180), "calls"),
        (lambda: erlang.traffic_erlangs(3, 180, 0), "interval_s"),
    ],
)
def test_impossible_inputs_name_the_field(call, field):
    with pytest.raises(erlang.ErlangInputError) as excinfo:
        call()
    assert excinfo.value.field == field


def test_headcount_is_not_fooled_by_floating_point():
    # 21 / (1 - 0.3) is 30.000000000000004 in floating point: 30 people, not 31.
    assert 21 / (1 - 0.3) > 30
    assert erlang.headcount(21, 0.3) == 30
    assert erlang.headcount(22, 0.3) == 32
    assert erlang.headcount(0, 0.3) == 0


def test_productive_agents_out_of_a_headcount():
    assert erlang.productive_agents(20, 0.3) == 14
    assert erlang.productive_agents(19, 0.3) == 13  # 13.3: a part-time agent does not exist
    assert erlang.productive_agents(30, 0.3) == 21  # 21.000000000000004 is 21
