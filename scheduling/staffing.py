"""Required against scheduled agents per queue and half-hour.

Required: the forecast (scheduling/forecast.py) turned into Erlang C agents for the
queue's service level (service_level_target_pct within service_level_threshold_s), with
the maximum occupancy cap, then into headcount with the shrinkage (periods.py settings).

Scheduled: the agents with a scheduled shift (drafts included: this is planning) that
covers at least half of the half-hour, and who could take the queue's calls: active, with
the queue's required skill and language (the rule routing applies), and in one of the
teams that serve the queue when the queue names teams. An agent who can take several
queues counts in each of them: Erlang C staffs each queue as if its agents were its own,
so a multi-skilled agent makes every queue look a little better staffed than it is
(docs/scheduling.md).

Compared in headcount (people on shift), since shrinkage already accounts for breaks;
the expected service level and ASA of the scheduled agents use floor(headcount × (1 −
shrinkage)) productive agents.

A StaffingPlan loads everything for a window of days in a fixed number of queries (the
forecast, the eligible agents, the shifts), whatever the number of days, queues, agents
or requests it is then asked about.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from agents.models import Agent, AgentSkill
from calls.models import Queue

from . import erlang, forecast, periods
from .models import Shift

# A shift counts in a half-hour when it covers at least this much of it.
MIN_COVER = timedelta(minutes=15)


@dataclass(frozen=True)
class IntervalStaffing:
    """One queue in one half-hour: the forecast, what it requires, who is scheduled."""

    queue_id: int
    start: datetime
    end: datetime
    day: date
    label: str
    calls: float
    aht_s: float
    traffic: float
    required_agents: int
    required: int  # headcount
    scheduled: int  # headcount
    service_level: float | None  # expected with the scheduled agents; None: unstable
    asa_s: float | None  # None: unstable (infinite)
    stable: bool

    @property
    def gap(self) -> int:
        """Scheduled minus required: negative is under-staffed."""
        return self.scheduled - self.required


def queue_target(queue: Queue) -> float:
    """The queue's service-level target as a fraction. 100 % cannot be met by any finite
    number of agents under Erlang C, so it is staffed as 99.9 %."""
    return min(queue.service_level_target_pct, 99.9) / 100


def eligible_agent_ids(queues: list[Queue]) -> dict[int, set[int]]:
    """{queue_id: ids of the active agents who could take its calls}. Four queries."""
    agents = list(Agent.objects.filter(employment_status=Agent.EmploymentStatus.ACTIVE).values_list("pk", "team_id"))
    skills = defaultdict(set)
    for agent_id, skill_id in AgentSkill.objects.values_list("agent_id", "skill_id"):
        skills[agent_id].add(skill_id)
    languages = defaultdict(set)
    for agent_id, code in Agent.languages.through.objects.values_list("agent_id", "language_id"):
        languages[agent_id].add(code)
    team_ids = defaultdict(set)
    for queue_id, team_id in Queue.teams.through.objects.filter(queue_id__in=[q.pk for q in queues]).values_list(
        "queue_id", "team_id"
    ):
        team_ids[queue_id].add(team_id)
    out = {}
    for queue in queues:
        teams = team_ids[queue.pk]
        out[queue.pk] = {
            agent_id
            for agent_id, team_id in agents
            if (not teams or team_id in teams)
            and (queue.required_skill_id is None or queue.required_skill_id in skills[agent_id])
            and (queue.required_language_id is None or queue.required_language_id in languages[agent_id])
        }
    return out


class StaffingPlan:
    """Forecast, requirement and scheduled agents for some queues over some local days."""

    def __init__(self, *, days: list[date], queues: list[Queue] | None = None):
        self.days = sorted(set(days))
        if queues is None:
            queues = list(Queue.objects.filter(is_active=True))
        self.queues = queues
        self.queue_by_id = {q.pk: q for q in queues}
        self.shrinkage = periods.shrinkage()
        self.max_occupancy = periods.max_occupancy()
        self.forecasts = forecast.forecast(queues, self.days)
        self.eligible = eligible_agent_ids(queues)
        self._load_shifts()

    # The half-hours of the window, on one UTC grid (30 minutes of real time each).
    def _load_shifts(self):
        if not self.days:
            self.window_start = self.window_end = None
            self.scheduled_by_slot = {}
            return
        self.window_start, _ = periods.day_bounds(self.days[0])
        _, self.window_end = periods.day_bounds(self.days[-1])
        shifts = Shift.objects.filter(
            state=Shift.State.SCHEDULED, start_at__lt=self.window_end, end_at__gt=self.window_start
        ).values_list("agent_id", "start_at", "end_at")
        # {slot index: set of agent ids on shift}, slot 0 starting at window_start.
        self.scheduled_by_slot = defaultdict(set)
        for agent_id, start_at, end_at in shifts:
            for index in self._slots_covered(start_at, end_at):
                self.scheduled_by_slot[index].add(agent_id)

    def _slot_index(self, at: datetime) -> int:
        return int((at - self.window_start) // periods.HALF_HOUR)

    def _slots_covered(self, start_at: datetime, end_at: datetime):
        """Indexes of the window's half-hours that [start_at, end_at) covers for at least
        MIN_COVER."""
        first = max(0, self._slot_index(start_at))
        last = self._slot_index(min(end_at, self.window_end) - timedelta(microseconds=1))
        for index in range(first, last + 1):
            slot_start = self.window_start + index * periods.HALF_HOUR
            slot_end = slot_start + periods.HALF_HOUR
            if min(end_at, slot_end) - max(start_at, slot_start) >= MIN_COVER:
                yield index

    def scheduled_agents(self, queue_id: int, start: datetime) -> set[int]:
        return self.scheduled_by_slot.get(self._slot_index(start), set()) & self.eligible[queue_id]

    def slots_of_shift(self, start_at: datetime, end_at: datetime) -> list[datetime]:
        """The start of each half-hour of the window that a shift counts in."""
        return [self.window_start + i * periods.HALF_HOUR for i in self._slots_covered(start_at, end_at)]

    def _staff(self, queue_id: int, calls: float, aht_s: float) -> erlang.Staffing:
        queue = self.queue_by_id[queue_id]
        traffic = erlang.traffic_erlangs(calls, aht_s, periods.HALF_HOUR.total_seconds())
        return erlang.staffing(
            traffic,
            aht_s,
            queue.service_level_threshold_s,
            queue_target(queue),
            self.max_occupancy,
            self.shrinkage,
        )

    def intervals(self, queue_id: int, day: date, *, removed: frozenset[int] = frozenset()) -> list[IntervalStaffing]:
        """Every half-hour of one queue on one day; `removed` agents are left out of the
        scheduled count (what a day off or a swap would leave)."""
        queue = self.queue_by_id[queue_id]
        rows = []
        for slot in self.forecasts[queue_id].get(day, ()):
            need = self._staff(queue_id, slot.calls, slot.aht_s)
            scheduled = len(self.scheduled_agents(queue_id, slot.start) - removed)
            productive = erlang.productive_agents(scheduled, self.shrinkage)
            result = erlang.outcome(need.traffic, productive, slot.aht_s, queue.service_level_threshold_s)
            rows.append(
                IntervalStaffing(
                    queue_id=queue_id,
                    start=slot.start,
                    end=slot.end,
                    day=day,
                    label=slot.label,
                    calls=slot.calls,
                    aht_s=slot.aht_s,
                    traffic=need.traffic,
                    required_agents=need.agents,
                    required=need.headcount,
                    scheduled=scheduled,
                    service_level=result.service_level if result.stable else None,
                    asa_s=result.asa_s,
                    stable=result.stable,
                )
            )
        return rows

    def impact_of_removing(self, agent_id: int, shifts: list[tuple[datetime, datetime]], days: list[date]):
        """What taking `agent_id` off these shifts leaves: for each queue the agent could
        take, each half-hour of the shifts with the headcount before and after against the
        requirement. Returns a list of ImpactRow."""
        covered = set()
        for start_at, end_at in shifts:
            covered.update(self.slots_of_shift(start_at, end_at))
        rows = []
        for queue in self.queues:
            if agent_id not in self.eligible[queue.pk]:
                continue
            for day in days:
                for slot in self.forecasts[queue.pk].get(day, ()):
                    if slot.start not in covered:
                        continue
                    need = self._staff(queue.pk, slot.calls, slot.aht_s)
                    before = len(self.scheduled_agents(queue.pk, slot.start))
                    after = before - (1 if agent_id in self.scheduled_agents(queue.pk, slot.start) else 0)
                    rows.append(
                        ImpactRow(queue.pk, queue.name, day, slot.start, slot.label, need.headcount, before, after)
                    )
        return rows


@dataclass(frozen=True)
class ImpactRow:
    """One queue in one half-hour: headcount before and after a change, and the need."""

    queue_id: int
    queue_name: str
    day: date
    start: datetime
    label: str
    required: int
    before: int
    after: int

    @property
    def under(self) -> bool:
        """The change leaves the half-hour under its requirement."""
        return self.after < self.required


@dataclass(frozen=True)
class DayImpact:
    """What giving an agent a requested day off leaves, for the approval screen."""

    day: date
    shifts: int  # the agent's scheduled shifts that day
    rows: list  # ImpactRow, one per queue and half-hour of those shifts
    under: list  # the rows left under the requirement

    @property
    def needs_override(self) -> bool:
        return bool(self.under)

    @property
    def worst(self):
        """The row with the smallest margin after the change (None without a shift)."""
        return min(self.rows, key=lambda r: (r.after - r.required, r.start), default=None)


def dayoff_impact(requests) -> dict[int, list[DayImpact]]:
    """{request id: [DayImpact per requested day]} for several requests at once: one
    StaffingPlan over all their days, one query for all the agents' shifts."""
    requests = list(requests)
    days = sorted({d.date for r in requests for d in r.days.all()})
    if not days:
        return {r.pk: [] for r in requests}
    # The day after each requested day too: a night shift runs into it.
    plan = StaffingPlan(days=sorted(set(days) | {day + timedelta(days=1) for day in days}))
    shifts = defaultdict(list)
    for agent_id, day, start_at, end_at in Shift.objects.filter(
        agent_id__in={r.agent_id for r in requests}, date__in=days, state=Shift.State.SCHEDULED
    ).values_list("agent_id", "date", "start_at", "end_at"):
        shifts[(agent_id, day)].append((start_at, end_at))
    out = {}
    for request in requests:
        impacts = []
        for d in request.days.all():
            day_shifts = shifts.get((request.agent_id, d.date), [])
            rows = plan.impact_of_removing(request.agent_id, day_shifts, _days_touched(day_shifts, d.date))
            impacts.append(DayImpact(d.date, len(day_shifts), rows, [r for r in rows if r.under]))
        out[request.pk] = impacts
    return out


