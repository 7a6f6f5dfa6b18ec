"""Demo data for planning: shift templates around the clock, last week's and this week's
published schedules for every demo agent, next week's (drafts for "Service client", whose
supervisor publishes it), day-off requests pending and decided, and a shift swap waiting
for approval.

Runs after the calls demo. The days up to today follow the calls demo's simulated
presence log (each agent's shift starts when they signed in, with their lunch hour), so
adherence and coverage read true figures; the days ahead follow a rota. Everything
goes through the services (overlaps, deadlines, staffing checks, history,
notifications). Idempotent: templates by name; an agent's week, requests and the swap are
made only when absent.
"""

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from agents.models import Agent, Team
from agents.roles import Role
from calls.models import AgentPresence, PresenceInterval
from contactcenter.errors import ApplicationError

from . import periods, services
from .models import DayOffRequest, Shift, ShiftSwap, ShiftTemplate

# (name, start, end, breaks): the center runs around the clock.
TEMPLATES = [
    ("Matin 06:00", time(6), time(14), [{"start": "10:00", "minutes": 20}]),
    ("Jour 08:00", time(8), time(16, 30), [{"start": "12:00", "minutes": 60}]),
    ("Jour 09:00", time(9), time(17, 30), [{"start": "13:00", "minutes": 60}]),
    ("Jour 10:00", time(10), time(18, 30), [{"start": "14:00", "minutes": 60}]),
    ("Soir 14:00", time(14), time(22), [{"start": "18:00", "minutes": 30}]),
    ("Nuit 22:00", time(22), time(6), [{"start": "02:00", "minutes": 30}]),
]
DAY_TEMPLATES = ["Jour 08:00", "Jour 09:00", "Jour 10:00"]
# Agents (by position in employee-number order) on the early, late and night shifts.
SPECIAL = {3: "Matin 06:00", 7: "Soir 14:00", 11: "Nuit 22:00", 15: "Matin 06:00", 19: "Soir 14:00"}


def seed(*, stdout) -> None:
    now = timezone.now()
    today = periods.local_today(now)
    this_week = periods.monday_of(today)
    next_week = this_week + timedelta(weeks=1)
    with transaction.atomic():
        templates = {}
        for name, start, end, breaks in TEMPLATES:
            templates[name], _ = ShiftTemplate.objects.update_or_create(
                name=name, defaults={"start_time": start, "end_time": end, "breaks": breaks, "is_active": True}
            )
        agents = list(
            Agent.objects.filter(employment_status=Agent.EmploymentStatus.ACTIVE)
            .select_related("user", "team__supervisor", "team__manager")
            .order_by("employee_number")
        )
        if not agents:
            stdout.write("  no agents: run the agents demo first")
            return None
        manager = _manager(agents)
        made = 0
        for week in (this_week - timedelta(weeks=1), this_week, next_week):
            made += _plan_week(agents, week, templates, today=today, now=now)
        published = 0
        if manager:
            for week in (this_week - timedelta(weeks=1), this_week):
                published += services.schedule_publish(week_start=week, by=manager)
        # Next week: every team but "Service client" is published by its supervisor; the
        # "supervisor" login finds their team's week in draft on the team page.
        for team in Team.objects.exclude(name="Service client").select_related("supervisor"):
            if team.supervisor:
                published += services.schedule_publish(week_start=next_week, by=team.supervisor)
        stdout.write(f"  {len(templates)} shift templates, {made} shifts planned, {published} published")
        requests = _dayoff_requests(agents, this_week, now=now)
        swap = _swap(agents, next_week, now=now)
        stdout.write(f"  {requests} day-off requests, {swap} shift swap waiting for approval")
    return None


def _manager(agents):
    team = next((a.team for a in agents if a.team and a.team.manager), None)
    if team:
        return team.manager
    from agents.models import User

    return User.objects.filter(groups__name=Role.MANAGER).first()


def _presence_starts(agent_ids, days) -> dict[tuple[int, date], datetime]:
    """When each agent first signed in on each day (the calls demo's simulated shifts)."""
    if not days:
        return {}
    start, _ = periods.day_bounds(days[0])
    _, end = periods.day_bounds(days[-1])
    zone = periods.center_zone()
    first = {}
    for agent_id, started_at in (
        PresenceInterval.objects.filter(agent_id__in=agent_ids, started_at__gte=start, started_at__lt=end)
        .exclude(state=AgentPresence.State.OFFLINE)
        .order_by("started_at")
        .values_list("agent_id", "started_at")
    ):
        first.setdefault((agent_id, timezone.localtime(started_at, zone).date()), started_at)
    return first


def _rota_template(index: int, day: date, templates) -> ShiftTemplate | None:
    """Five days in seven, two rotating days off; most on the day shifts."""
    off = {index % 7, (index + 3) % 7}
    if day.weekday() in off:
        return None
    return templates[SPECIAL.get(index, DAY_TEMPLATES[index % 3])]


