"""Benchmark: the staffing of one week (336 half-hours) for 20 queues, ours against
pyworkforce's Erlang C on the same inputs in the same run.

    .venv/bin/python bench/erlang/run.py [--repeat 5] [--oracle-repeat 3] [--seed 7]

Prints the median time of each (several repetitions), the speed ratio, and checks
that both give the same required agents (and headcount) on every input; any
difference is classified (see docs/erlang.md) and an unexplained one fails the run.
Exit status 0 when every input agrees (or differs only by an explained pyworkforce
quirk) and ours is at least 10 times faster.
"""

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pyworkforce.queuing import ErlangC  # noqa: E402

from scheduling import erlang  # noqa: E402

HALF_HOURS = 7 * 48
INTERVAL_S = 1800
QUEUES = 20
TARGET_SPEEDUP = 10


def daily_shape(slot: int) -> float:
    """Share of the peak traffic in a half-hour of the day: a quiet night, a morning
    peak around 10:00 and an afternoon one around 14:30 (24/7 center)."""
    hour = slot / 2
    morning = math.exp(-((hour - 10) ** 2) / 6)
    afternoon = 0.85 * math.exp(-((hour - 14.5) ** 2) / 8)
    return 0.03 + morning + afternoon


def make_inputs(seed: int):
    """One week of half-hours for 20 queues, the largest peaking near 2,000 agents."""
    rng = random.Random(seed)
    targets = [(0.80, 20), (0.90, 30), (0.80, 60), (0.95, 15), (0.70, 45)]
    inputs = []
    for q in range(QUEUES):
        # Peak traffic from about 8 to 1,480 Erlangs, spread evenly on a log scale: with
        # the day's noise the busiest half-hour of the largest queue needs about 2,000
        # agents (85 % occupancy cap).
        peak_erlangs = 8 * (1480 / 8) ** (q / (QUEUES - 1))
        aht_s = rng.choice([180, 240, 300, 420, 600])
        target, threshold_s = targets[q % len(targets)]
        max_occupancy = rng.choice([0.85, 0.85, 0.9])
        shrinkage = rng.choice([0.25, 0.3, 0.35])
        peak_calls = peak_erlangs * INTERVAL_S / aht_s
        for half_hour in range(HALF_HOURS):
            day, slot = divmod(half_hour, 48)
            weekday_factor = 1.0 if day < 5 else 0.6
            calls = peak_calls * daily_shape(slot) / 1.05 * weekday_factor * rng.uniform(0.9, 1.1)
            calls = max(0.5, round(calls, 1))  # like a weighted forecast: tenths of calls
            half_hour_aht = round(aht_s * rng.uniform(0.9, 1.1))
            inputs.append((calls, half_hour_aht, threshold_s, target, max_occupancy, shrinkage))
    return inputs


def run_ours(inputs):
    """What the coverage page does for every half-hour: required agents and headcount."""
    out = []
    for calls, aht_s, threshold_s, target, max_occupancy, shrinkage in inputs:
        traffic = erlang.traffic_erlangs(calls, aht_s, INTERVAL_S)
        agents = erlang.required_agents(traffic, aht_s, threshold_s, target, max_occupancy)
        out.append((agents, erlang.headcount(agents, shrinkage)))
    return out


def run_ours_full(inputs):
    """The calculator's answer: also the service level, ASA, occupancy and P(wait) that
    the required agents achieve, like pyworkforce's required_positions() returns."""
    out = []
    for calls, aht_s, threshold_s, target, max_occupancy, shrinkage in inputs:
        traffic = erlang.traffic_erlangs(calls, aht_s, INTERVAL_S)
        result = erlang.staffing(traffic, aht_s, threshold_s, target, max_occupancy, shrinkage)
        out.append((result.agents, result.headcount))
    return out


def run_pyworkforce(inputs):
    out = []
    for calls, aht_s, threshold_s, target, max_occupancy, shrinkage in inputs:
        # Every time in seconds: pyworkforce only needs one unit for all three.
        model = ErlangC(transactions=calls, aht=aht_s, interval=INTERVAL_S, asa=threshold_s, shrinkage=shrinkage)
        result = model.required_positions(service_level=target, max_occupancy=max_occupancy)
        out.append((result["raw_positions"], result["positions"]))
    return out


