"""Reads of the calls app with their access rules.

Who sees what:
- an agent: their own calls, callbacks they own or that wait in queues their team
  serves, and the status of the queues their team serves;
- a supervisor: the calls of their teams' agents, the callbacks and queues their teams
  serve (Queue.teams);
- a manager or HR: everything; a QA analyst: every call (they review recordings), no
  queue status; a trainer: nothing here.
"""

import contextlib
import threading
import time

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.roles import ALL_SEEING_ROLES, Role, roles_of
from contactcenter import rows
from contactcenter.errors import Forbidden, NotFound

from . import kpis
from .models import AgentPresence, Call, Callback, Queue


def active_queue_by_slug(slug: str) -> Queue | None:
    """The active queue the PBX names (telephony events: every offered call looks it up)."""
    return rows.get_row(Queue, "slug = %s AND is_active", [slug])


def _agent_of(user):
    return getattr(user, "agent", None) if user.is_authenticated else None


def agent_for_user(*, user):
    """The user's agent profile, or Forbidden: only agents take calls."""
    if not user.is_authenticated:
        raise Forbidden(_("Only agents take calls."))
    try:
        return user.agent
    except ObjectDoesNotExist:
        raise Forbidden(_("Only agents take calls.")) from None


def queues_for_user(*, user) -> QuerySet[Queue]:
    qs = Queue.objects.select_related("required_skill", "required_language")
    user_roles = roles_of(user)
    if user_roles & ALL_SEEING_ROLES:
        return qs
    scope = Q(pk__in=[])
    if Role.SUPERVISOR in user_roles:
        scope |= Q(teams__supervisor=user) | Q(teams__manager=user)
    agent = _agent_of(user) if Role.AGENT in user_roles else None
    if agent is not None and agent.team_id:
        scope |= Q(teams=agent.team_id)
    return qs.filter(pk__in=Queue.objects.filter(scope).values("pk"))


def calls_for_user(*, user) -> QuerySet[Call]:
    qs = Call.objects.select_related("queue", "agent__user", "client", "disposition")
    user_roles = roles_of(user)
    if user_roles & (ALL_SEEING_ROLES | {Role.QA_ANALYST}):
        return qs
    scope = Q(pk__in=[])
    if Role.SUPERVISOR in user_roles:
        scope |= Q(agent__team__supervisor=user) | Q(agent__supervisor=user)
    agent = _agent_of(user) if Role.AGENT in user_roles else None
    if agent is not None:
        scope |= Q(agent=agent)
    return qs.filter(scope)


def call_get_for_user(*, user, call_id) -> Call:
    try:
        return calls_for_user(user=user).get(pk=int(call_id))
    except (Call.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("No such call.")) from None


def callbacks_for_user(*, user) -> QuerySet[Callback]:
    qs = Callback.objects.select_related("queue", "owner__user", "client")
    user_roles = roles_of(user)
    if user_roles & ALL_SEEING_ROLES:
        return qs
    scope = Q(pk__in=[])
    if Role.SUPERVISOR in user_roles:
        scope |= Q(queue__teams__supervisor=user) | Q(owner__team__supervisor=user)
    agent = _agent_of(user) if Role.AGENT in user_roles else None
    if agent is not None:
        scope |= Q(owner=agent)
        if agent.team_id:
            scope |= Q(owner__isnull=True, queue__teams=agent.team_id)
    return qs.filter(pk__in=Callback.objects.filter(scope).values("pk"))


def call_position(call: Call) -> int | None:
    """1 for the next call of its queue to be answered; None when the call is not waiting."""
    if call.state != Call.State.QUEUED:
        return None
    return call_position_of(call_id=call.pk, queue_id=call.queue_id, offered_at=call.offered_at)


# A waiting call's place in its queue (1: next), in one COUNT of the calls ahead of it: a
# scalar subquery with named parameters (call_position_params), so that the statement storing
# a waiting call's answer can count it too (calls/telephony.py).
CALL_POSITION_SQL = f"""(
    SELECT count(*) + 1 FROM {Call._meta.db_table} c
    WHERE c.queue_id = %(queue)s AND c.state = '{Call.State.QUEUED}'
      AND (c.offered_at < %(offered_at)s OR (c.offered_at = %(offered_at)s AND c.id < %(call)s))
)"""  # noqa: S608 -- names from the model's metadata; values are bound


def call_position_params(*, call_id: int, queue_id: int, offered_at) -> dict:
    return {"call": call_id, "queue": queue_id, "offered_at": connection.ops.adapt_datetimefield_value(offered_at)}


