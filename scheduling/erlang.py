"""Erlang C: how many agents a queue needs, and what a given number of agents achieves.

Pure functions, no Django: the staffing of the coverage page, the day-off approval
screen, the staffing calculator API and the benchmark (bench/erlang/) all call these.
The formulas and the numerical method are in docs/erlang.md.

Units: traffic in Erlangs (calls × handle time ÷ interval length), times in seconds,
service level, occupancy and shrinkage as fractions (0.8, not 80).

Numerically sound for very large centers: the Erlang B recursion
``B(n) = A·B(n-1) / (n + A·B(n-1))`` stays in (0, 1] for every n, so there are no
factorials or powers to overflow; Erlang C is derived from B. A queue whose traffic is
at least its number of agents is unstable (the wait grows without bound): the
functions that have no finite answer then raise UnstableQueueError, never
ZeroDivisionError; ``outcome()`` reports it as ``stable=False`` for displays.
"""

from __future__ import annotations

import math
from typing import NamedTuple

# A value within this relative distance of a whole number is that whole number when
# rounding agents up: 21 agents at 30 % shrinkage is 21 / 0.7 = 30.000000000000004 in
# floating point, and 30 people, not 31.
_CEIL_TOLERANCE = 1e-9


class ErlangInputError(ValueError):
    """An impossible input (negative traffic, a target above 100 %…); `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class UnstableQueueError(ValueError):
    """Traffic is at least the number of agents: every caller waits and the queue grows
    without bound, so waiting probability is 1, service level 0 and ASA infinite."""

    def __init__(self, traffic: float, agents: int):
        super().__init__(
            f"{agents} agents cannot carry {traffic:.2f} Erlangs: the queue grows without bound "
            f"(at least {math.floor(traffic) + 1} agents are needed for a stable queue)."
        )
        self.traffic = traffic
        self.agents = agents


class Staffing(NamedTuple):
    """What a queue needs to meet its target, and what that staffing achieves."""

    traffic: float  # Erlangs
    agents: int  # productive agents on the phones (Erlang C and the occupancy cap)
    headcount: int  # people to schedule once shrinkage is taken out
    service_level: float  # fraction answered within the threshold with `agents`
    asa_s: float  # average speed of answer with `agents`, seconds
    occupancy: float  # traffic / agents
    probability_of_waiting: float


class Outcome(NamedTuple):
    """What a given number of agents achieves; `stable` is False when they cannot keep up."""

    traffic: float
    agents: int
    stable: bool
    probability_of_waiting: float  # 1.0 when unstable
    service_level: float  # 0.0 when unstable
    asa_s: float | None  # None (infinite) when unstable
    occupancy: float  # capped at 1.0


# --- Input checks ---------------------------------------------------------------


def _check_number(field: str, value, *, minimum: float | None = None) -> float:
    if type(value) is not float and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ErlangInputError(field, f"{field} must be a number.")
    if not math.isfinite(value):
        raise ErlangInputError(field, f"{field} must be a finite number.")
    if minimum is not None and value < minimum:
        raise ErlangInputError(field, f"{field} cannot be below {minimum:g} (got {value:g}).")
    return float(value)


def _check_traffic(traffic) -> float:
    return _check_number("traffic", traffic, minimum=0)


def _check_agents(agents) -> int:
    if isinstance(agents, bool) or not isinstance(agents, int):
        raise ErlangInputError("agents", "agents must be a whole number.")
    if agents < 0:
        raise ErlangInputError("agents", f"agents cannot be negative (got {agents}).")
    return agents


def _check_aht(aht_s) -> float:
    aht_s = _check_number("aht_s", aht_s)
    if aht_s <= 0:
        raise ErlangInputError("aht_s", f"The average handle time must be above 0 s (got {aht_s:g}).")
    return aht_s


def _check_threshold(threshold_s) -> float:
    return _check_number("threshold_s", threshold_s, minimum=0)


def _check_fraction(field: str, value, *, low_open: bool, high_open: bool, what: str) -> float:
    value = _check_number(field, value)
    too_low = value <= 0 if low_open else value < 0
    too_high = value >= 1 if high_open else value > 1
    if too_low or too_high:
        low = "above 0" if low_open else "at least 0"
        high = "below 1 (100 %)" if high_open else "at most 1 (100 %)"
        raise ErlangInputError(field, f"{what} must be {low} and {high} (got {value:g}).")
    return value


def _ceil(value: float) -> int:
    """Round up, treating a value within floating-point noise of a whole number as it."""
    nearest = round(value)
    if abs(value - nearest) <= _CEIL_TOLERANCE * max(1.0, abs(value)):
        return int(nearest)
    return math.ceil(value)


# --- Erlang B and C -----------------------------------------------------------------


def _erlang_b(a: float, n: int) -> float:
    """Erlang B blocking probability B(n, A) for A > 0, by the stable recursion.

    The recursion forgets where it started: each step to k multiplies the relative
    error of B by (1 - B(k)) (see docs/erlang.md). Below A, B(m) is close to 1 - m/A
    and the steps shrink an error fast, so for large A the recursion starts from that
    value K = 9·√A + 10 steps below min(n, A) instead of from B(0) = 1: the starting
    error is multiplied by about e^(-K²/2A) < e^(-40) on the way, below 1e-17. One
    evaluation costs O(√A + n - A) steps instead of O(n).
    """
    if n == 0:
        return 1.0
    start = min(n, math.floor(a)) - int(9.0 * math.sqrt(a)) - 10
    if start > 0:
        b = 1.0 - start / a  # 0 < start < A, so 0 < b < 1
    else:
        start, b = 0, 1.0
    # The same recursion on x = 1/B: x(k) = 1 + x(k-1)·k/A (no division: a third faster).
    # x only grows past 1e308 when B is below 1e-308, and then 1/x = 0.0 is B in floats.
    x = 1.0 / b
    step = 1.0 / a
    for k in range(start + 1, n + 1):
        x = 1.0 + x * (k * step)
    return 1.0 / x


def _erlang_c_from_b(a: float, n: int, b: float) -> float:
    # C(n, A) = n·B / (n - A·(1 - B)), valid for n > A (then the denominator is > 0).
    return n * b / (n - a * (1.0 - b))


def erlang_b(traffic: float, agents: int) -> float:
    """Blocking probability of a loss system (no queue): B(agents, traffic)."""
    a = _check_traffic(traffic)
    n = _check_agents(agents)
    if a == 0:
        return 1.0 if n == 0 else 0.0
    return _erlang_b(a, n)


def probability_of_waiting(traffic: float, agents: int) -> float:
    """Erlang C: the probability that a call waits at all. Raises UnstableQueueError
    when agents <= traffic (> 0)."""
    a = _check_traffic(traffic)
    n = _check_agents(agents)
    if a == 0:
        return 0.0
    if n <= a:
        raise UnstableQueueError(a, n)
    return _erlang_c_from_b(a, n, _erlang_b(a, n))


def _service_level(a: float, n: int, c: float, aht_s: float, threshold_s: float) -> float:
    # Same operation order as pyworkforce, so both give the same float for the same input.
    return max(0.0, 1.0 - c * math.exp(-(n - a) * (threshold_s / aht_s)))


def service_level(traffic: float, agents: int, aht_s: float, threshold_s: float) -> float:
    """Fraction of calls answered within threshold_s: 1 - C·e^(-(n-A)·T/AHT)."""
    a = _check_traffic(traffic)
    n = _check_agents(agents)
    aht_s = _check_aht(aht_s)
    threshold_s = _check_threshold(threshold_s)
    if a == 0:
        return 1.0
    if n <= a:
        raise UnstableQueueError(a, n)
    c = _erlang_c_from_b(a, n, _erlang_b(a, n))
    return _service_level(a, n, c, aht_s, threshold_s)


def average_speed_of_answer(traffic: float, agents: int, aht_s: float) -> float:
    """Mean wait of all calls (answered immediately count 0), seconds: C·AHT / (n - A)."""
    a = _check_traffic(traffic)
    n = _check_agents(agents)
    aht_s = _check_aht(aht_s)
    if a == 0:
        return 0.0
    if n <= a:
        raise UnstableQueueError(a, n)
    c = _erlang_c_from_b(a, n, _erlang_b(a, n))
    return c * aht_s / (n - a)


def occupancy(traffic: float, agents: int) -> float:
    """Fraction of time the agents spend handling calls: A / n (only below 1 when stable)."""
    a = _check_traffic(traffic)
    n = _check_agents(agents)
    if a == 0:
        return 0.0
    if n <= a:
        raise UnstableQueueError(a, n)
    return a / n


def traffic_erlangs(calls: float, aht_s: float, interval_s: float = 1800) -> float:
    """Offered traffic in Erlangs: calls per second × handle time (same order of
    operations as pyworkforce, so both see the same float)."""
    if not (
        type(calls) in _NUMBER_TYPES
        and type(aht_s) in _NUMBER_TYPES
        and type(interval_s) in _NUMBER_TYPES
        and 0 <= calls < math.inf
        and 0 < aht_s < math.inf
        and 0 < interval_s < math.inf
    ):
        calls = _check_number("calls", calls, minimum=0)
        aht_s = _check_aht(aht_s)
        interval_s = _check_number("interval_s", interval_s)
        if interval_s <= 0:
            raise ErlangInputError("interval_s", f"The interval must be above 0 s (got {interval_s:g}).")
    return (calls / interval_s) * aht_s


def headcount(agents: int, shrinkage: float) -> int:
    """People to schedule so that `agents` are on the phones once shrinkage (breaks,
    training, absence: the fraction of paid time not on the phones) is taken out."""
    n = _check_agents(agents)
    s = _check_fraction("shrinkage", shrinkage, low_open=False, high_open=True, what="Shrinkage")
    return _ceil(n / (1.0 - s))


def required_agents(traffic: float, aht_s: float, threshold_s: float, target: float, max_occupancy: float = 1.0) -> int:
    """The fewest agents that answer `target` of the calls within `threshold_s`, and keep
    occupancy at or below `max_occupancy`. 0 when there is no traffic.

    The search walks up from the smallest stable count, floor(A) + 1, one agent at a
    time, each step one iteration of the Erlang B recursion; the service level rises
    with every agent, so the first that meets the target is the answer, unless the
    occupancy cap asks for more: then ceil(A / max_occupancy).
    """
    a, aht_s, threshold_s, target, max_occupancy, _ = _staffing_args(
        traffic, aht_s, threshold_s, target, max_occupancy, 0.0
    )
    return _required(a, aht_s, threshold_s, target, max_occupancy)[0]


_NUMBER_TYPES = (int, float)


def _staffing_args(traffic, aht_s, threshold_s, target, max_occupancy, shrinkage):
    """The validated inputs of a staffing question, as floats. A fast path for good
    input (the benchmark staffs thousands of half-hours), the field checks otherwise."""
    if (
        type(traffic) in _NUMBER_TYPES
        and type(aht_s) in _NUMBER_TYPES
        and type(threshold_s) in _NUMBER_TYPES
        and type(target) in _NUMBER_TYPES
        and type(max_occupancy) in _NUMBER_TYPES
        and type(shrinkage) in _NUMBER_TYPES
        and 0 <= traffic < math.inf
        and 0 < aht_s < math.inf
        and 0 <= threshold_s < math.inf
        and 0 <= target < 1
        and 0 < max_occupancy <= 1
        and 0 <= shrinkage < 1
    ):
        return traffic, aht_s, threshold_s, target, max_occupancy, shrinkage
    return (
        _check_traffic(traffic),
        _check_aht(aht_s),
        _check_threshold(threshold_s),
        _check_target(target),
        _check_max_occupancy(max_occupancy),
        _check_fraction("shrinkage", shrinkage, low_open=False, high_open=True, what="Shrinkage"),
    )


def _check_target(target) -> float:
    # 100 % is never reached: the service level of Erlang C only tends to 1.
    return _check_fraction("target", target, low_open=False, high_open=True, what="The service-level target")


def _check_max_occupancy(max_occupancy) -> float:
    return _check_fraction("max_occupancy", max_occupancy, low_open=True, high_open=False, what="The maximum occupancy")


def _required(a: float, aht_s: float, threshold_s: float, target: float, max_occupancy: float):
    """(agents, m, B(m)) for validated inputs: m <= agents is where the search stopped.

    The answer is the fewest agents n with n > A (a stable queue), A / n <= max_occupancy
    and SL(n) >= target, i.e. max(the fewest stable n meeting the target, the occupancy
    bound). The service level rises with every agent, so the search walks up from the
    smallest stable count, floor(A) + 1, one recursion step per agent. When the target
    is met below the occupancy bound, the bound is the answer: required_agents() stops
    there, staffing() runs the recursion on from m to the bound for its figures.
    The bound is ceil(A / max_occupancy), rounded up tolerantly of float noise (25.5
    Erlangs at 85 % is 30 agents, although 25.5 / 0.85 = 30.000000000000004).
    """
    if a == 0:
        return 0, 0, 1.0
    n = math.floor(a) + 1
    b = _erlang_b(a, n)
    # The loop inlines C(n) = n·B / (n - A·(1 - B)) and SL(n) = 1 - C·e^(-(n-A)·T/AHT)
    # (the helpers above, same operation order): it runs for every half-hour of a week.
    decay = threshold_s / aht_s
    exp = math.exp
    while 1.0 - n * b / (n - a * (1.0 - b)) * exp(-(n - a) * decay) < target:
        n += 1
        ab = a * b
        b = ab / (n + ab)
    return max(n, _ceil(a / max_occupancy)), n, b


def staffing(
    traffic: float,
    aht_s: float,
    threshold_s: float,
    target: float,
    max_occupancy: float = 1.0,
    shrinkage: float = 0.0,
) -> Staffing:
    """Required agents and headcount for a target, with what they achieve."""
    a, aht_s, threshold_s, target, max_occupancy, shrinkage = _staffing_args(
        traffic, aht_s, threshold_s, target, max_occupancy, shrinkage
    )
    n, m, b = _required(a, aht_s, threshold_s, target, max_occupancy)
    if n == 0:
        return Staffing(a, 0, 0, 1.0, 0.0, 0.0, 0.0)
    if m < n:  # the occupancy cap asks for more agents than the target: B up to there
        x, step = 1.0 / b, 1.0 / a
        for k in range(m + 1, n + 1):
            x = 1.0 + x * (k * step)
        b = 1.0 / x
    c = _erlang_c_from_b(a, n, b)
    return Staffing(
        traffic=a,
        agents=n,
        headcount=_ceil(n / (1.0 - shrinkage)),
        service_level=_service_level(a, n, c, aht_s, threshold_s),
        asa_s=c * aht_s / (n - a),
        occupancy=a / n,
        probability_of_waiting=c,
    )


def outcome(traffic: float, agents: int, aht_s: float, threshold_s: float) -> Outcome:
    """What `agents` productive agents achieve on `traffic`; never raises for instability."""
    a = _check_traffic(traffic)
    n = _check_agents(agents)
    aht_s = _check_aht(aht_s)
    threshold_s = _check_threshold(threshold_s)
    if a == 0:
        return Outcome(a, n, True, 0.0, 1.0, 0.0, 0.0)
    if n <= a:
        return Outcome(a, n, False, 1.0, 0.0, None, 1.0)
    c = _erlang_c_from_b(a, n, _erlang_b(a, n))
    return Outcome(
        traffic=a,
        agents=n,
        stable=True,
        probability_of_waiting=c,
        service_level=_service_level(a, n, c, aht_s, threshold_s),
        asa_s=c * aht_s / (n - a),
        occupancy=a / n,
    )


def productive_agents(headcount: int, shrinkage: float) -> int:
    """Agents on the phones out of `headcount` scheduled people: floor(h·(1 - shrinkage))."""
    h = _check_agents(headcount)
    s = _check_fraction("shrinkage", shrinkage, low_open=False, high_open=True, what="Shrinkage")
    value = h * (1.0 - s)
    nearest = round(value)
    if abs(value - nearest) <= _CEIL_TOLERANCE * max(1.0, value):
        return int(nearest)
    return math.floor(value)