def timed_interleaved(runs, inputs):
    """Time several functions on the same inputs, one after the other within each round
    (so a burst of load on the shared machine hits them alike). `runs` is
    [(function, repetitions)]; returns [(median s, [times], last result)] in that order."""
    times = [[] for _ in runs]
    results = [None] * len(runs)
    for round_ in range(max(reps for _, reps in runs)):
        for i, (fn, reps) in enumerate(runs):
            if round_ >= reps:
                continue
            start = time.perf_counter()
            results[i] = fn(inputs)
            times[i].append(time.perf_counter() - start)
    return [(statistics.median(t), t, r) for t, r in zip(times, results, strict=True)]


def classify(inputs, ours, theirs):
    """Count identical answers and explain each difference (see docs/erlang.md)."""
    counts = {"identical": 0, "search start": 0, "occupancy rounding": 0, "headcount rounding": 0, "unexplained": 0}
    examples = {}
    for (calls, aht_s, threshold_s, target, max_occupancy, shrinkage), mine, other in zip(
        inputs, ours, theirs, strict=True
    ):
        if mine == other:
            counts["identical"] += 1
            continue
        traffic = erlang.traffic_erlangs(calls, aht_s, INTERVAL_S)
        agents, people = mine
        if agents == other[0] and other[1] == people + 1 and abs(agents / (1 - shrinkage) - people) < 1e-9:
            kind = "headcount rounding"
        elif other[0] == agents + 1 and agents == math.floor(traffic) + 1 == round(traffic + 1) - 1:
            kind = "search start"
        elif other[0] == agents + 1 and abs(traffic / max_occupancy - agents) < 1e-9 * agents:
            kind = "occupancy rounding"
        else:
            kind = "unexplained"
        counts[kind] += 1
        if kind not in examples or kind == "unexplained":
            examples[kind] = True
            print(
                f"  {kind}: calls={calls} aht_s={aht_s} threshold_s={threshold_s} target={target} "
                f"max_occupancy={max_occupancy} shrinkage={shrinkage} (A={traffic!r}): "
                f"ours {agents} agents / {people} people, pyworkforce {other[0]} / {other[1]}"
            )
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="repetitions of ours (median reported)")
    parser.add_argument("--oracle-repeat", type=int, default=3, help="repetitions of pyworkforce")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    inputs = make_inputs(args.seed)
    (ours_median, ours_times, ours), (full_median, full_times, ours_full), (theirs_median, theirs_times, theirs) = (
        timed_interleaved(
            [(run_ours, args.repeat), (run_ours_full, args.repeat), (run_pyworkforce, args.oracle_repeat)], inputs
        )
    )
    assert ours_full == ours
    counts = classify(inputs, ours, theirs)
    ratio = theirs_median / ours_median

    peak_agents = max(agents for agents, _ in ours)
    print(f"Inputs: {QUEUES} queues x {HALF_HOURS} half-hours = {len(inputs)} staffing problems")
    print(f"        traffic up to {max(erlang.traffic_erlangs(i[0], i[1]) for i in inputs):.0f} Erlangs, ", end="")
    print(f"required agents up to {peak_agents}, headcount up to {max(p for _, p in ours)}")
    print(
        f"Ours, agents + headcount        median {ours_median * 1000:8.1f} ms  ({args.repeat} runs: {_ms(ours_times)})"
    )
    print(
        f"Ours, with SL, ASA, occupancy   median {full_median * 1000:8.1f} ms  ({args.repeat} runs: {_ms(full_times)})"
    )
    print(
        f"pyworkforce required_positions  median {theirs_median * 1000:8.1f} ms  "
        f"({args.oracle_repeat} runs: {_ms(theirs_times)})"
    )
    print(f"Speed-up    {ratio:.1f}x agents + headcount, {theirs_median / full_median:.1f}x with the figures", end="")
    print(f" (target >= {TARGET_SPEEDUP}x)")
    print("Answers     " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    same_agents = sum(1 for mine, other in zip(ours, theirs, strict=True) if mine[0] == other[0])
    print(f"Required agents identical on {same_agents} of {len(inputs)} inputs")
    ok = counts["unexplained"] == 0 and min(ratio, theirs_median / full_median) >= TARGET_SPEEDUP
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def _ms(times):
    return ", ".join(f"{t * 1000:.0f}" for t in times)


if __name__ == "__main__":
    sys.exit(main())