def _plan_week(agents, week: date, templates, *, today: date, now: datetime) -> int:
    days = periods.week_days(week)
    past_days = [d for d in days if d <= today]
    signed_in = _presence_starts([a.pk for a in agents], past_days)
    has_week = set(
        Shift.objects.filter(agent__in=agents, date__gte=week, date__lt=week + timedelta(days=7)).values_list(
            "agent_id", flat=True
        )
    )
    made = 0
    for index, agent in enumerate(agents):
        planner = agent.team.supervisor if agent.team and agent.team.supervisor else None
        if agent.pk in has_week or planner is None:
            continue
        for day in days:
            try:
                start = signed_in.get((agent.pk, day)) if day <= today else None
                if day < today and start is None:
                    continue  # not on the floor that day in the simulated history
                if start is not None:
                    # The calls demo's shift: 8 h 30 with an hour's lunch 4 h in.
                    services.shift_create(
                        agent=agent,
                        day=day,
                        start_at=start,
                        end_at=start + timedelta(hours=8, minutes=30),
                        breaks=[(start + timedelta(hours=4), start + timedelta(hours=5))],
                        by=planner,
                    )
                else:
                    template = _rota_template(index, day, templates)
                    if template is None or periods.local_datetime(day, template.start_time) <= now:
                        continue  # today: only the rota shifts that have not started
                    services.shift_create(agent=agent, day=day, template=template, by=planner)
                made += 1
            except ApplicationError:
                continue  # an overlap with a night shift of the day before: keep the first
    return made


def _file(agent, week: date, days: list[date], note: str, *, now: datetime) -> DayOffRequest | None:
    if DayOffRequest.objects.filter(agent=agent, week_start=week).exists():
        return None
    # Filed two days before the week's deadline, as an agent would have.
    filed_at = min(now, periods.dayoff_deadline(week) - timedelta(days=2))
    return services.dayoff_request_submit(
        agent=agent, week_start=week, days=days, note=note, by=agent.user, now=filed_at
    )


def _dayoff_requests(agents, this_week: date, *, now: datetime) -> int:
    next_week = this_week + timedelta(weeks=1)
    after = this_week + timedelta(weeks=2)
    service = [a for a in agents if a.team and a.team.name == "Service client"]
    others = [a for a in agents if a.team and a.team.name != "Service client"]
    count = 0
    if service:
        featured = service[0]  # the "agent" login
        approved = _file(featured, next_week, [next_week + timedelta(days=2)], "Rendez-vous médical", now=now)
        if approved:
            _decide(approved, approve=True, comment="Bon rétablissement.")
            count += 1
        if _file(featured, after, [after + timedelta(days=4)], "Week-end prolongé", now=now):
            count += 1
        for i, agent in enumerate(service[1:4]):
            day = next_week + timedelta(days=i)
            if _file(agent, next_week, [day, day + timedelta(days=1)][: 1 + i % 2], "Raisons familiales", now=now):
                count += 1
        if len(service) > 4:
            rejected = _file(service[4], next_week, [next_week + timedelta(days=4)], "Concert", now=now)
            if rejected:
                _decide(rejected, approve=False, comment="Vendredi de forte charge : propose un autre jour.")
                count += 1
    for i, agent in enumerate(others[:3]):
        request = _file(agent, next_week, [next_week + timedelta(days=1 + i)], "Congé", now=now)
        if request:
            _decide(request, approve=i != 1, comment="" if i != 1 else "Formation prévue ce jour-là.")
            count += 1
    return count


def _decide(request: DayOffRequest, *, approve: bool, comment: str) -> None:
    decider = request.agent.supervisor or (request.agent.team.supervisor if request.agent.team else None)
    if decider is None:
        return
    if not approve:
        services.dayoff_reject(request=request, by=decider, comment=comment)
        return
    try:
        services.dayoff_approve(request=request, by=decider, comment=comment)
    except ApplicationError as error:
        if error.code != "override_required":
            raise
        services.dayoff_approve(
            request=request, by=decider, comment=comment, override_reason="Demande posée de longue date."
        )


def _swap(agents, next_week: date, *, now: datetime) -> int:
    """An agent of "Support technique" offers a shift of next week; a free colleague takes it."""
    if ShiftSwap.objects.exists():
        return ShiftSwap.objects.filter(state=ShiftSwap.State.TAKEN).count()
    team = [a for a in agents if a.team and a.team.name == "Support technique"]
    for offerer in team:
        shift = (
            Shift.objects.filter(
                agent=offerer, date__gte=next_week, is_published=True, state=Shift.State.SCHEDULED, start_at__gt=now
            )
            .order_by("start_at")
            .first()
        )
        if shift is None:
            continue
        busy = set(
            Shift.objects.filter(
                state=Shift.State.SCHEDULED, start_at__lt=shift.end_at, end_at__gt=shift.start_at
            ).values_list("agent_id", flat=True)
        )
        taker = next((a for a in team if a.pk != offerer.pk and a.pk not in busy), None)
        if taker is None:
            continue
        swap = services.swap_offer(shift=shift, by=offerer.user, note="Rendez-vous administratif", now=now)
        services.swap_take(swap=swap, by=taker.user, now=now)
        return 1
    return 0
