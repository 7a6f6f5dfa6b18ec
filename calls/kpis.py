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
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import (
    Avg,
    Case,
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
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least, TruncHour
from django.utils import timezone

from agents.models import Agent, AgentSkill

from .models import AgentPresence, Call, PresenceInterval


def today_range(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Midnight to midnight of today, in the active time zone (the user's, or the center's)."""
    now = now or timezone.now()
    day = timezone.localtime(now).date()
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def queue_live(queue_ids, *, now: datetime) -> dict[int, dict]:
    """Waiting calls and the longest wait, per queue (one query)."""
    result = {queue_id: {"waiting": 0, "longest_wait_s": 0} for queue_id in queue_ids}
    rows = (
        Call.objects.filter(state=Call.State.QUEUED, queue_id__in=list(queue_ids))
        .values("queue_id")
        .annotate(waiting=Count("pk"), oldest=Min("offered_at"))
    )
    for row in rows:
        result[row["queue_id"]] = {
            "waiting": row["waiting"],
            "longest_wait_s": max(0, int((now - row["oldest"]).total_seconds())),
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


def queue_period(queue_ids, *, start: datetime, end: datetime) -> dict[int, dict]:
    """Offered, answered, abandoned, service level, ASA and AHT per queue (one query)."""
    answered = Q(answered_at__isnull=False)
    abandoned = Q(state=Call.State.ABANDONED)
    short = abandoned & Q(wait_s__lt=F("queue__short_abandon_threshold_s"))
    completed = Q(state=Call.State.COMPLETED)
    rows = (
        Call.objects.filter(
            queue_id__in=list(queue_ids),
            direction=Call.Direction.INBOUND,
            offered_at__gte=start,
            offered_at__lt=end,
        )
        .values("queue_id", "queue__service_level_formula")
        .annotate(
            offered=Count("pk"),
            abandoned_within=Count("pk", filter=abandoned & Q(wait_s__lte=F("queue__service_level_threshold_s"))),
            answered=Count("pk", filter=answered),
            answered_within=Count("pk", filter=answered & Q(wait_s__lte=F("queue__service_level_threshold_s"))),
            abandoned=Count("pk", filter=abandoned),
            short_abandoned=Count("pk", filter=short),
            asa=Avg("wait_s", filter=answered),
            aht=Avg(F("talk_s") + F("hold_s") + F("wrap_up_s"), filter=completed),
        )
    )
    empty = {
        "offered": 0,
        "answered": 0,
        "answered_within": 0,
        "abandoned": 0,
        "short_abandoned": 0,
        "abandoned_within": 0,
        "queue__service_level_formula": "standard",
        "asa": None,
        "aht": None,
    }
    result = {}
    by_queue = {row["queue_id"]: row for row in rows}
    for queue_id in queue_ids:
        row = by_queue.get(queue_id, empty)
        result[queue_id] = {
            "offered": row["offered"],
            "answered": row["answered"],
            "abandoned": row["abandoned"],
            "short_abandoned": row["short_abandoned"],
            "service_level_pct": service_level_pct(
                answered_within=row["answered_within"],
                answered=row["answered"],
                abandoned=row["abandoned"],
                short_abandoned=row["short_abandoned"],
                abandoned_within=row["abandoned_within"],
                formula=row["queue__service_level_formula"],
            ),
            "abandon_rate_pct": abandon_rate_pct(
                offered=row["offered"], abandoned=row["abandoned"], short_abandoned=row["short_abandoned"]
            ),
            "asa_s": None if row["asa"] is None else round(float(row["asa"]), 1),
            "aht_s": None if row["aht"] is None else round(float(row["aht"]), 1),
        }
    return result


def queue_agents_by_state(queues) -> dict[int, dict[str, int]]:
    """Per queue, how many eligible agents are in each presence state (offline agents left
    out). Three queries, whatever the number of queues and agents."""
    rows = list(
        AgentPresence.objects.exclude(state=AgentPresence.State.OFFLINE)
        .filter(agent__employment_status=Agent.EmploymentStatus.ACTIVE)
        .values_list("agent_id", "state")
    )
    agent_ids = [agent_id for agent_id, _state in rows]
    skills: dict[int, set] = {}
    for agent_id, skill_id in AgentSkill.objects.filter(agent_id__in=agent_ids).values_list("agent_id", "skill_id"):
        skills.setdefault(agent_id, set()).add(skill_id)
    languages: dict[int, set] = {}
    for agent_id, code in Agent.languages.through.objects.filter(agent_id__in=agent_ids).values_list(
        "agent_id", "language_id"
    ):
        languages.setdefault(agent_id, set()).add(code)
    result = {}
    for queue in queues:
        counts = {state: 0 for state in AgentPresence.State.values if state != AgentPresence.State.OFFLINE}
        for agent_id, state in rows:
            if queue.required_skill_id and queue.required_skill_id not in skills.get(agent_id, ()):
                continue
            if queue.required_language_id and queue.required_language_id not in languages.get(agent_id, ()):
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
    """Per agent: calls handled (answered in the period) and AHT of those completed (one query)."""
    agent_ids = list(agent_ids)
    rows = (
        Call.objects.filter(agent_id__in=agent_ids, answered_at__gte=start, answered_at__lt=end)
        .values("agent_id")
        .annotate(
            handled=Count("pk"),
            aht=Avg(F("talk_s") + F("hold_s") + F("wrap_up_s"), filter=Q(state=Call.State.COMPLETED)),
        )
    )
    result = {agent_id: {"handled": 0, "aht_s": None} for agent_id in agent_ids}
    for row in rows:
        result[row["agent_id"]] = {
            "handled": row["handled"],
            "aht_s": None if row["aht"] is None else round(float(row["aht"]), 1),
        }
    return result


# Presence states that count as handling and as available time for occupancy.
HANDLING_STATES = (AgentPresence.State.ON_CALL, AgentPresence.State.WRAP_UP)
AVAILABLE_STATES = (AgentPresence.State.AVAILABLE, AgentPresence.State.RESERVED)


def occupancy(agent_ids, *, start: datetime, end: datetime, now: datetime | None = None) -> dict[int, float | None]:
    """Occupancy (%) per agent: handling ÷ (handling + available) over the presence intervals
    overlapping the period, each clipped to it (an open interval runs until now). One grouped
    query: the intervals that begin in the period, or began before it and end in or after it."""
    now = now or timezone.now()
    agent_ids = list(agent_ids)
    stop = min(end, now)
    result = dict.fromkeys(agent_ids)
    if stop <= start or not agent_ids:
        return result
    clipped = ExpressionWrapper(
        Least(Coalesce("ended_at", Value(now, output_field=DateTimeField())), Value(stop, output_field=DateTimeField()))
        - Greatest("started_at", Value(start, output_field=DateTimeField())),
        output_field=DurationField(),
    )
    overlapping = Q(started_at__gte=start, started_at__lt=stop) | Q(started_at__lt=start, ended_at__gt=start)
    overlapping |= Q(started_at__lt=start, ended_at__isnull=True)
    rows = (
        PresenceInterval.objects.filter(agent_id__in=agent_ids, state__in=HANDLING_STATES + AVAILABLE_STATES)
        .filter(overlapping)
        .values("agent_id")
        .annotate(
            handling=Sum(clipped, filter=Q(state__in=HANDLING_STATES)),
            available=Sum(clipped, filter=Q(state__in=AVAILABLE_STATES)),
        )
    )
    for row in rows:
        handling = row["handling"].total_seconds() if row["handling"] else 0.0
        available = row["available"].total_seconds() if row["available"] else 0.0
        total = handling + available
        result[row["agent_id"]] = round(100.0 * handling / total, 1) if total > 0 else None
    return result


def fcr_window() -> timedelta:
    return timedelta(days=settings.FCR_WINDOW_DAYS)


def first_contact_resolution(calls) -> dict:
    """First-contact resolution of a set of calls: of the answered inbound calls, those after
    which the same client (or, without a client, the same number) did not call again within
    settings.FCR_WINDOW_DAYS. Returns {"answered", "resolved", "fcr_pct"} (one query)."""
    window = fcr_window()
    later = Call.objects.filter(
        direction=Call.Direction.INBOUND,
        offered_at__gt=OuterRef("offered_at"),
        offered_at__lte=OuterRef("offered_at") + window,
    )
    same_client = later.filter(client_id=OuterRef("client_id"))
    same_number = later.filter(caller_number=OuterRef("caller_number"))
    rows = (
        calls.filter(direction=Call.Direction.INBOUND, answered_at__isnull=False)
        .annotate(again_client=Exists(same_client), again_number=Exists(same_number))
        .aggregate(
            answered=Count("pk"),
            repeated=Count(
                "pk",
                filter=Q(client__isnull=False, again_client=True) | Q(client__isnull=True, again_number=True),
            ),
        )
    )
    answered = rows["answered"]
    resolved = answered - rows["repeated"]
    return {
        "answered": answered,
        "resolved": resolved,
        "fcr_pct": round(100.0 * resolved / answered, 1) if answered else None,
    }


def half_hours(queue_ids, *, start: datetime, end: datetime) -> list[dict]:
    """Offered, answered and service level per half-hour of the period (local time), for the
    chart. One query grouped by hour and half in the database, using the (queue, offered_at)
    index; the service level by the queues' formula (the standard one when they differ)."""
    queue_ids = list(queue_ids)
    slots = []
    at = start
    while at < end:
        slots.append(dict.fromkeys(_SLOT_COUNTS, 0) | {"start": at})
        at += timedelta(minutes=30)
    zone = timezone.get_current_timezone()
    answered = Q(answered_at__isnull=False)
    abandoned = Q(state=Call.State.ABANDONED)
    within = Q(wait_s__lte=F("queue__service_level_threshold_s"))
    rows = (
        Call.objects.filter(
            queue_id__in=queue_ids, direction=Call.Direction.INBOUND, offered_at__gte=start, offered_at__lt=end
        )
        .annotate(
            hour=TruncHour("offered_at", tzinfo=zone),
            late=Case(When(offered_at__minute__gte=30, then=Value(1)), default=Value(0)),
        )
        .values("hour", "late", "queue__service_level_formula")
        .annotate(
            offered=Count("pk"),
            answered=Count("pk", filter=answered),
            answered_within=Count("pk", filter=answered & within),
            abandoned=Count("pk", filter=abandoned),
            short_abandoned=Count("pk", filter=abandoned & Q(wait_s__lt=F("queue__short_abandon_threshold_s"))),
            abandoned_within=Count("pk", filter=abandoned & within),
        )
    )
    formulas = set()
    for row in rows:
        formulas.add(row["queue__service_level_formula"])
        index = int((row["hour"] - start).total_seconds() // 1800) + row["late"]
        if not 0 <= index < len(slots):  # an hour cut by a daylight-saving change
            index = min(max(index, 0), len(slots) - 1)
        for key in _SLOT_COUNTS:
            slots[index][key] += row[key]
    formula = formulas.pop() if len(formulas) == 1 else "standard"
    return [
        {
            "start": timezone.localtime(slot["start"]).strftime("%H:%M"),
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
