"""Reads of agents with their access rule: who may see which agent."""

from django.db.models import Q, QuerySet

from contactcenter.errors import NotFound

from .models import Agent, Team
from .roles import ALL_SEEING_ROLES, Role, roles_of


def agents_for_user(*, user) -> QuerySet[Agent]:
    """Agents the user may see: themself; a supervisor their teams'; HR, managers,
    trainers and QA analysts everyone (trainers and QA work across teams)."""
    qs = Agent.objects.select_related("user", "team", "supervisor")
    user_roles = roles_of(user)
    if user_roles & (ALL_SEEING_ROLES | {Role.TRAINER, Role.QA_ANALYST}):
        return qs
    scope = Q(user=user)
    if Role.SUPERVISOR in user_roles:
        scope |= Q(team__supervisor=user) | Q(supervisor=user)
    return qs.filter(scope)


def agent_get_for_user(*, user, agent_id: int) -> Agent:
    """One agent, or NotFound when it does not exist or is out of the user's scope."""
    try:
        return agents_for_user(user=user).get(pk=agent_id)
    except (Agent.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such agent.") from None


def teams_for_user(*, user) -> QuerySet[Team]:
    """Teams a user leads (supervisor, manager) or, for HR and managers, all teams."""
    qs = Team.objects.select_related("supervisor", "manager")
    if roles_of(user) & ALL_SEEING_ROLES:
        return qs
    return qs.filter(Q(supervisor=user) | Q(manager=user) | Q(agents__user=user)).distinct()


def agent_for_user_profile(*, user) -> Agent | None:
    """The user's own agent profile, or None for users who do not take calls."""
    return Agent.objects.select_related("team", "supervisor").filter(user=user).first()
