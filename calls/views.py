"""Pages: the agent desk, the supervisor wallboard and dashboard, the call-log export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.roles import Role, role_required
from contactcenter.errors import ApplicationError, render_domain_error

from . import selectors, services
from .exports import calls_csv_response
from .filters import CallLogFilter
from .models import AgentPresence, Call, Disposition


def _state_labels() -> dict:
    """Presence and call states as people read them, for the pages' scripts."""
    labels = {state: str(label) for state, label in AgentPresence.State.choices}
    labels.update({f"reason.{code}": str(label) for code, label in AgentPresence.Reason.choices})
    labels.update({f"call.{state}": str(label) for state, label in Call.State.choices})
    return labels


def _floor_only(request):
    if not selectors.can_watch_floor(request.user):
        raise PermissionDenied


@role_required(Role.AGENT)
def desk(request):
    """The agent's live desk: everything on it comes from /ws/desk/ (its sync message)."""
    agent = getattr(request.user, "agent", None)
    if agent is None:
        raise Http404
    context = {
        "agent": agent,
        "dispositions": Disposition.objects.filter(active=True),
        "break_reasons": [(c, label) for c, label in AgentPresence.Reason.choices if c != AgentPresence.Reason.MISSED],
        "initial_state": selectors.desk_state(agent=agent),
        "state_labels": _state_labels(),
    }
    return render(request, "calls/desk.html", context)


@login_required
def wallboard(request):
    """The big-screen wallboard: the figures only, for a 1080p wall screen."""
    _floor_only(request)
    return render(
        request,
        "calls/wallboard.html",
        {"initial_state": selectors.wallboard_for_user(user=request.user), "state_labels": _state_labels()},
    )


@login_required
def dashboard(request):
    """The supervisor's dashboard: the wallboard's figures, the half-hour chart, escalations,
    announcements with their read receipts, and the call-log export."""
    _floor_only(request)
    context = {
        "initial_state": selectors.wallboard_for_user(user=request.user),
        "state_labels": _state_labels(),
        "teams": selectors.floor_teams_for_user(user=request.user).order_by("name"),
        "announcements": selectors.announcements_by_author(user=request.user),
        "filter": CallLogFilter(
            queryset=selectors.floor_calls_for_user(user=request.user),
            queues=selectors.floor_queues_for_user(user=request.user),
        ),
    }
    return render(request, "calls/dashboard.html", context)


@login_required
def wallboard_data(request):
    """The wallboard's figures as JSON (the pages refresh from it after a push)."""
    _floor_only(request)
    return JsonResponse(selectors.wallboard_for_user(user=request.user))


@login_required
def call_export(request):
    """The call log as CSV, with the dashboard's filters (supervisors: their teams'; managers: all)."""
    _floor_only(request)
    filters = CallLogFilter(
        request.GET or None,
        queryset=selectors.floor_calls_for_user(user=request.user),
        queues=selectors.floor_queues_for_user(user=request.user),
    )
    if filters.is_bound and not filters.is_valid():
        return JsonResponse({"detail": "Invalid filters.", "code": "invalid", "errors": filters.errors}, status=400)
    return calls_csv_response(filters.qs)


@login_required
@require_POST
def announcement_create(request):
    """A supervisor or manager posts an announcement to some of their teams' desks."""
    _floor_only(request)
    allowed = list(selectors.floor_teams_for_user(user=request.user).values_list("pk", flat=True))
    try:
        team_ids = [int(value) for value in request.POST.getlist("teams")]
    except ValueError:
        team_ids = [-1]
    try:
        services.announcement_post(
            author=request.user, body=request.POST.get("body", ""), team_ids=team_ids, allowed_team_ids=allowed
        )
    except ApplicationError as error:
        render_domain_error(request, error)
        return redirect("calls:dashboard")
    messages.success(request, _("Announcement sent."))
    return redirect("calls:dashboard")