def _days_touched(shifts, day: date) -> list[date]:
    """The local days a set of shifts runs on (a night shift runs into the next day)."""
    days = {day}
    zone = periods.center_zone()
    for start_at, end_at in shifts:
        days.add(start_at.astimezone(zone).date())
        days.add((end_at - timedelta(microseconds=1)).astimezone(zone).date())
    return sorted(days)


def swaps_impact(swaps) -> dict[int, list[ImpactRow]]:
    """{swap id: rows} for several swaps at once (one StaffingPlan over all their days):
    what moving each shift from the offering agent to the taker leaves, per queue and
    half-hour, for the queues the offering agent takes and the taker does not (where the
    taker takes the queue too, the count does not change)."""
    swaps = list(swaps)
    touched = {swap.pk: _days_touched([(swap.shift.start_at, swap.shift.end_at)], swap.shift.date) for swap in swaps}
    days = sorted({day for days in touched.values() for day in days})
    if not days:
        return {}
    plan = StaffingPlan(days=days)
    out = {}
    for swap in swaps:
        shift = swap.shift
        rows = plan.impact_of_removing(swap.offered_by_id, [(shift.start_at, shift.end_at)], touched[swap.pk])
        taker_queues = {q for q, agents in plan.eligible.items() if swap.taken_by_id in agents}
        out[swap.pk] = [row for row in rows if row.queue_id not in taker_queues]
    return out


def swap_impact(swap) -> list[ImpactRow]:
    return swaps_impact([swap])[swap.pk]
