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
- abandon rate (%): (abandoned − short abandons) / (offered − short abandons) × 100.
Live, per queue: waiting (calls in the queue now, callers on virtual hold included) and
longest_wait_s (since the oldest waiting call's arrival).
"""

from datetime import datetime, time, timedelta

from django.db.models import Avg, Count, F, Min, Q
from django.utils import timezone

from agents.models import Agent, AgentSkill

from .models import AgentPresence, Call


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


def service_level_pct(*, answered_within: int, answered: int, abandoned: int, short_abandoned: int) -> float | None:
    counted = answered + abandoned - short_abandoned
    if counted <= 0:
        return None
    return round(100.0 * answered_within / counted, 1)


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
        .values("queue_id")
        .annotate(
            offered=Count("pk"),
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
