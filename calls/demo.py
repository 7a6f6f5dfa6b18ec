"""Demo data for the calls app: queues served by the demo teams, presence rows, and three weeks
of call history (with abandons and callbacks) for the wallboard, the dashboards and the
scheduling forecast.

The history is a small ACD simulation over the demo agents' shifts, so waits, abandons,
handle times and the presence log agree with each other (adherence and occupancy can be
computed from it). Idempotent: queues by slug; history only when none exists yet.
"""

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agents.models import Agent, AgentSkill, Language, Skill, Team

from .models import AgentPresence, Call, Callback, Disposition, PresenceInterval, Queue

DAYS = 21
PREFIX = "demo-"

# (slug, name, skill, language, teams, priority, weekday calls, target AHT s, wrap-up s)
QUEUES = [
    ("service-client", "Service client FR", "Facturation", "fr", ["Service client", "Escalade"], 0, 220, 300, 60),
    ("support-technique", "Support technique", "Support technique", "fr", ["Support technique"], 0, 80, 540, 90),
    ("ventes", "Ventes", "Vente", "fr", ["Ventes sortantes"], 0, 60, 360, 60),
    ("ligne-anglophone", "Ligne anglophone", None, "en", ["Service client", "Escalade"], 1, 40, 300, 60),
]

DISPOSITIONS = {
    "service-client": {"resolved": 50, "information": 25, "complaint": 10, "transferred": 5, "follow-up": 10},
    "support-technique": {"resolved": 55, "information": 15, "escalated": 10, "follow-up": 15, "transferred": 5},
    "ventes": {"sale": 35, "information": 40, "follow-up": 20, "complaint": 5},
    "ligne-anglophone": {"resolved": 50, "information": 40, "transferred": 10},
}

# Share of a day's calls in each hour from 8:00 to 19:00 (peaks mid-morning and early afternoon).
HOURLY = [3, 6, 9, 10, 8, 6, 8, 9, 8, 6, 4, 2]


def seed(*, stdout) -> None:
    with transaction.atomic():
        queues = _queues()
        agents = list(Agent.objects.select_related("user").order_by("employee_number"))
        now = timezone.now()
        for agent in agents:
            AgentPresence.objects.get_or_create(
                agent=agent, defaults={"state": AgentPresence.State.OFFLINE, "since": now}
            )
        stdout.write(f"  {len(queues)} queues, presence for {len(agents)} agents")
        _announcements(stdout=stdout, now=now)
        if Call.objects.filter(external_id__startswith=PREFIX).exists():
            stdout.write("  call history already there")
            return None
        calls, intervals, callbacks = _history(queues, agents, now=now)
        stdout.write(f"  {calls} calls over {DAYS} days, {intervals} presence intervals, {callbacks} callbacks")
    return None


def _queues() -> list[Queue]:
    queues = []
    for slug, name, skill, language, teams, priority, _volume, aht, wrap_up in QUEUES:
        queue, _ = Queue.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "required_skill": Skill.objects.filter(name=skill).first() if skill else None,
                "required_language": Language.objects.filter(code=language).first(),
                "priority": priority,
                "target_aht_s": aht,
                "wrap_up_s": wrap_up,
            },
        )
        queue.teams.set(Team.objects.filter(name__in=teams))
        queues.append(queue)
    for code, label in [("resolved", "Resolved"), ("information", "Information given"), ("sale", "Sale")]:
        Disposition.objects.get_or_create(code=code, defaults={"label": label})
    return queues


class _Desk:
    """One demo agent during the simulation: their shift and when they are next free."""

    def __init__(self, agent, start: datetime, lunch: datetime, end: datetime):
        self.agent = agent
        self.start, self.lunch, self.end = start, lunch, end
        self.free_at = start
        self.calls: list[tuple[datetime, datetime, datetime, int]] = []  # ring, answer, hang-up, done

    def working(self, at: datetime) -> bool:
        return self.start <= at < self.end and not (self.lunch <= at < self.lunch + timedelta(hours=1))