def call_position_of(*, call_id: int, queue_id: int, offered_at) -> int:
    """A waiting call's place in its queue (1: next)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {CALL_POSITION_SQL}",  # noqa: S608 -- no value in the text
            call_position_params(call_id=call_id, queue_id=queue_id, offered_at=offered_at),
        )
        return cursor.fetchone()[0]


def call_answer(call: Call) -> dict:
    """The call as the telephony API answers it: enough for a PBX to bridge the caller."""
    return {
        "id": call.pk,
        "call_id": call.external_id,
        "state": call.state,
        "queue": call.queue.slug,
        "agent": call.agent.user.username if call.agent_id else None,
        "position": call_position(call),
    }


def queue_status_for_user(*, user) -> list[dict]:
    """Per queue the user may see: waiting calls, longest wait, agents by state, and today's
    offered/answered/abandoned, service level, ASA and AHT (formulas in calls/kpis.py)."""
    if not roles_of(user) & (ALL_SEEING_ROLES | {Role.SUPERVISOR, Role.AGENT}):
        raise Forbidden(_("Queue status is for agents, supervisors and managers."))
    queues = list(queues_for_user(user=user).order_by("-priority", "name"))
    ids = [q.pk for q in queues]
    now = timezone.now()
    live = kpis.queue_live(ids, now=now)
    start, end = kpis.today_range(now)
    today = kpis.queue_period(ids, start=start, end=end)
    agents = kpis.queue_agents_by_state(queues)
    return [
        {
            "id": q.pk,
            "slug": q.slug,
            "name": q.name,
            "priority": q.priority,
            "waiting": live[q.pk]["waiting"],
            "longest_wait_s": live[q.pk]["longest_wait_s"],
            "agents": agents[q.pk],
            "today": today[q.pk],
            "service_level_threshold_s": q.service_level_threshold_s,
            "service_level_target_pct": q.service_level_target_pct,
            "target_aht_s": q.target_aht_s,
        }
        for q in queues
    ]


def presence_for_agent(*, agent) -> AgentPresence | None:
    return AgentPresence.objects.filter(agent=agent).first()


# --- The desk, the wallboard and the dashboard ----------------------------------------------
# Who sees what: the desk is an agent's own (their presence, their call, their team's
# queues and announcements); the wallboard and the dashboard are for supervisors (their
# teams' queues, agents and calls) and managers (everything).

WALLBOARD_ROLES = (Role.SUPERVISOR, Role.MANAGER)


def can_watch_floor(user) -> bool:
    return user.is_authenticated and bool(roles_of(user) & set(WALLBOARD_ROLES))


def floor_teams_for_user(*, user):
    """Teams whose floor the user watches: a supervisor the teams they lead, a manager all."""
    from agents.models import Team

    user_roles = roles_of(user)
    if Role.MANAGER in user_roles:
        return Team.objects.all()
    if Role.SUPERVISOR in user_roles:
        return Team.objects.filter(Q(supervisor=user) | Q(manager=user))
    return Team.objects.none()


def floor_queues_for_user(*, user) -> QuerySet[Queue]:
    """Queues on the user's wallboard: those their teams serve (Queue.teams); a manager all."""
    if not can_watch_floor(user):
        return Queue.objects.none()
    if Role.MANAGER in roles_of(user):
        return Queue.objects.filter(is_active=True)
    return Queue.objects.filter(
        is_active=True, pk__in=Queue.objects.filter(teams__in=floor_teams_for_user(user=user)).values("pk")
    )


def floor_agents_for_user(*, user):
    """Agents on the user's wallboard: their teams' active agents; a manager everyone active."""
    from agents.models import Agent

    qs = Agent.objects.select_related("user", "team").filter(employment_status=Agent.EmploymentStatus.ACTIVE)
    if not can_watch_floor(user):
        return qs.none()
    if Role.MANAGER in roles_of(user):
        return qs
    return qs.filter(Q(team__in=floor_teams_for_user(user=user)) | Q(supervisor=user))


def floor_calls_for_user(*, user) -> QuerySet[Call]:
    """The call log of the dashboard and its CSV export: a supervisor their teams' agents'
    calls and their queues' calls; a manager every call."""
    qs = Call.objects.select_related("queue", "agent__user", "disposition")
    if not can_watch_floor(user):
        return qs.none()
    if Role.MANAGER in roles_of(user):
        return qs
    teams = floor_teams_for_user(user=user)
    return qs.filter(
        Q(agent__team__in=teams) | Q(agent__supervisor=user) | Q(queue__in=floor_queues_for_user(user=user))
    )


def _seconds_since(at, now) -> int:
    return max(0, int((now - at).total_seconds())) if at else 0


