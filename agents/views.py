from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render

from contactcenter.errors import NotFound

from . import selectors
from .roles import Role, has_role, roles_of

# Where each role works, in order of precedence for users with several roles.
ROLE_HOME = [
    (Role.MANAGER, "calls:dashboard"),
    (Role.SUPERVISOR, "calls:dashboard"),
    (Role.AGENT, "calls:desk"),
    (Role.QA_ANALYST, "qa:home"),
    (Role.HR, "admin:index"),
    (Role.TRAINER, "admin:index"),
]


@login_required
def home(request):
    """Send each role where it works: agents to the desk, supervisors to the dashboard,
    HR and trainers to the back office."""
    user_roles = roles_of(request.user)
    for role, url_name in ROLE_HOME:
        if role in user_roles:
            return redirect(url_name)
    if request.user.is_staff:
        return redirect("admin:index")
    raise PermissionDenied


@login_required
def agent_list(request):
    if not has_role(request.user, Role.SUPERVISOR, Role.MANAGER, Role.HR, Role.TRAINER, Role.QA_ANALYST):
        raise PermissionDenied
    agents = selectors.agents_for_user(user=request.user).prefetch_related("languages")
    return render(request, "agents/agent_list.html", {"agents": agents})


@login_required
def agent_detail(request, pk: int):
    try:
        agent = selectors.agent_get_for_user(user=request.user, agent_id=pk)
    except NotFound:
        raise Http404 from None
    skills = agent.skill_levels.select_related("skill")
    training = agent.training.select_related("course", "trainer")
    return render(request, "agents/agent_detail.html", {"agent": agent, "skills": skills, "training": training})