def _history(queues, agents, *, now: datetime) -> tuple[int, int, int]:
    rng = random.Random(42)
    zone = ZoneInfo(settings.TIME_ZONE)
    skills = {}
    for agent_id, skill_id in AgentSkill.objects.values_list("agent_id", "skill_id"):
        skills.setdefault(agent_id, set()).add(skill_id)
    languages = {}
    for agent_id, code in Agent.languages.through.objects.values_list("agent_id", "language_id"):
        languages.setdefault(agent_id, set()).add(code)
    serving = {q.pk: set(q.teams.values_list("pk", flat=True)) for q in queues}
    # A queue is answered by eligible agents of the teams that serve it.
    eligible = {
        q.pk: [
            a
            for a in agents
            if a.team_id in serving[q.pk]
            and (q.required_skill_id is None or q.required_skill_id in skills.get(a.pk, ()))
            and (q.required_language_id is None or q.required_language_id in languages.get(a.pk, ()))
        ]
        for q in queues
    }
    volume = {slug: v for slug, _n, _s, _l, _t, _p, v, _a, _w in QUEUES}
    dispositions = {d.code: d for d in Disposition.objects.all()}
    calls: list[Call] = []
    intervals: list[PresenceInterval] = []
    callbacks: list[Callback] = []
    today = timezone.localtime(now, zone).date()
    for offset in range(DAYS, -1, -1):
        day = today - timedelta(days=offset)
        weekend = day.weekday() >= 5
        desks = {}
        for i, agent in enumerate(agents):
            # Rota: about two agents in three on a weekday (days off, training, other work),
            # a quarter of the floor at weekends.
            if rng.random() > (0.25 if weekend else 0.65):
                continue
            start = _at(day, time(8 + i % 3, 0), zone)
            desks[agent.pk] = _Desk(agent, start, start + timedelta(hours=4), start + timedelta(hours=8, minutes=30))
        arrivals = []
        for queue in queues:
            count = int(volume[queue.slug] * (0.3 if weekend else 1.0) * rng.uniform(0.85, 1.15))
            for _ in range(count):
                hour = rng.choices(range(8, 20), weights=HOURLY)[0]
                at = _at(day, time(hour, 0), zone) + timedelta(seconds=rng.uniform(0, 3600))
                if at < now:
                    arrivals.append((at, queue))
        arrivals.sort(key=lambda item: item[0])
        for n, (at, queue) in enumerate(arrivals):
            external_id = f"{PREFIX}{day:%Y%m%d}-{queue.slug}-{n}"
            caller = f"+336{rng.randint(10, 68)}{rng.randint(0, 999_999):06d}"  # allocated mobile ranges
            patience = rng.expovariate(1 / 90)
            candidates = [desks[a.pk] for a in eligible[queue.pk] if a.pk in desks and desks[a.pk].working(at)]
            desk = min(candidates, key=lambda d: (max(d.free_at, at), d.agent.pk), default=None)
            answer = max(desk.free_at, at) + timedelta(seconds=rng.uniform(2, 6)) if desk else None
            if desk is None or (answer - at).total_seconds() > patience or answer >= desk.end:
                ended = at + timedelta(seconds=patience)
                calls.append(
                    Call(
                        external_id=external_id,
                        caller_number=caller,
                        queue=queue,
                        state=Call.State.ABANDONED,
                        offered_at=at,
                        ended_at=ended,
                        wait_s=round(patience),
                        end_reason=Call.EndReason.ABANDONED,
                    )
                )
                if patience >= 5:
                    callbacks.append(_callback(rng, caller, queue, ended, now))
                continue
            talk = min(3600, max(20, rng.expovariate(1 / (queue.target_aht_s * 0.75))))
            hold = rng.choice([0, 0, 0, 0, rng.randint(10, 90)])
            wrap = rng.uniform(10, queue.wrap_up_s or 60)
            hang_up = answer + timedelta(seconds=talk + hold)
            done = hang_up + timedelta(seconds=wrap)
            if done > now:
                continue  # today's calls still going on are left out: history is final
            ring = answer - timedelta(seconds=rng.uniform(2, 6))
            desk.free_at = done
            desk.calls.append((ring, answer, hang_up, done))
            codes = DISPOSITIONS[queue.slug]
            calls.append(
                Call(
                    external_id=external_id,
                    caller_number=caller,
                    queue=queue,
                    agent=desk.agent,
                    state=Call.State.COMPLETED,
                    offered_at=at,
                    ringing_at=ring,
                    answered_at=answer,
                    ended_at=hang_up,
                    wrap_up_done_at=done,
                    wait_s=round((answer - at).total_seconds()),
                    talk_s=round(talk),
                    hold_s=hold,
                    wrap_up_s=round(wrap),
                    end_reason=Call.EndReason.COMPLETED,
                    disposition=dispositions.get(rng.choices(list(codes), weights=list(codes.values()))[0]),
                    recording_url=f"https://pbx.demo.invalid/recordings/{external_id}.wav",
                    escalated=rng.random() < 0.02,
                )
            )
        for desk in desks.values():
            intervals += _presence_log(desk, now)
    intervals = _chain(intervals, now)
    Call.objects.bulk_create(calls, batch_size=1000)
    PresenceInterval.objects.bulk_create(intervals, batch_size=2000)
    Callback.objects.bulk_create(callbacks, batch_size=1000)
    return len(calls), len(intervals), len(callbacks)