def wallboard_for_user(*, user, now=None) -> dict:
    """Everything the wallboard and the dashboard show, in a bounded number of queries
    whatever the number of calls: per queue live and today's figures, per agent state and
    time in state, calls today vs target, AHT and occupancy, open escalations, the
    half-hour chart. Formulas in calls/kpis.py."""
    asked_at = now
    now = now or timezone.now()
    start, end = kpis.today_range(now)
    queues = list(floor_queues_for_user(user=user).order_by("-priority", "name"))
    queue_ids = [q.pk for q in queues]
    live = kpis.queue_live(queue_ids, now=now)
    by_state = kpis.queue_agents_by_state(queues)
    agents = list(
        floor_agents_for_user(user=user).select_related("presence").order_by("user__first_name", "user__last_name")
    )
    figures_at, figures = day_figures.get(queue_ids, [a.pk for a in agents], day=start, now=asked_at)
    today, day, occupancy = figures["queues"], figures["agents"], figures["occupancy"]
    escalations = list(
        floor_calls_for_user(user=user).filter(escalated=True, escalated_at__gte=start).order_by("-escalated_at")[:20]
    )
    return {
        "at": now.isoformat(),
        "figures_at": figures_at.isoformat(),  # the day's figures: see SharedDayFigures
        "figures_max_age_s": settings.CALLS_DAY_FIGURES_MAX_AGE_S,
        "queues": [
            {
                "id": q.pk,
                "name": q.name,
                "waiting": live[q.pk]["waiting"],
                "longest_wait_s": live[q.pk]["longest_wait_s"],
                "agents": by_state[q.pk],
                "service_level_threshold_s": q.service_level_threshold_s,
                "service_level_target_pct": q.service_level_target_pct,
                **today[q.pk],
            }
            for q in queues
        ],
        "agents": [
            {
                "id": a.pk,
                "name": a.user.get_full_name() or a.user.username,
                "team": a.team.name if a.team_id else "",
                "state": _presence_of(a).state if _presence_of(a) else AgentPresence.State.OFFLINE,
                "reason": _presence_of(a).reason if _presence_of(a) else "",
                "in_state_s": _seconds_since(_presence_of(a).since, now) if _presence_of(a) else 0,
                "handled": day[a.pk]["handled"],
                "target": a.calls_per_day_target,
                "aht_s": day[a.pk]["aht_s"],
                "aht_target_s": a.aht_target_s,
                "occupancy_pct": occupancy[a.pk],
            }
            for a in agents
        ],
        "escalations": [escalation_payload(c) for c in escalations],
        "half_hours": figures["half_hours"],
    }


class SharedDayFigures:
    """The day's figures of the wallboard and the dashboard (kpis.floor_today), computed at
    most once per CALLS_DAY_FIGURES_MAX_AGE_S for one scope (the same queues and agents) in
    this process, and shared by every page of that scope.

    Why: each refresh of a page would otherwise count the day again, and the open half-hour
    (not rolled up yet) is counted from its calls and presence intervals, so that a page costs
    more the busier the floor is, times the pages open. The live figures beside them (calls
    waiting, the longest wait, each agent's state) are read fresh at every refresh.

    While one reader refreshes a scope, the others get the last figures instead of counting
    again (or wait for it, the first time). 0 turns the sharing off; a read at a given time
    (`now`: reports, tests) is always counted."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._entries: dict[tuple, tuple[float, object, dict]] = {}  # scope → (clock, at, figures)
        self._refresh = threading.Lock()

    def get(self, queue_ids, agent_ids, *, day, now=None) -> tuple:
        """(when the figures were computed, the figures) for this scope's today (starting `day`)."""
        max_age = settings.CALLS_DAY_FIGURES_MAX_AGE_S
        if now is not None or max_age <= 0:
            now = now or timezone.now()
            return now, kpis.floor_today(queue_ids, agent_ids, now=now)
        key = (day, tuple(sorted(queue_ids)), tuple(sorted(agent_ids)))
        entry = self._entries.get(key)
        if entry is not None and self.clock() - entry[0] < max_age:
            return entry[1], entry[2]
        if not self._refresh.acquire(blocking=entry is None):
            return entry[1], entry[2]  # another reader is counting: the last figures meanwhile
        try:
            entry = self._entries.get(key)
            if entry is not None and self.clock() - entry[0] < max_age:
                return entry[1], entry[2]  # counted while this reader waited
            counted, at = self.clock(), timezone.now()
            figures = kpis.floor_today(queue_ids, agent_ids, now=at)
            # Scopes no page has read for a while (another day, a changed team) are let go.
            for old in [k for k, e in self._entries.items() if counted - e[0] > 60 * max_age]:
                del self._entries[old]
            self._entries[key] = (counted, at, figures)
            return at, figures
        finally:
            self._refresh.release()

    def clear(self) -> None:
        self._entries.clear()


