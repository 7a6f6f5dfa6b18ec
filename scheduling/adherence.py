"""Schedule adherence: the presence log (calls.PresenceInterval) against the published
schedule, per agent and local day.

At every moment of the day the schedule expects one of three things, and the presence
log says one of three things:

    expected  work   on a published, scheduled shift, outside its breaks
              break  inside a break of such a shift
              off    no shift
    actual    work   available, reserved, on_call or wrap_up
              break  break (whatever its reason)
              off    offline, or no presence recorded

A moment is *in adherence* when the two are the same. Only moments where something was
expected or something happened count: scheduled time, plus time logged in off shift
(working when not scheduled is out of adherence too); off-shift time spent offline is
left out, so a day off does not inflate anyone's figure.

    adherence % = time in adherence / time counted × 100

It is None for a day with nothing scheduled and nothing logged. Time after `now` is not
counted (today's figure is so far). The out-of-adherence intervals are the maximal
stretches where the two differ, with what was expected and the presence state seen.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Q
from django.utils import timezone

from calls.models import AgentPresence, PresenceInterval

from . import periods
from .models import Shift

WORK, BREAK, OFF = "work", "break", "off"
WORKING_STATES = {
    AgentPresence.State.AVAILABLE,
    AgentPresence.State.RESERVED,
    AgentPresence.State.ON_CALL,
    AgentPresence.State.WRAP_UP,
}


def actual_of(state: str | None) -> str:
    if state in WORKING_STATES:
        return WORK
    if state == AgentPresence.State.BREAK:
        return BREAK
    return OFF


@dataclass(frozen=True)
class OutOfAdherence:
    start: datetime
    end: datetime
    expected: str  # work, break, off
    state: str  # the presence state seen ("offline" when nothing was recorded)

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass
class Adherence:
    agent_id: int
    day: date
    scheduled_s: int = 0  # shift time of the day (up to now)
    counted_s: int = 0
    in_adherence_s: int = 0
    out: list = field(default_factory=list)

    @property
    def percent(self) -> float | None:
        if not self.counted_s:
            return None
        return 100.0 * self.in_adherence_s / self.counted_s


def compute(*, agent_id: int, day: date, window: tuple[datetime, datetime], shifts, presence, now: datetime):
    """The adherence over `window` (clipped at `now`).

    shifts: [(start, end, [(break start, break end), …]), …]
    presence: [(start, end or None for the open interval, state), …]
    """
    start, end = window[0], min(window[1], now)
    result = Adherence(agent_id=agent_id, day=day)
    if end <= start:
        return result
    points = {start, end}
    for s_start, s_end, breaks in shifts:
        points.update(t for t in (s_start, s_end) if start < t < end)
        for b_start, b_end in breaks:
            points.update(t for t in (b_start, b_end) if start < t < end)
    for p_start, p_end, _state in presence:
        points.update(t for t in (p_start, p_end) if t is not None and start < t < end)
    ordered = sorted(points)

    def expected_at(t):
        for s_start, s_end, breaks in shifts:
            if s_start <= t < s_end:
                if any(b_start <= t < b_end for b_start, b_end in breaks):
                    return BREAK
                return WORK
        return OFF

    def state_at(t):
        for p_start, p_end, state in presence:
            if p_start <= t and (p_end is None or t < p_end):
                return state
        return None

    current = None
    for t0, t1 in zip(ordered, ordered[1:], strict=False):
        seconds = int((t1 - t0).total_seconds())
        expected = expected_at(t0)
        state = state_at(t0)
        actual = actual_of(state)
        if expected != OFF:
            result.scheduled_s += seconds
        if expected == OFF and actual == OFF:
            current = None
            continue
        result.counted_s += seconds
        if expected == actual:
            result.in_adherence_s += seconds
            current = None
            continue
        shown = state or AgentPresence.State.OFFLINE
        if current is not None and current.end == t0 and (current.expected, current.state) == (expected, shown):
            current = OutOfAdherence(current.start, t1, expected, shown)
            result.out[-1] = current
        else:
            current = OutOfAdherence(t0, t1, expected, shown)
            result.out.append(current)
    return result


def adherence_for_agents(agent_ids, day: date, *, now: datetime | None = None) -> dict[int, Adherence]:
    """{agent id: Adherence} for a local day. Three queries, whatever the number of agents."""
    now = now or timezone.now()
    window = periods.day_bounds(day)
    agent_ids = list(agent_ids)
    shifts = {agent_id: [] for agent_id in agent_ids}
    for shift in (
        Shift.objects.filter(
            agent_id__in=agent_ids,
            state=Shift.State.SCHEDULED,
            is_published=True,
            start_at__lt=window[1],
            end_at__gt=window[0],
        )
        .prefetch_related("breaks")
        .order_by("start_at")
    ):
        shifts[shift.agent_id].append(
            (shift.start_at, shift.end_at, [(b.start_at, b.end_at) for b in shift.breaks.all()])
        )
    presence = {agent_id: [] for agent_id in agent_ids}
    for agent_id, started_at, ended_at, state in (
        PresenceInterval.objects.filter(agent_id__in=agent_ids, started_at__lt=window[1])
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=window[0]))
        .order_by("started_at")
        .values_list("agent_id", "started_at", "ended_at", "state")
    ):
        presence[agent_id].append((started_at, ended_at, state))
    return {
        agent_id: compute(
            agent_id=agent_id, day=day, window=window, shifts=shifts[agent_id], presence=presence[agent_id], now=now
        )
        for agent_id in agent_ids
    }