def _at(day: date, clock: time, zone) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone)


def _callback(rng, number, queue, abandoned_at, now) -> Callback:
    due = abandoned_at + timedelta(seconds=queue.callback_delay_s)
    if due > now:
        state, attempts = Callback.State.PENDING, 0
    else:
        state = rng.choices(
            [Callback.State.COMPLETED, Callback.State.FAILED, Callback.State.CANCELLED], weights=[70, 20, 10]
        )[0]
        attempts = {Callback.State.COMPLETED: 1, Callback.State.FAILED: queue.callback_max_attempts}.get(state, 0)
    return Callback(
        kind=Callback.Kind.ABANDONED,
        number=number,
        queue=queue,
        state=state,
        due_at=due,
        attempts=attempts,
        max_attempts=queue.callback_max_attempts,
    )


def _presence_log(desk: _Desk, now: datetime) -> list[PresenceInterval]:
    """The agent's day as presence intervals: available between calls, reserved while it rings,
    on call, wrap-up, an hour's lunch (after the call in hand), offline outside the shift."""
    log = []

    def add(state, start, end, reason=""):
        end = min(end, now)
        if end <= start:
            return
        log.append(
            PresenceInterval(agent=desk.agent, state=state, reason=reason, started_at=start, ended_at=end, cause="demo")
        )

    cursor = desk.start
    lunch_taken = False
    for ring, answer, hang_up, done in desk.calls:
        if not lunch_taken and ring >= desk.lunch:
            lunch_start = max(desk.lunch, cursor)
            add(AgentPresence.State.AVAILABLE, cursor, lunch_start)
            add(AgentPresence.State.BREAK, lunch_start, desk.lunch + timedelta(hours=1), AgentPresence.Reason.LUNCH)
            cursor = max(cursor, desk.lunch + timedelta(hours=1))
            lunch_taken = True
        add(AgentPresence.State.AVAILABLE, cursor, ring)
        add(AgentPresence.State.RESERVED, ring, answer)
        add(AgentPresence.State.ON_CALL, answer, hang_up)
        add(AgentPresence.State.WRAP_UP, hang_up, done)
        cursor = done
    if not lunch_taken and desk.lunch + timedelta(hours=1) <= desk.end:
        lunch_start = max(desk.lunch, cursor)
        add(AgentPresence.State.AVAILABLE, cursor, lunch_start)
        add(AgentPresence.State.BREAK, lunch_start, desk.lunch + timedelta(hours=1), AgentPresence.Reason.LUNCH)
        cursor = max(cursor, desk.lunch + timedelta(hours=1))
    add(AgentPresence.State.AVAILABLE, cursor, max(cursor, desk.end))
    if desk.start < now:
        # Signed out at the end of the shift (or now: the demo agents start offline); _chain
        # ends this at the next shift.
        log.append(
            PresenceInterval(
                agent=desk.agent,
                state=AgentPresence.State.OFFLINE,
                started_at=min(max(cursor, desk.end), now),
                ended_at=None,
                cause="demo",
            )
        )
    return log


def _chain(intervals: list[PresenceInterval], now: datetime) -> list[PresenceInterval]:
    """Each agent's log as one chain: every offline stretch ends when their next shift starts,
    and only the last one stays open (agents who already have a log keep theirs)."""
    has_log = set(PresenceInterval.objects.values_list("agent_id", flat=True).distinct())
    by_agent: dict[int, list[PresenceInterval]] = {}
    for interval in intervals:
        if interval.agent_id not in has_log:
            by_agent.setdefault(interval.agent_id, []).append(interval)
    chained = []
    for log in by_agent.values():
        log.sort(key=lambda i: i.started_at)
        for before, after in zip(log, log[1:], strict=False):
            if before.ended_at is None:
                before.ended_at = max(before.started_at, after.started_at)
        chained += log
    return chained


def _announcements(*, stdout, now: datetime) -> None:
    """One announcement per team from its supervisor, for the desks (idempotent by body)."""
    from .models import Announcement

    body = "Nouvelle offre fibre dès aujourd'hui : proposez-la aux clients éligibles. / New fibre offer from today."
    posted = 0
    for team in Team.objects.filter(supervisor__isnull=False).select_related("supervisor"):
        announcement, created = Announcement.objects.get_or_create(
            author=team.supervisor, body=body, defaults={"created_at": now}
        )
        announcement.teams.add(team)
        posted += created
    stdout.write(f"  {posted} announcements")