day_figures = SharedDayFigures()


def _presence_of(agent):
    try:
        return agent.presence
    except ObjectDoesNotExist:
        return None


def escalation_payload(call: Call) -> dict:
    return {
        "id": call.pk,
        "call_id": call.external_id,
        "queue": call.queue.name,
        "agent": (call.agent.user.get_full_name() or call.agent.user.username) if call.agent_id else "",
        "caller_number": call.caller_number,
        "reason": call.escalation_reason,
        "escalated_at": call.escalated_at.isoformat() if call.escalated_at else None,
        "state": call.state,
    }


def announcements_for_agent(*, agent) -> QuerySet:
    """Announcements to the agent's team from the last 7 days, newest first, with `read`."""
    from datetime import timedelta

    from django.db.models import Exists, OuterRef

    from .models import Announcement, AnnouncementReceipt

    if not agent.team_id:
        return Announcement.objects.none()
    return (
        Announcement.objects.filter(teams=agent.team_id, created_at__gte=timezone.now() - timedelta(days=7))
        .select_related("author")
        .annotate(read=Exists(AnnouncementReceipt.objects.filter(announcement=OuterRef("pk"), agent=agent)))
        .order_by("-created_at", "-id")
    )


def announcements_by_author(*, user, limit: int = 10) -> list:
    """The user's latest announcements with who read them (two queries)."""
    from django.db.models import Prefetch

    from .models import Announcement, AnnouncementReceipt

    return list(
        Announcement.objects.filter(author=user)
        .prefetch_related(
            "teams", Prefetch("receipts", queryset=AnnouncementReceipt.objects.select_related("agent__user"))
        )
        .order_by("-created_at", "-id")[:limit]
    )


def desk_state(*, agent, now=None) -> dict:
    """The whole desk, for a (re)connecting desk: presence, the call it holds with the
    caller's client record and history, the team's queue statuses, my day against my
    targets, announcements. Bounded number of queries."""
    from . import realtime

    now = now or timezone.now()
    presence = AgentPresence.objects.filter(agent=agent).select_related("current_call").first()
    call = presence.current_call if presence else None
    queues = list(queues_for_user(user=agent.user).filter(is_active=True).order_by("-priority", "name"))
    live = kpis.queue_live([q.pk for q in queues], now=now)
    start, end = kpis.today_range(now)
    day = kpis.agent_period([agent.pk], start=start, end=end)[agent.pk]
    return {
        "presence": {
            "agent_id": agent.pk,
            "state": presence.state if presence else AgentPresence.State.OFFLINE,
            "reason": presence.reason if presence else "",
            "since": presence.since.isoformat() if presence else None,
            "call_id": presence.current_call_id if presence else None,
        },
        "call": call_card(call) if call else None,
        "queues": [
            {
                "queue": q.pk,
                "name": q.name,
                "waiting": live[q.pk]["waiting"],
                "longest_wait_s": live[q.pk]["longest_wait_s"],
            }
            for q in queues
        ],
        "my_day": {
            "handled": day["handled"],
            "target": agent.calls_per_day_target,
            "aht_s": day["aht_s"],
            "aht_target_s": agent.aht_target_s,
        },
        "announcements": [
            {
                **realtime.announcement_payload(a, author_name=a.author.get_full_name() or a.author.username),
                "read": a.read,
            }
            for a in announcements_for_agent(agent=agent)[:20]
        ],
    }


def call_card(call: Call) -> dict:
    """A call as the desk pops it: the call, the caller's client record and contact history
    (clients' selectors), or just the number when no client matched."""
    from django.urls import NoReverseMatch, reverse

    from . import realtime

    card = realtime.call_payload(call)
    card["queue_name"] = call.queue.name if call.queue_id else ""
    card["client"] = None
    if call.client_id:
        from clients.selectors import client_timeline

        client = call.client
        links = {}
        for key, name, kwargs, query in (
            ("record", "clients:client-detail", {"pk": client.pk}, ""),
            ("outcome", "clients:client-outcome", {"pk": client.pk}, ""),
            ("order", "orders:order-create", {}, f"?client={client.pk}"),
        ):
            with contextlib.suppress(NoReverseMatch):  # a next step whose app is not installed
                links[key] = reverse(name, kwargs=kwargs) + query
        card["client"] = {
            "id": client.pk,
            "name": str(client),
            "links": links,
            "history": [
                {"at": e.at.isoformat(), "kind": e.kind, "title": str(e.title), "detail": str(e.detail)}
                for e in client_timeline(client=client, limit=10)
                if not (e.kind == "call" and getattr(e.obj, "pk", None) == call.pk)
            ],
        }
    return card
