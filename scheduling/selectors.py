"""Reads of the scheduling app with their access rules.

Who sees what:
- an agent: their own published shifts, their own day-off requests and notifications,
  and the open shift offers of their team (to take one);
- a supervisor: besides their own, the shifts (drafts too), requests and swaps of the
  agents they supervise and of the teams they lead or manage (Team.supervisor,
  Team.manager, Agent.supervisor);
- HR and managers: everyone's.
Trainers and QA analysts see nothing here beyond their own records.

Who decides: a day-off request or a swap is decided by the agent's supervisor, their
team's supervisor or manager, or a manager; never by the agent themself.
"""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from agents.models import Agent
from agents.roles import ALL_SEEING_ROLES, Role, roles_of
from contactcenter.errors import NotFound

from .models import DayOffRequest, Notification, Shift, ShiftSwap


def _led_agents_q(user, prefix: str = "") -> Q:
    """Agents a supervisor or team manager leads, as a Q on `prefix` + Agent fields."""
    return (
        Q(**{f"{prefix}supervisor": user})
        | Q(**{f"{prefix}team__supervisor": user})
        | Q(**{f"{prefix}team__manager": user})
    )


def sees_everyone(user) -> bool:
    return bool(roles_of(user) & ALL_SEEING_ROLES)


def leads_agents(user) -> bool:
    return Role.SUPERVISOR in roles_of(user) or sees_everyone(user)


def agents_for_planning(*, user) -> QuerySet[Agent]:
    """Agents whose planning the user sees: themself; those they lead; HR and managers all."""
    qs = Agent.objects.select_related("user", "team", "supervisor")
    if sees_everyone(user):
        return qs
    scope = Q(user=user)
    if Role.SUPERVISOR in roles_of(user):
        scope |= _led_agents_q(user)
    return qs.filter(scope)


def agents_to_plan(*, user) -> QuerySet[Agent]:
    """Agents whose shifts the user may make and publish: those they lead, or all for a
    manager. HR sees schedules but does not plan them."""
    qs = Agent.objects.select_related("user", "team")
    user_roles = roles_of(user)
    if Role.MANAGER in user_roles:
        return qs
    if Role.SUPERVISOR in user_roles:
        return qs.filter(_led_agents_q(user)).exclude(user=user)
    return qs.none()


def can_plan(*, user, agent: Agent) -> bool:
    return agents_to_plan(user=user).filter(pk=agent.pk).exists()


def can_decide(*, user, agent: Agent) -> bool:
    """The agent's supervisor, their team's supervisor or manager, or a manager decides
    their requests and swaps; nobody decides their own."""
    if agent.user_id == user.pk:
        return False
    if Role.MANAGER in roles_of(user):
        return True
    team = agent.team
    return user.pk in {agent.supervisor_id, team.supervisor_id if team else None, team.manager_id if team else None}


def shifts_for_user(*, user) -> QuerySet[Shift]:
    """Shifts the user may see: their own once published; drafts too for the agents they
    lead; everyone's for HR and managers."""
    qs = Shift.objects.select_related("agent__user", "agent__team", "template").prefetch_related("breaks")
    if sees_everyone(user):
        return qs
    scope = Q(agent__user=user, is_published=True)
    if Role.SUPERVISOR in roles_of(user):
        scope |= _led_agents_q(user, "agent__")
    return qs.filter(scope)


def shift_get_for_user(*, user, shift_id) -> Shift:
    try:
        return shifts_for_user(user=user).get(pk=int(shift_id))
    except (Shift.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("No such shift.")) from None


def dayoff_requests_for_user(*, user) -> QuerySet[DayOffRequest]:
    qs = DayOffRequest.objects.select_related("agent__user", "agent__team", "decided_by").prefetch_related("days")
    if sees_everyone(user):
        return qs
    scope = Q(agent__user=user)
    if Role.SUPERVISOR in roles_of(user):
        scope |= _led_agents_q(user, "agent__")
    return qs.filter(scope)


def dayoff_request_get_for_user(*, user, request_id) -> DayOffRequest:
    try:
        return dayoff_requests_for_user(user=user).get(pk=int(request_id))
    except (DayOffRequest.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("No such day-off request.")) from None


def dayoff_requests_to_decide(*, user) -> QuerySet[DayOffRequest]:
    """Pending requests the user may decide, oldest week first."""
    qs = DayOffRequest.objects.filter(state=DayOffRequest.State.PENDING).exclude(agent__user=user)
    qs = qs.select_related("agent__user", "agent__team").prefetch_related("days")
    if Role.MANAGER in roles_of(user):
        return qs.order_by("week_start", "created_at")
    return qs.filter(_led_agents_q(user, "agent__")).order_by("week_start", "created_at")


def swaps_for_user(*, user) -> QuerySet[ShiftSwap]:
    """Swaps the user offered or took, the open offers of their team, and, for those who
    lead agents, their agents' swaps."""
    qs = ShiftSwap.objects.select_related(
        "shift", "shift__template", "offered_by__user", "offered_by__team", "taken_by__user"
    )
    if sees_everyone(user):
        return qs
    scope = Q(offered_by__user=user) | Q(taken_by__user=user)
    agent = Agent.objects.filter(user=user).only("pk", "team_id").first()
    if agent is not None and agent.team_id:
        scope |= Q(state=ShiftSwap.State.OFFERED, offered_by__team_id=agent.team_id)
    if Role.SUPERVISOR in roles_of(user):
        scope |= _led_agents_q(user, "offered_by__") | _led_agents_q(user, "taken_by__")
    return qs.filter(pk__in=ShiftSwap.objects.filter(scope).values("pk"))


def swap_get_for_user(*, user, swap_id) -> ShiftSwap:
    try:
        return swaps_for_user(user=user).get(pk=int(swap_id))
    except (ShiftSwap.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("No such shift swap.")) from None


def swaps_to_decide(*, user) -> QuerySet[ShiftSwap]:
    qs = ShiftSwap.objects.filter(state=ShiftSwap.State.TAKEN).exclude(offered_by__user=user)
    qs = qs.exclude(taken_by__user=user).select_related(
        "shift", "shift__template", "offered_by__user", "offered_by__team", "taken_by__user"
    )
    if Role.MANAGER in roles_of(user):
        return qs
    return qs.filter(_led_agents_q(user, "offered_by__"))


def notifications_for_user(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def agent_of(user) -> Agent | None:
    if not user.is_authenticated:
        return None
    return Agent.objects.select_related("team", "supervisor", "user").filter(user=user).first()
