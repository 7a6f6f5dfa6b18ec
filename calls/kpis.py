"""The contact center's figures, computed in one place (the wallboard, the queue status API
and the dashboards all use these formulas).

Definitions, per queue, over a period (inbound calls offered in it):
- offered: calls that reached the queue;
- answered: calls an agent took (answered_at set);
- abandoned: callers who hung up before talking to anyone; short abandons are those who
  hung up within the queue's short_abandon_threshold_s (misdials: left out of the
  service level and the abandon rate);
- service level (%): answered within the queue's service_level_threshold_s, divided by
  answered + abandoned − short abandons, × 100 (None when nothing to count);
- ASA (average speed of answer, s): mean wait of the answered calls;
- AHT (average handle time, s): mean of talk + hold + wrap-up of the completed calls;
- abandon rate (%): (abandoned − short abandons) / (offered − short abandons) × 100;
- service-level variants, chosen per queue (Queue.service_level_formula): Asterisk's SL
  (answered within ÷ answered) and SL2 ((answered within + abandoned within the threshold)
  ÷ (answered + abandoned));
- occupancy (%), per agent: handling (on call + wrap-up) ÷ (handling + available, ringing
  included) × 100, from the presence intervals, clipped to the period;
- first-contact resolution (%): answered inbound calls after which the same client (or, with
  no client, the same number) did not call again within settings.FCR_WINDOW_DAYS.
The formulas, with examples, are in docs/kpis.md.
Live, per queue: waiting (calls in the queue now, callers on virtual hold included) and
longest_wait_s (since the oldest waiting call's arrival).
The period figures are read through half-hour roll-ups of the records, each in one statement
("Roll-ups" below; docs/kpis.md, "Speed").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from agents.models import Agent, AgentSkill

from .models import (
    AgentPresence,
    AgentSlotPresence,
    Call,
    KpiSlot,
    PresenceInterval,
    Queue,
    QueueSlotFigures,
    RepeatContact,
)


def today_range(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Midnight to midnight of today, in the active time zone (the user's, or the center's)."""
    now = now or timezone.now()
    day = timezone.localtime(now).date()
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def queue_live(queue_ids, *, now: datetime) -> dict[int, dict]:
    """Waiting calls and the longest wait, per queue (one query, through the waiting calls'
    partial index; plain SQL: the ORM's compile time was most of its cost)."""
    queue_ids = list(queue_ids)
    result = {queue_id: {"waiting": 0, "longest_wait_s": 0} for queue_id in queue_ids}
    if not queue_ids:
        return result
    sql = (
        f"SELECT queue_id, COUNT(*), MIN(offered_at) FROM {Call._meta.db_table}"  # noqa: S608 -- names from the models' metadata; values are bound
        f" WHERE state = %s AND queue_id IN ({', '.join(['%s'] * len(queue_ids))}) GROUP BY queue_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [Call.State.QUEUED, *queue_ids])
        rows = cursor.fetchall()
    for queue_id, waiting, oldest in rows:
        result[queue_id] = {
            "waiting": waiting,
            "longest_wait_s": max(0, int((now - _db_datetime(oldest)).total_seconds())),
        }
    return result


def service_level_pct(
    *,
    answered_within: int,
    answered: int,
    abandoned: int,
    short_abandoned: int,
    abandoned_within: int = 0,
    formula: str = "standard",
) -> float | None:
    """The service level by the queue's formula (Queue.ServiceLevelFormula, docs/kpis.md)."""
    if formula == "asterisk_sl":
        part, counted = answered_within, answered
    elif formula == "asterisk_sl2":
        part, counted = answered_within + abandoned_within, answered + abandoned
    else:
        part, counted = answered_within, answered + abandoned - short_abandoned
    if counted <= 0:
        return None
    return round(100.0 * part / counted, 1)


def abandon_rate_pct(*, offered: int, abandoned: int, short_abandoned: int) -> float | None:
    counted = offered - short_abandoned
    if counted <= 0:
        return None
    return round(100.0 * (abandoned - short_abandoned) / counted, 1)


_QUEUE_COUNTS = (
    "offered",
    "answered",
    "answered_within",
    "abandoned",
    "short_abandoned",
    "abandoned_within",
    "answered_wait_s",
    "completed",
    "completed_handle_s",
)


def _inbound_offered(start: datetime, end: datetime):
    return Call.objects.filter(direction=Call.Direction.INBOUND, offered_at__gte=start, offered_at__lt=end)


def _add_counts(total: dict, row: dict) -> None:
    for key in _QUEUE_COUNTS:
        total[key] = total.get(key, 0) + (row[key] or 0)


def _queue_figures(counts: dict, formula: str) -> dict:
    """The published figures from the counts (docs/kpis.md): the same arithmetic whether the
    counts come from the records or from the roll-ups."""
    answered, completed = counts["answered"], counts["completed"]
    return {
        "offered": counts["offered"],
        "answered": answered,
        "abandoned": counts["abandoned"],
        "short_abandoned": counts["short_abandoned"],
        "service_level_pct": service_level_pct(
            answered_within=counts["answered_within"],
            answered=answered,
            abandoned=counts["abandoned"],
            short_abandoned=counts["short_abandoned"],
            abandoned_within=counts["abandoned_within"],
            formula=formula,
        ),
        "abandon_rate_pct": abandon_rate_pct(
            offered=counts["offered"], abandoned=counts["abandoned"], short_abandoned=counts["short_abandoned"]
        ),
        "asa_s": round(counts["answered_wait_s"] / answered, 1) if answered else None,
        "aht_s": round(counts["completed_handle_s"] / completed, 1) if completed else None,
    }


def queue_period(queue_ids, *, start: datetime, end: datetime, now: datetime | None = None) -> dict[int, dict]:
    """Offered, answered, abandoned, service level, ASA and AHT per queue: the rolled-up
    half-hours and the calls of the rest of the period (one query)."""
    queue_ids = list(queue_ids)
    rows = _call_rows(queue_ids, start=start, end=end, now=now or timezone.now())
    return _per_queue(rows, queue_ids)


def _per_queue(rows: list[dict], queue_ids: list[int]) -> dict[int, dict]:
    counts = {queue_id: dict.fromkeys(_QUEUE_COUNTS, 0) for queue_id in queue_ids}
    formulas = {}
    for row in rows:
        _add_counts(counts[row["queue_id"]], row)
        formulas[row["queue_id"]] = row["formula"]
    return {
        queue_id: _queue_figures(counts[queue_id], formulas.get(queue_id, Queue.ServiceLevelFormula.STANDARD))
        for queue_id in queue_ids
    }


def floor_today(queue_ids, agent_ids, *, now: datetime | None = None) -> dict:
    """Today's figures of the wallboard and the dashboard, queue figures and half-hours from
    one count of the calls: {"queues": queue_period, "half_hours": half_hours, "agents":
    agent_period, "occupancy": occupancy} (three queries, whatever the number of queues and
    agents)."""
    now = now or timezone.now()
    start, end = today_range(now)
    queue_ids, agent_ids = list(queue_ids), list(agent_ids)
    rows = _call_rows(queue_ids, start=start, end=end, now=now, per_slot=True)
    return {
        "queues": _per_queue(rows, queue_ids),
        "half_hours": _per_slot(rows, start=start, end=end),
        "agents": agent_period(agent_ids, start=start, end=end),
        "occupancy": occupancy(agent_ids, start=start, end=end, now=now),
    }


def queue_agents_by_state(queues) -> dict[int, dict[str, int]]:
    """Per queue, how many eligible agents are in each presence state (offline agents left
    out). One query, whatever the number of queues and agents: each present agent's state,
    with each of their skills and languages."""
    presence, agent = AgentPresence._meta.db_table, Agent._meta.db_table
    skill, language = AgentSkill._meta.db_table, Agent.languages.through._meta.db_table
    sql = (
        f"SELECT p.agent_id, p.state, s.skill_id, l.language_id FROM {presence} p"  # noqa: S608 -- names from the models' metadata; values are bound
        f" JOIN {agent} a ON a.id = p.agent_id LEFT JOIN {skill} s ON s.agent_id = p.agent_id"
        f" LEFT JOIN {language} l ON l.agent_id = p.agent_id WHERE p.state <> %s AND a.employment_status = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [AgentPresence.State.OFFLINE, Agent.EmploymentStatus.ACTIVE])
        fetched = cursor.fetchall()
    states: dict[int, str] = {}
    skills: dict[int, set] = {}
    languages: dict[int, set] = {}
    for agent_id, state, skill_id, language_id in fetched:
        states[agent_id] = state
        skills.setdefault(agent_id, set()).add(skill_id)
        languages.setdefault(agent_id, set()).add(language_id)
    result = {}
    for queue in queues:
        counts = {state: 0 for state in AgentPresence.State.values if state != AgentPresence.State.OFFLINE}
        for agent_id, state in states.items():
            if queue.required_skill_id and queue.required_skill_id not in skills[agent_id]:
                continue
            if queue.required_language_id and queue.required_language_id not in languages[agent_id]:
                continue
            counts[state] += 1
        result[queue.pk] = counts
    return result


def agent_calls_today(agent_ids, *, now: datetime | None = None) -> dict[int, int]:
    """Calls each agent answered today (for the calls-per-day target)."""
    start, end = today_range(now)
    rows = (
        Call.objects.filter(agent_id__in=list(agent_ids), answered_at__gte=start, answered_at__lt=end)
        .values("agent_id")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(agent_ids, 0)
    counts.update({row["agent_id"]: row["n"] for row in rows})
    return counts


def aht_s(calls) -> float | None:
    """AHT of a set of calls: mean of talk + hold + wrap-up over the completed ones."""
    value = calls.filter(state=Call.State.COMPLETED).aggregate(aht=Avg(F("talk_s") + F("hold_s") + F("wrap_up_s")))
    return None if value["aht"] is None else round(float(value["aht"]), 1)


def agent_period(agent_ids, *, start: datetime, end: datetime) -> dict[int, dict]:
    """Per agent: calls handled (answered in the period) and AHT of those completed. One
    query through the (agent, answered_at) index, in plain SQL (the ORM's compile time was
    most of its cost)."""
    agent_ids = list(agent_ids)
    result = {agent_id: {"handled": 0, "aht_s": None} for agent_id in agent_ids}
    if not agent_ids:
        return result
    sql = (
        "SELECT c.agent_id, COUNT(*), SUM(CASE WHEN c.state = %s THEN 1 ELSE 0 END),"  # noqa: S608 -- names from the models' metadata; values are bound
        " SUM(CASE WHEN c.state = %s THEN c.talk_s + c.hold_s + c.wrap_up_s ELSE 0 END)"
        f" FROM {Call._meta.db_table} c WHERE c.agent_id IN ({', '.join(['%s'] * len(agent_ids))})"
        " AND c.answered_at >= %s AND c.answered_at < %s GROUP BY c.agent_id"
    )
    completed = Call.State.COMPLETED
    with connection.cursor() as cursor:
        cursor.execute(sql, _db_values(completed, completed, *agent_ids, start, end))
        rows = cursor.fetchall()
    for agent_id, handled, completed_calls, handle_s in rows:
        completed_calls = int(completed_calls or 0)
        result[agent_id] = {
            "handled": handled,
            "aht_s": round(int(handle_s or 0) / completed_calls, 1) if completed_calls else None,
        }
    return result


# Presence states that count as handling and as available time for occupancy.
HANDLING_STATES = (AgentPresence.State.ON_CALL, AgentPresence.State.WRAP_UP)
AVAILABLE_STATES = (AgentPresence.State.AVAILABLE, AgentPresence.State.RESERVED)
# The presence states rolled up per half-hour, with their AgentSlotPresence field.
_PRESENCE_FIELDS = {
    AgentPresence.State.AVAILABLE: "available_us",
    AgentPresence.State.RESERVED: "reserved_us",
    AgentPresence.State.ON_CALL: "on_call_us",
    AgentPresence.State.WRAP_UP: "wrap_up_us",
    AgentPresence.State.BREAK: "break_us",
}


def _clipped(*, start: datetime, stop: datetime, now: datetime) -> ExpressionWrapper:
    """An interval's time within [start, stop): an open interval runs until now."""
    return ExpressionWrapper(
        Least(Coalesce("ended_at", Value(now, output_field=DateTimeField())), Value(stop, output_field=DateTimeField()))
        - Greatest("started_at", Value(start, output_field=DateTimeField())),
        output_field=DurationField(),
    )


def _intervals_overlapping(*, start: datetime, stop: datetime):
    """The intervals that begin in [start, stop), or began before it and end in or after it
    (the (agent, started_at) and (agent, ended_at) indexes)."""
    overlapping = Q(started_at__gte=start, started_at__lt=stop) | Q(ended_at__gt=start, started_at__lt=start)
    overlapping |= Q(ended_at__isnull=True, started_at__lt=start)
    return PresenceInterval.objects.filter(overlapping)


def _presence_time(agent_ids, *, start: datetime, stop: datetime, now: datetime, states) -> dict[int, dict]:
    """Per agent, time in each of the states within [start, stop), from the intervals (one
    grouped query); agents with no such interval left out."""
    clipped = _clipped(start=start, stop=stop, now=now)
    intervals = _intervals_overlapping(start=start, stop=stop).filter(state__in=states)
    if agent_ids is not None:
        intervals = intervals.filter(agent_id__in=list(agent_ids))
    rows = intervals.values("agent_id").annotate(**{state: Sum(clipped, filter=Q(state=state)) for state in states})
    return {row["agent_id"]: {state: row[state] or timedelta(0) for state in states} for row in rows}


def occupancy(agent_ids, *, start: datetime, end: datetime, now: datetime | None = None) -> dict[int, float | None]:
    """Occupancy (%) per agent: handling ÷ (handling + available) over the presence intervals
    overlapping the period, each clipped to it (an open interval runs until now). The
    rolled-up half-hours' presence and the intervals of the rest of the period, in one query."""
    now = now or timezone.now()
    agent_ids = list(agent_ids)
    stop = min(end, now)
    result = dict.fromkeys(agent_ids)
    if stop <= start or not agent_ids:
        return result
    boundary = _boundary(start=start, end=end, now=now, presence=True)
    handling = dict.fromkeys(agent_ids, timedelta(0))
    available = dict.fromkeys(agent_ids, timedelta(0))
    seen = set()
    rows = _presence_rows(agent_ids, start=start, stop=stop, now=now, boundary=boundary)
    for (
        agent_id,
        handling_us,
        available_us,
        live_handling,
        live_available,
        state,
        started_at,
        ended_at,
        live_from,
    ) in rows:
        seen.add(agent_id)
        handling[agent_id] += timedelta(microseconds=int(handling_us or 0)) + (live_handling or timedelta(0))
        available[agent_id] += timedelta(microseconds=int(available_us or 0)) + (live_available or timedelta(0))
        if state is not None:  # an interval (SQLite), clipped as the database would
            ended_at = _db_datetime(ended_at) if ended_at is not None else now
            clipped = min(ended_at, stop) - max(_db_datetime(started_at), _db_datetime(live_from))
            if state in HANDLING_STATES:
                handling[agent_id] += clipped
            else:
                available[agent_id] += clipped
    for agent_id in seen:
        handled = handling[agent_id].total_seconds()
        total = handled + available[agent_id].total_seconds()
        result[agent_id] = round(100.0 * handled / total, 1) if total > 0 else None
    return result


def fcr_window() -> timedelta:
    return timedelta(days=settings.FCR_WINDOW_DAYS)


def _repeated_later(*, after: datetime | None = None):
    """EXISTS: a later inbound call within the window from the same client (or, for a call
    with no client, the same number), offered at or after `after` when given."""
    later = Call.objects.filter(
        direction=Call.Direction.INBOUND,
        offered_at__gt=OuterRef("offered_at"),
        offered_at__lte=OuterRef("offered_at") + fcr_window(),
    )
    if after is not None:
        later = later.filter(offered_at__gte=after)
    same_client = Exists(later.filter(client_id=OuterRef("client_id")))
    same_number = Exists(later.filter(caller_number=OuterRef("caller_number")))
    return (Q(client__isnull=False) & same_client) | (Q(client__isnull=True) & same_number)


def first_contact_resolution(calls) -> dict:
    """First-contact resolution of a set of calls: of the answered inbound calls, those after
    which the same client (or, without a client, the same number) did not call again within
    settings.FCR_WINDOW_DAYS. Returns {"answered", "resolved", "fcr_pct"} (one query, from the
    records: the reference that fcr_period's roll-ups are tested against)."""
    rows = calls.filter(direction=Call.Direction.INBOUND, answered_at__isnull=False).aggregate(
        answered=Count("pk"), repeated=Count("pk", filter=_repeated_later())
    )
    return _fcr(rows["answered"], rows["repeated"])


def _fcr(answered: int, repeated: int) -> dict:
    resolved = answered - repeated
    return {
        "answered": answered,
        "resolved": resolved,
        "fcr_pct": round(100.0 * resolved / answered, 1) if answered else None,
    }


def fcr_period(queue_ids, *, start: datetime, end: datetime, now: datetime | None = None) -> dict:
    """First-contact resolution of the queues' inbound calls offered in the period: the same
    figure as first_contact_resolution over those calls. Answered calls and repeats from the
    roll-ups up to the boundary; after it, answered calls from the records, and the
    repeats those calls make, joined from them to the earlier calls through the client and
    number indexes (one query). A period that began more than the window before now is
    counted from the records (first_contact_resolution)."""
    now = now or timezone.now()
    queue_ids = list(queue_ids)
    if not queue_ids:
        return _fcr(0, 0)
    if now - fcr_window() > start:
        calls = Call.objects.filter(queue_id__in=queue_ids, offered_at__gte=start, offered_at__lt=end)
        return first_contact_resolution(calls)
    boundary = _boundary(start=start, end=end, now=now)
    return _fcr(*_answered_and_repeated(queue_ids, start=start, end=end, now=now, boundary=boundary))


def half_hours(queue_ids, *, start: datetime, end: datetime, now: datetime | None = None) -> list[dict]:
    """Offered, answered and service level per half-hour of the period (local time), for the
    chart: the rolled-up half-hours and the calls of the rest of the period (one query);
    the service level by the queues' formula (the standard one when they differ)."""
    rows = _call_rows(list(queue_ids), start=start, end=end, now=now or timezone.now(), per_queue=False, per_slot=True)
    return _per_slot(rows, start=start, end=end)


def _per_slot(rows: list[dict], *, start: datetime, end: datetime) -> list[dict]:
    slots = []
    at = start
    while at < end:
        slots.append(dict.fromkeys(_SLOT_COUNTS, 0) | {"start": at})
        at += SLOT
    formulas = set()
    for row in rows:
        formulas.add(row["formula"])
        index = min(max(row["slot_index"], 0), len(slots) - 1)
        for key in _SLOT_COUNTS:
            slots[index][key] += row[key]
    formula = formulas.pop() if len(formulas) == 1 else "standard"
    zone = timezone.get_current_timezone()
    return [
        {
            "start": slot["start"].astimezone(zone).strftime("%H:%M"),
            "offered": slot["offered"],
            "answered": slot["answered"],
            "service_level_pct": service_level_pct(
                answered_within=slot["answered_within"],
                answered=slot["answered"],
                abandoned=slot["abandoned"],
                short_abandoned=slot["short_abandoned"],
                abandoned_within=slot["abandoned_within"],
                formula=formula,
            ),
        }
        for slot in slots
    ]


_SLOT_COUNTS = ("offered", "answered", "answered_within", "abandoned", "short_abandoned", "abandoned_within")


# --- Roll-ups -----------------------------------------------------------------------------
# Closed UTC half-hours are folded into KpiSlot, QueueSlotFigures, AgentSlotPresence and
# RepeatContact (calls/models.py) by the calls.kpi_rollup beat task; a period's figures are the
# folded half-hours from its start up to the first one missing or out of date (the boundary),
# plus the records from the boundary on (the open half-hour, and whichever closed ones are
# still changing). So a figure is the same whichever way it is counted (tested against the
# records in calls/tests/test_kpis_rollups.py). Reads never write.

SLOT = timedelta(minutes=30)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# How long a write may take to commit after it was stamped. A fold began at T may not have
# seen a call stamped (updated_at) after T − FOLD_MARGIN, so such a call makes its half-hour
# out of date; and presence, stamped with the PBX's time, is folded only FOLD_MARGIN after the
# half-hour ends (presence stamps are assumed never to lag the server by more than this).
FOLD_MARGIN = timedelta(minutes=2)
# The beat keeps this many days of half-hours folded (today in any time zone, and yesterday).
ROLLUP_DAYS = 2
# And folds each of them again this long after its last fold: the safety net for changes that
# no save stamps (a client deleted sets its calls' client to empty in one UPDATE, a bulk fix).
FOLD_AGAIN_AFTER = timedelta(hours=1)


def slot_floor(at: datetime) -> datetime:
    """The start of the UTC half-hour holding `at`."""
    return _EPOCH + (at - _EPOCH) // SLOT * SLOT


def _on_slot(at: datetime) -> bool:
    return (at - _EPOCH) % SLOT == timedelta(0)


@dataclass
class _Plan:
    # Calls offered before `boundary` (from the period's start) are counted from the roll-ups.
    boundary: datetime
    # Presence before `presence_boundary` is counted from the roll-ups.
    presence_boundary: datetime


@dataclass
class _Boundary:
    """Where the roll-ups stop, inside one statement: common table expressions (for a WITH
    clause) that define `name`(boundary), and `expr`, the boundary as a scalar subquery."""

    ctes: str
    params: list
    expr: str


def _boundary(
    *, start: datetime, end: datetime, now: datetime, presence: bool = False, at: datetime | None = None,
    name: str = "kpi_boundary",
) -> _Boundary:  # fmt: skip
    """The boundary of [start, end) for calls (or presence): the start of the first half-hour
    from `start` on that is not folded, or (calls) has a call saved since its changed_since
    (through the index on Call.updated_at), or (presence) whose presence is not folded; at
    most the start of the open half-hour. Computed by the database in the statement that uses
    it, so that a figure is one round trip. A period not cut on half-hours, or a boundary
    given (`at`), is a constant."""
    closed_end = min(end, slot_floor(now))
    expr = f"(SELECT boundary FROM {name})"  # noqa: S608 -- a name of this module
    if at is not None or not (_on_slot(start) and _on_slot(end)) or closed_end <= start:
        return _Boundary(f"{name} AS (SELECT %s AS boundary)", [start if at is None else at], expr)
    slot, call = KpiSlot._meta.db_table, Call._meta.db_table
    slot_end = connection.ops.quote_name("end")
    if presence:
        out_of_date = "NOT k.presence_folded"
    else:
        out_of_date = (
            f"EXISTS (SELECT 1 FROM {call} c WHERE c.updated_at >= k.changed_since"  # noqa: S608 -- names from the models' metadata
            f" AND c.offered_at >= k.start AND c.offered_at < k.{slot_end})"
        )
    # The first half-hour missing or out of date: the first missing one is at the start, or
    # right after a folded one (one pass over the period's KpiSlot rows).
    ctes = (
        f"{name} AS (SELECT CASE WHEN MIN(k.start) = %s THEN COALESCE(MIN(CASE WHEN {out_of_date} THEN k.start"  # noqa: S608 -- as above
        f" WHEN k.{slot_end} < %s AND NOT EXISTS (SELECT 1 FROM {slot} n WHERE n.start = k.{slot_end})"
        f" THEN k.{slot_end} END), %s) ELSE %s END AS boundary FROM {slot} k WHERE k.start >= %s AND k.start < %s)"
    )
    return _Boundary(ctes, [start, closed_end, closed_end, start, start, closed_end], expr)


def _plan(*, start: datetime, end: datetime, now: datetime) -> _Plan:
    """Both boundaries of [start, end) (one query; the figures compute theirs in their own
    statement)."""
    calls = _boundary(start=start, end=end, now=now, name="kpi_calls")
    presence = _boundary(start=start, end=end, now=now, presence=True, name="kpi_presence")
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {calls.ctes}, {presence.ctes} SELECT {calls.expr}, {presence.expr}",
            _db_values(*calls.params, *presence.params),
        )
        boundary, presence_boundary = cursor.fetchone()
    return _Plan(_db_datetime(boundary), _db_datetime(presence_boundary))


def _db_values(*values) -> list:
    """Datetimes as the database takes them in a raw query (SQLite: naive UTC text)."""
    return [connection.ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v for v in values]


def _db_datetime(value) -> datetime:
    """A datetime read by a raw query: SQLite gives naive UTC (or text, for an expression)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value.replace(tzinfo=UTC) if timezone.is_naive(value) else value


def _dirty_slots(folded: dict, *, start: datetime, end: datetime) -> dict[datetime, datetime]:
    """The folded half-hours (KpiSlot by start) with a call saved since their changed_since,
    and the latest such save: one query on Call.updated_at."""
    if not folded:
        return {}
    oldest = min(slot.changed_since for slot in folded.values())
    changed = Call.objects.filter(updated_at__gte=oldest, offered_at__gte=start, offered_at__lt=end).values_list(
        "offered_at", "updated_at"
    )
    dirty = {}
    for offered_at, updated_at in changed:
        slot = folded.get(slot_floor(offered_at))
        if slot and updated_at >= slot.changed_since:
            dirty[slot.start] = max(updated_at, dirty.get(slot.start, updated_at))
    return dirty


def _call_rows(
    queue_ids, *, start: datetime, end: datetime, now: datetime, per_queue: bool = True, per_slot: bool = False
) -> list[dict]:
    """The queue counts of the period's inbound calls per queue and formula (and per half-hour
    of the period, `slot_index`, when per_slot): the rolled-up half-hours up to the boundary,
    and the calls after it, in one query."""
    queue_ids = list(queue_ids)
    if not queue_ids:
        return []
    grouping = {"per_queue": per_queue, "per_slot": per_slot}
    boundary = _boundary(start=start, end=end, now=now)
    rows = _counted_rows(queue_ids, start=start, end=end, boundary=boundary, **grouping)
    if any(row["changed"] for row in rows):
        # A queue's thresholds changed since a fold: count from that half-hour on from the records.
        rolled_up_to = _plan(start=start, end=end, now=now).boundary
        first = (
            QueueSlotFigures.objects.filter(queue_id__in=queue_ids, slot_start__gte=start, slot_start__lt=rolled_up_to)
            .exclude(
                service_level_threshold_s=F("queue__service_level_threshold_s"),
                short_abandon_threshold_s=F("queue__short_abandon_threshold_s"),
            )
            .aggregate(first=Min("slot_start"))["first"]
        )
        boundary = _boundary(start=start, end=end, now=now, at=first)
        rows = _counted_rows(queue_ids, start=start, end=end, boundary=boundary, **grouping)
    return rows


# The counts behind the queue figures over inbound calls `c` of queues `q` (the thresholds are
# the queue's), in _QUEUE_COUNTS' order: the one definition, for the live reads and the folds.
_CALL_COUNTS = """COUNT(*),
    SUM(CASE WHEN c.answered_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN c.answered_at IS NOT NULL AND c.wait_s <= q.service_level_threshold_s THEN 1 ELSE 0 END),
    SUM(CASE WHEN c.state = 'abandoned' THEN 1 ELSE 0 END),
    SUM(CASE WHEN c.state = 'abandoned' AND c.wait_s < q.short_abandon_threshold_s THEN 1 ELSE 0 END),
    SUM(CASE WHEN c.state = 'abandoned' AND c.wait_s <= q.service_level_threshold_s THEN 1 ELSE 0 END),
    SUM(CASE WHEN c.answered_at IS NOT NULL THEN c.wait_s ELSE 0 END),
    SUM(CASE WHEN c.state = 'completed' THEN 1 ELSE 0 END),
    SUM(CASE WHEN c.state = 'completed' THEN c.talk_s + c.hold_s + c.wrap_up_s ELSE 0 END)"""
_FOLDED_COUNTS = ", ".join(f"SUM(f.{key})" for key in _QUEUE_COUNTS)


def _counted_rows(
    queue_ids, *, start: datetime, end: datetime, boundary: _Boundary, per_queue: bool, per_slot: bool
) -> list[dict]:
    """One statement: the rolled-up counts of [start, boundary) and the counts of the inbound
    calls offered in [boundary, end), grouped per queue (and per half-hour of the period), with
    the queue's formula; `changed` when a rolled-up count was made with other thresholds than
    the queue's current ones. The counts are _CALL_COUNTS (docs/kpis.md)."""
    call, queue, figures = Call._meta.db_table, Queue._meta.db_table, QueueSlotFigures._meta.db_table
    queues = ", ".join(["%s"] * len(queue_ids))
    slots = max(1, -(-(end - start) // SLOT))
    # A call's half-hour of the period: on PostgreSQL from its exact time since the start; on
    # SQLite, whose date arithmetic is not exact, by comparisons.
    if connection.vendor == "postgresql":
        index, index_params = "FLOOR(EXTRACT(EPOCH FROM c.offered_at - %s) / 1800)", [start]
    else:
        whens = " ".join(f"WHEN c.offered_at < %s THEN {i}" for i in range(slots - 1))
        index = f"CASE {whens} ELSE {slots - 1} END" if slots > 1 else "0"
        index_params = [start + (i + 1) * SLOT for i in range(slots - 1)]
    index_params = index_params if per_slot else []
    queue_id = "c.queue_id" if per_queue else "NULL"
    live_select = f"{queue_id}, q.service_level_formula, NULL, {index if per_slot else 'NULL'}"
    folded_select = (
        f"{queue_id.replace('c.', 'f.')}, q.service_level_formula, {'f.slot_start' if per_slot else 'NULL'}, NULL"
    )
    group = "1, 2" if per_queue else "2"
    live_group, folded_group = (f"{group}, 4", f"{group}, 3") if per_slot else (group, group)
    changed = (
        "MAX(CASE WHEN f.service_level_threshold_s <> q.service_level_threshold_s"
        " OR f.short_abandon_threshold_s <> q.short_abandon_threshold_s THEN 1 ELSE 0 END)"
    )
    sql = (
        f"WITH {boundary.ctes}"  # noqa: S608 -- names from the models' metadata; values are bound
        f" SELECT {folded_select}, {changed}, {_FOLDED_COUNTS} FROM {figures} f"
        f" JOIN {queue} q ON q.id = f.queue_id WHERE f.queue_id IN ({queues}) AND f.slot_start >= %s"
        f" AND f.slot_start < {boundary.expr} GROUP BY {folded_group}"
        f" UNION ALL SELECT {live_select}, 0, {_CALL_COUNTS} FROM {call} c JOIN {queue} q ON q.id = c.queue_id"
        f" WHERE c.direction = 'inbound' AND c.queue_id IN ({queues}) AND c.offered_at >= {boundary.expr}"
        f" AND c.offered_at < %s GROUP BY {live_group}"
    )
    params = [*boundary.params, *queue_ids, start, *index_params, *queue_ids, end]
    with connection.cursor() as cursor:
        cursor.execute(sql, _db_values(*params))
        fetched = cursor.fetchall()
    rows = []
    for queue_id, formula, slot_start, live_index, changed, *counts in fetched:
        row = {"queue_id": queue_id, "formula": formula, "changed": bool(changed)}
        row.update(zip(_QUEUE_COUNTS, (int(count or 0) for count in counts), strict=True))
        if per_slot:
            if slot_start is not None:
                row["slot_index"] = (_db_datetime(slot_start) - start) // SLOT
            else:
                row["slot_index"] = min(int(live_index), slots - 1)
        rows.append(row)
    return rows


def _presence_rows(agent_ids, *, start: datetime, stop: datetime, now: datetime, boundary: _Boundary) -> list[tuple]:
    """One statement: per agent, the rolled-up handling and available time of [start,
    boundary) (in microseconds), and that of the intervals overlapping [boundary, stop),
    clipped to it (an open interval runs until now): summed by PostgreSQL; on SQLite, whose
    date arithmetic is not exact, each interval (state, started_at, ended_at, boundary) for
    Python to clip. Rows: (agent, folded handling µs, folded available µs, live handling,
    live available, state, started_at, ended_at, boundary)."""
    presence, intervals = AgentSlotPresence._meta.db_table, PresenceInterval._meta.db_table
    agents = ", ".join(["%s"] * len(agent_ids))
    states = HANDLING_STATES + AVAILABLE_STATES
    b = boundary.expr
    # The intervals that end after the boundary, and those still open, that began before the
    # stop: two disjoint parts, so that each takes its index ((agent, ended_at), and the open
    # intervals' one). An interval of no length at the boundary is left out: it adds nothing.
    each = f"FROM {intervals} WHERE agent_id IN ({agents}) AND state IN ({', '.join(['%s'] * len(states))})"  # noqa: S608 -- names from the models' metadata; values are bound
    overlapping = (
        f" FROM (SELECT agent_id, state, started_at, ended_at {each} AND ended_at > {b} AND started_at < %s"
        f" UNION ALL SELECT agent_id, state, started_at, ended_at {each} AND ended_at IS NULL AND started_at < %s) i"
    )
    overlapping_params = [*agent_ids, *states, stop, *agent_ids, *states, stop]
    if connection.vendor == "postgresql":
        clipped = f"LEAST(COALESCE(i.ended_at, %s), %s) - GREATEST(i.started_at, {b})"
        handling = ", ".join(["%s"] * len(HANDLING_STATES))
        live = (
            f"SELECT i.agent_id, NULL, NULL, SUM(CASE WHEN i.state IN ({handling}) THEN {clipped} END),"
            f" SUM(CASE WHEN i.state NOT IN ({handling}) THEN {clipped} END), NULL, NULL, NULL, NULL"
            f"{overlapping} GROUP BY i.agent_id"
        )
        live_params = [*HANDLING_STATES, now, stop, *HANDLING_STATES, now, stop, *overlapping_params]
    else:
        live = f"SELECT i.agent_id, NULL, NULL, NULL, NULL, i.state, i.started_at, i.ended_at, {b}{overlapping}"
        live_params = overlapping_params
    sql = (
        f"WITH {boundary.ctes}"  # noqa: S608 -- as above
        " SELECT p.agent_id, SUM(p.on_call_us + p.wrap_up_us), SUM(p.available_us + p.reserved_us),"
        f" NULL, NULL, NULL, NULL, NULL, NULL FROM {presence} p WHERE p.agent_id IN ({agents}) AND p.slot_start >= %s"
        f" AND p.slot_start < {b} GROUP BY p.agent_id UNION ALL {live}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, _db_values(*boundary.params, *agent_ids, start, *live_params))
        return cursor.fetchall()


def _answered_and_repeated(
    queue_ids, *, start: datetime, end: datetime, now: datetime, boundary: _Boundary
) -> tuple[int, int]:
    """The answered inbound calls of the queues offered in the period, and how many of them
    were repeated: rolled up for [start, live_from) (repeat contacts whose repeat is before
    live_from), from the records after it; and the calls repeated by a call offered from
    live_from on, found from those later calls (none counted twice). The period began within
    the window before now, so every later call up to now is within the window of every call
    of the period. One query."""
    call, repeat, figures = Call._meta.db_table, RepeatContact._meta.db_table, QueueSlotFigures._meta.db_table
    queues = ", ".join(["%s"] * len(queue_ids))
    b = boundary.expr
    # The later calls (from the boundary to now: the open half-hour, a few) are read first and
    # joined to the period's calls through the client and number indexes. MATERIALIZED keeps
    # that order whatever the planner guesses of the boundary, which it cannot know in advance.
    later = (
        f"kpi_later AS MATERIALIZED (SELECT l.client_id, l.caller_number, l.offered_at FROM {call} l"  # noqa: S608 -- names from the models' metadata; values are bound
        f" WHERE l.direction = 'inbound' AND l.offered_at >= {b} AND l.offered_at <= %s)"
    )
    earlier = (
        f"e.direction = 'inbound' AND e.queue_id IN ({queues}) AND e.offered_at >= %s AND e.offered_at < %s"  # noqa: S608 -- as above
        f" AND e.answered_at IS NOT NULL AND l.offered_at > e.offered_at AND NOT EXISTS (SELECT 1 FROM {repeat} r"
        f" WHERE r.call_id = e.id AND r.repeat_offered_at < {b})"
    )
    earlier_params = [*queue_ids, start, end]
    sql = (
        f"WITH {boundary.ctes}, {later} SELECT (SELECT SUM(f.answered) FROM {figures} f"  # noqa: S608 -- as above
        f" WHERE f.queue_id IN ({queues}) AND f.slot_start >= %s AND f.slot_start < {b}),"
        f" (SELECT COUNT(*) FROM {call} c WHERE c.direction = 'inbound' AND c.queue_id IN ({queues})"
        f" AND c.offered_at >= {b} AND c.offered_at < %s AND c.answered_at IS NOT NULL),"
        f" (SELECT COUNT(DISTINCT r.call_id) FROM {repeat} r WHERE r.call_queue_id IN ({queues})"
        f" AND r.call_offered_at >= %s AND r.call_offered_at < {b} AND r.repeat_offered_at < {b}),"
        " (SELECT COUNT(*) FROM ("
        f"SELECT e.id FROM kpi_later l JOIN {call} e ON e.client_id = l.client_id WHERE {earlier}"
        f" UNION SELECT e.id FROM kpi_later l JOIN {call} e ON e.caller_number = l.caller_number"
        f" WHERE e.client_id IS NULL AND {earlier}) repeated)"
    )
    params = [
        *boundary.params,
        now,
        *[*queue_ids, start],
        *[*queue_ids, end],
        *[*queue_ids, start],
        *earlier_params,
        *earlier_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, _db_values(*params))
        folded_answered, live_answered, folded_repeated, live_repeated = cursor.fetchone()
    answered = int(folded_answered or 0) + int(live_answered or 0)
    return answered, int(folded_repeated or 0) + int(live_repeated or 0)


def rollup_fold(*, slot_start: datetime, now: datetime | None = None) -> KpiSlot:
    """Roll up one closed half-hour from the records (again, when it was): its queue counts,
    its agents' presence (once it ended FOLD_MARGIN ago) and the repeat contacts its calls
    make or receive. One transaction; the half-hour's row is locked, so two folds of the same
    half-hour run one after the other."""
    now = now or timezone.now()
    slot_end = slot_start + SLOT
    if not _on_slot(slot_start) or slot_end > now:
        raise ValueError("Only a closed half-hour can be rolled up.")
    with transaction.atomic():
        slot, _created = KpiSlot.objects.get_or_create(
            start=slot_start, defaults={"end": slot_end, "folded_at": now, "changed_since": now}
        )
        slot = KpiSlot.objects.select_for_update().get(pk=slot.pk)
        # Stamped before reading: a call saved after the reads is stamped later than
        # folded_at − FOLD_MARGIN (changed_since), and so marks the half-hour out of date.
        slot.folded_at = timezone.now()
        slot.changed_since = slot.folded_at - FOLD_MARGIN
        QueueSlotFigures.objects.filter(slot=slot).delete()
        call, queue = Call._meta.db_table, Queue._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.queue_id, q.service_level_threshold_s, q.short_abandon_threshold_s, {_CALL_COUNTS}"  # noqa: S608 -- names from the models' metadata; values are bound
                f" FROM {call} c JOIN {queue} q ON q.id = c.queue_id WHERE c.direction = 'inbound'"
                " AND c.offered_at >= %s AND c.offered_at < %s GROUP BY c.queue_id, q.service_level_threshold_s,"
                " q.short_abandon_threshold_s",
                _db_values(slot_start, slot_end),
            )
            rows = cursor.fetchall()
        QueueSlotFigures.objects.bulk_create(
            QueueSlotFigures(
                slot=slot,
                slot_start=slot_start,
                queue_id=queue_id,
                service_level_threshold_s=threshold_s,
                short_abandon_threshold_s=short_abandon_s,
                **{key: int(count or 0) for key, count in zip(_QUEUE_COUNTS, counts, strict=True)},
            )
            for queue_id, threshold_s, short_abandon_s, *counts in rows
        )
        slot.presence_folded = slot_end <= slot.folded_at - FOLD_MARGIN
        AgentSlotPresence.objects.filter(slot=slot).delete()
        if slot.presence_folded:
            times = _presence_time(None, start=slot_start, stop=slot_end, now=now, states=tuple(_PRESENCE_FIELDS))
            AgentSlotPresence.objects.bulk_create(
                AgentSlotPresence(
                    slot=slot,
                    slot_start=slot_start,
                    agent_id=agent_id,
                    **{field: _microseconds(by_state[state]) for state, field in _PRESENCE_FIELDS.items()},
                )
                for agent_id, by_state in times.items()
            )
        _fold_repeats(slot_start=slot_start, slot_end=slot_end)
        slot.save(update_fields=["folded_at", "changed_since", "presence_folded"])
    return slot


def _microseconds(duration: timedelta) -> int:
    return (duration.days * 86_400 + duration.seconds) * 1_000_000 + duration.microseconds


def _fold_repeats(*, slot_start: datetime, slot_end: datetime) -> None:
    """The repeat contacts in which a call of the half-hour is the earlier or the later call,
    found again from the records (few calls: matched in Python, two indexed queries)."""
    RepeatContact.objects.filter(
        Q(call_offered_at__gte=slot_start, call_offered_at__lt=slot_end)
        | Q(repeat_offered_at__gte=slot_start, repeat_offered_at__lt=slot_end)
    ).delete()
    window = fcr_window()
    fields = ("pk", "queue_id", "offered_at", "client_id", "caller_number", "answered_at")
    mine = list(_inbound_offered(slot_start, slot_end).values(*fields))
    if not mine:
        return
    clients = {call["client_id"] for call in mine if call["client_id"] is not None}
    numbers = {call["caller_number"] for call in mine}
    # Every inbound call within a window of the half-hour, either side, sharing a client or a number.
    others = Q(caller_number__in=numbers)
    if clients:
        others |= Q(client_id__in=clients)
    near = list(_inbound_offered(slot_start - window, slot_end + window).filter(others).values(*fields))
    by_client, by_number = {}, {}
    for call in near:
        by_number.setdefault(call["caller_number"], []).append(call)
        if call["client_id"] is not None:
            by_client.setdefault(call["client_id"], []).append(call)
    pairs = {}
    for call in near:
        if call["answered_at"] is None:
            continue
        if call["client_id"] is not None:
            later_ones = by_client.get(call["client_id"], ())
        else:
            later_ones = by_number.get(call["caller_number"], ())
        for later in later_ones:
            if not call["offered_at"] < later["offered_at"] <= call["offered_at"] + window:
                continue
            # Only pairs with a call of this half-hour: the others belong to other folds.
            if slot_start <= call["offered_at"] < slot_end or slot_start <= later["offered_at"] < slot_end:
                pairs[call["pk"], later["pk"]] = RepeatContact(
                    call_id=call["pk"],
                    call_queue_id=call["queue_id"],
                    call_offered_at=call["offered_at"],
                    repeat_call_id=later["pk"],
                    repeat_offered_at=later["offered_at"],
                )
    RepeatContact.objects.bulk_create(pairs.values(), ignore_conflicts=True)


def rollup_refresh(*, now: datetime | None = None, days: int = ROLLUP_DAYS) -> int:
    """Fold every closed half-hour of the last `days` days that has no roll-up, or whose
    roll-up is out of date (a call changed, presence not yet folded, a queue's thresholds
    changed) and whose records have settled (no change in the last FOLD_MARGIN), or that was
    folded FOLD_AGAIN_AFTER ago. Returns how many were folded. Safe to run twice, and
    alongside itself."""
    now = now or timezone.now()
    end = slot_floor(now)
    start = end - timedelta(days=days)
    # Stamped before reading, as a fold's folded_at is (see below).
    checked_at = timezone.now()
    folded = {slot.start: slot for slot in KpiSlot.objects.filter(start__gte=start, start__lt=end)}
    settled = now - FOLD_MARGIN
    todo = set()
    at = start
    while at < end:
        slot = folded.get(at)
        missing = slot is None or (not slot.presence_folded and at + SLOT <= settled)
        if missing or slot.folded_at <= now - FOLD_AGAIN_AFTER:
            todo.add(at)
        at += SLOT
    dirty = _dirty_slots(folded, start=start, end=end)
    for slot_start, changed_at in dirty.items():
        if changed_at < settled:
            todo.add(slot_start)
    # A half-hour with no call saved since its changed_since, as of checked_at, holds every call
    # saved before checked_at − FOLD_MARGIN: moving its changed_since there keeps the readers'
    # look-up of saved calls to the last few minutes' saves.
    KpiSlot.objects.filter(pk__in=[slot.pk for at, slot in folded.items() if at not in dirty]).update(
        changed_since=checked_at - FOLD_MARGIN
    )
    todo.update(
        QueueSlotFigures.objects.filter(slot_start__gte=start, slot_start__lt=end)
        .exclude(
            service_level_threshold_s=F("queue__service_level_threshold_s"),
            short_abandon_threshold_s=F("queue__short_abandon_threshold_s"),
        )
        .values_list("slot_start", flat=True)
    )
    for slot_start in sorted(todo):
        rollup_fold(slot_start=slot_start)
    return len(todo)
