"""Reads of the calls app with their access rules.

Who sees what:
- an agent: their own calls, callbacks they own or that wait in queues their team
  serves, and the status of the queues their team serves;
- a supervisor: the calls of their teams' agents, the callbacks and queues their teams
  serve (Queue.teams);
- a manager or HR: everything; a QA analyst: every call (they review recordings), no
  queue status; a trainer: nothing here.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.roles import ALL_SEEING_ROLES, Role, roles_of
from contactcenter.errors import Forbidden, NotFound

from . import kpis
from .models import AgentPresence, Call, Callback, Queue


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
    ahead = Call.objects.filter(queue_id=call.queue_id, state=Call.State.QUEUED).filter(
        Q(offered_at__lt=call.offered_at) | Q(offered_at=call.offered_at, pk__lt=call.pk)
    )
    return ahead.count() + 1


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
