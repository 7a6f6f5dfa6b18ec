"""Pages of the scheduling app: the agent's schedule and day-off form, the approval
queue with the staffing impact, the forecast and coverage heat map, the team's week and
adherence. Each parses, calls one selector or service, and renders; a refused action
comes back as a message on the page it came from."""

from collections import OrderedDict
from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.roles import Role, role_required
from calls.selectors import queues_for_user
from contactcenter.errors import ApplicationError, render_domain_error

from . import adherence, periods, selectors, services, staffing
from .models import DayOffRequest, ShiftSwap, ShiftTemplate
from .notifications import text as notification_text

PLANNERS = (Role.SUPERVISOR, Role.MANAGER)
COVERAGE_VIEWERS = (Role.SUPERVISOR, Role.MANAGER, Role.HR)


def _back(request, fallback: str):
    target = request.POST.get("next") or request.META.get("HTTP_REFERER")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


def _week_param(request) -> date:
    try:
        return periods.parse_week(request.GET.get("week"))
    except ValueError:
        return periods.monday_of(periods.local_today())


def _date_param(request, name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.GET.get(name) or "") if request.GET.get(name) else default
    except ValueError:
        return default


def _open_weeks(now=None) -> list[tuple[date, object, list[date]]]:
    """Coming weeks whose day-off deadline has not passed: (Monday, deadline, days)."""
    now = now or timezone.now()
    this_week = periods.monday_of(periods.local_today(now))
    weeks = []
    for offset in range(1, periods.dayoff_horizon_weeks() + 1):
        week = this_week + timedelta(weeks=offset)
        deadline = periods.dayoff_deadline(week)
        if deadline > now:
            weeks.append((week, deadline, periods.week_days(week)))
    return weeks


# --- The agent ---------------------------------------------------------------------------


@role_required(Role.AGENT)
def my_schedule(request):
    agent = selectors.agent_of(request.user)
    if agent is None:
        raise Http404
    week = _week_param(request)
    shifts = list(
        selectors.shifts_for_user(user=request.user)
        .filter(agent=agent, date__gte=week, date__lt=week + timedelta(days=7))
        .order_by("start_at")
    )
    by_day = OrderedDict((day, []) for day in periods.week_days(week))
    for shift in shifts:
        by_day.setdefault(shift.date, []).append(shift)
    offered_ids = set(
        ShiftSwap.objects.filter(shift__in=shifts, state__in=ShiftSwap.OPEN_STATES).values_list("shift_id", flat=True)
    )
    swaps = list(selectors.swaps_for_user(user=request.user).order_by("-created_at")[:30])
    notifications = list(selectors.notifications_for_user(user=request.user)[:20])
    requests = list(
        selectors.dayoff_requests_for_user(user=request.user).filter(agent=agent).order_by("-week_start")[:12]
    )
    return render(
        request,
        "scheduling/my_schedule.html",
        {
            "agent": agent,
            "week": week,
            "previous_week": week - timedelta(weeks=1),
            "next_week": week + timedelta(weeks=1),
            "by_day": by_day.items(),
            "offered_ids": offered_ids,
            "now": timezone.now(),
            "open_weeks": _open_weeks(),
            "requests": requests,
            "swaps": swaps,
            "notifications": [(n, notification_text(n)) for n in notifications],
        },
    )


@require_POST
@role_required(Role.AGENT)
def dayoff_submit(request):
    agent = selectors.agent_of(request.user)
    if agent is None:
        raise Http404
    try:
        week = date.fromisoformat(request.POST.get("week_start", ""))
        days = [date.fromisoformat(value) for value in request.POST.getlist("days")]
    except ValueError:
        render_domain_error(request, ApplicationError(_("Choose a week and days from the form.")))
        return redirect("scheduling:my-schedule")
    try:
        services.dayoff_request_submit(
            agent=agent, week_start=week, days=days, note=request.POST.get("note", "")[:1000], by=request.user
        )
    except ApplicationError as error:
        render_domain_error(request, error)
    else:
        messages.success(request, _("Your request is filed; you will be told of the decision."))
    return redirect("scheduling:my-schedule")


@require_POST
@role_required(Role.AGENT)
def dayoff_cancel(request, pk: int):
    try:
        obj = selectors.dayoff_request_get_for_user(user=request.user, request_id=pk)
        services.dayoff_cancel(request=obj, by=request.user)
    except ApplicationError as error:
        if error.status_code == 404:
            raise Http404 from None
        render_domain_error(request, error)
    return redirect("scheduling:my-schedule")


@require_POST
@role_required(Role.AGENT)
def swap_offer(request, shift_id: int):
    try:
        shift = selectors.shift_get_for_user(user=request.user, shift_id=shift_id)
        services.swap_offer(shift=shift, by=request.user, note=request.POST.get("note", "")[:1000])
    except ApplicationError as error:
        if error.status_code == 404:
            raise Http404 from None
        render_domain_error(request, error)
    return _back(request, reverse("scheduling:my-schedule"))


@require_POST
@role_required(Role.AGENT, Role.SUPERVISOR, Role.MANAGER)
def swap_action(request, pk: int, action: str):
    try:
        swap = selectors.swap_get_for_user(user=request.user, swap_id=pk)
        if action == "take":
            services.swap_take(swap=swap, by=request.user)
        elif action == "cancel":
            services.swap_cancel(swap=swap, by=request.user)
        elif action == "approve":
            services.swap_approve(
                swap=swap,
                by=request.user,
                comment=request.POST.get("comment", ""),
                override_reason=request.POST.get("override_reason", ""),
            )
        elif action == "reject":
            services.swap_reject(swap=swap, by=request.user, comment=request.POST.get("comment", ""))
        else:
            raise Http404
    except ApplicationError as error:
        if error.status_code == 404:
            raise Http404 from None
        render_domain_error(request, error)
    return _back(request, reverse("scheduling:my-schedule"))


@require_POST
def notification_read(request, pk: int):
    if not request.user.is_authenticated:
        raise PermissionDenied
    notification = selectors.notifications_for_user(user=request.user).filter(pk=pk).first()
    if notification is None:
        raise Http404
    services.notification_mark_read(notification=notification, by=request.user)
    return _back(request, reverse("scheduling:my-schedule"))


# --- The supervisor's approval queue ------------------------------------------------------------


@role_required(*PLANNERS)
def approvals(request):
    pending = list(selectors.dayoff_requests_to_decide(user=request.user)[:100])
    impacts = staffing.dayoff_impact(pending)
    swaps = list(selectors.swaps_to_decide(user=request.user)[:50])
    swap_impacts = staffing.swaps_impact(swaps)
    swap_rows = [(swap, [row for row in swap_impacts[swap.pk] if row.under]) for swap in swaps]
    decided = list(
        selectors.dayoff_requests_for_user(user=request.user)
        .exclude(state=DayOffRequest.State.PENDING)
        .exclude(agent__user=request.user)
        .order_by("-decided_at", "-created_at")[:20]
    )
    return render(
        request,
        "scheduling/approvals.html",
        {
            "pending": [(r, impacts[r.pk], any(i.needs_override for i in impacts[r.pk])) for r in pending],
            "swaps": swap_rows,
            "decided": decided,
        },
    )


@require_POST
@role_required(*PLANNERS)
def dayoff_decide(request, pk: int, action: str):
    try:
        obj = selectors.dayoff_request_get_for_user(user=request.user, request_id=pk)
        if action == "approve":
            services.dayoff_approve(
                request=obj,
                by=request.user,
                comment=request.POST.get("comment", ""),
                override_reason=request.POST.get("override_reason", ""),
            )
        elif action == "reject":
            services.dayoff_reject(request=obj, by=request.user, comment=request.POST.get("comment", ""))
        else:
            raise Http404
    except ApplicationError as error:
        if error.status_code == 404:
            raise Http404 from None
        render_domain_error(request, error)
    return redirect("scheduling:approvals")


# --- Forecast and coverage ---------------------------------------------------------------------


def coverage_class(row) -> str:
    """The heat-map colour of a half-hour (docs/scheduling.md, "Coverage")."""
    if row.required == 0 and row.scheduled == 0:
        return "cov-none"
    if row.gap < 0:
        return "cov-under-strong" if row.scheduled < 0.8 * row.required or not row.stable else "cov-under"
    if row.gap <= max(1, 0.2 * row.required):
        return "cov-ok"
    return "cov-over"


@role_required(*COVERAGE_VIEWERS)
def coverage(request):
    queues = list(queues_for_user(user=request.user).filter(is_active=True))
    queue = None
    if queues:
        wanted = request.GET.get("queue")
        queue = next((q for q in queues if str(q.pk) == wanted), queues[0])
    view = "day" if request.GET.get("view") == "day" else "week"
    if view == "day":
        day = _date_param(request, "date", periods.local_today())
        days = [day]
    else:
        week = _week_param(request)
        days = periods.week_days(week)
    context = {
        "queues": queues,
        "queue": queue,
        "view": view,
        "days": days,
        "first_day": days[0],
        "previous": days[0] - timedelta(days=1 if view == "day" else 7),
        "next": days[0] + timedelta(days=1 if view == "day" else 7),
        "shrinkage_pct": round(periods.shrinkage() * 100),
        "max_occupancy_pct": round(periods.max_occupancy() * 100),
    }
    if queue is not None:
        plan = staffing.StaffingPlan(days=days, queues=[queue])
        per_day = {day: plan.intervals(queue.pk, day) for day in days}
        if view == "day":
            context["rows"] = [(row, coverage_class(row)) for row in per_day[days[0]]]
        else:
            # Rows by local time of day; the days the clocks change have one fewer or one
            # more half-hour (a repeated label shows its worse half-hour).
            labels = []
            cells = {}
            for day, rows in per_day.items():
                for row in rows:
                    if row.label not in labels:
                        labels.append(row.label)
                    key = (row.label, day)
                    if key not in cells or row.gap < cells[key].gap:
                        cells[key] = row
            labels.sort()
            context["grid"] = [
                (
                    label,
                    [
                        (
                            cells.get((label, day)),
                            coverage_class(cells[(label, day)]) if (label, day) in cells else "cov-missing",
                        )
                        for day in days
                    ],
                )
                for label in labels
            ]
            context["totals"] = [
                (
                    day,
                    sum(1 for r in per_day[day] if r.gap < 0),
                    sum(r.calls for r in per_day[day]),
                )
                for day in days
            ]
    return render(request, "scheduling/coverage.html", context)


# --- The team's week -----------------------------------------------------------------------------


@role_required(*PLANNERS)
def team_week(request):
    week = _week_param(request)
    agents = list(selectors.agents_to_plan(user=request.user).order_by("team__name", "user__last_name"))
    shifts = selectors.shifts_for_user(user=request.user).filter(
        agent__in=agents, date__gte=week, date__lt=week + timedelta(days=7)
    )
    cells = {}
    for shift in shifts:
        cells.setdefault((shift.agent_id, shift.date), []).append(shift)
    days = periods.week_days(week)
    approved_off = set(
        DayOffRequest.objects.filter(
            agent__in=agents, state=DayOffRequest.State.APPROVED, days__date__in=days
        ).values_list("agent_id", "days__date")
    )
    rows = [
        (agent, [(day, cells.get((agent.pk, day), []), (agent.pk, day) in approved_off) for day in days])
        for agent in agents
    ]
    return render(
        request,
        "scheduling/team_week.html",
        {
            "week": week,
            "days": days,
            "rows": rows,
            "previous_week": week - timedelta(weeks=1),
            "next_week": week + timedelta(weeks=1),
            "templates": ShiftTemplate.objects.filter(is_active=True),
            "drafts": sum(1 for shift in shifts if not shift.is_published),
        },
    )


@require_POST
@role_required(*PLANNERS)
def team_shift_create(request):
    try:
        agent = selectors.agents_to_plan(user=request.user).filter(pk=int(request.POST.get("agent", "0"))).first()
        day = date.fromisoformat(request.POST.get("date", ""))
        template = ShiftTemplate.objects.filter(pk=int(request.POST.get("template", "0")), is_active=True).first()
    except ValueError:
        agent = template = day = None
    if agent is None or template is None or day is None:
        render_domain_error(request, ApplicationError(_("Choose an agent, a day and a shift template.")))
    else:
        try:
            services.shift_create(agent=agent, day=day, template=template, by=request.user)
        except ApplicationError as error:
            render_domain_error(request, error)
    return _back(request, reverse("scheduling:team-week"))


@require_POST
@role_required(*PLANNERS)
def team_shift_delete(request, pk: int):
    try:
        shift = selectors.shift_get_for_user(user=request.user, shift_id=pk)
        services.shift_delete(shift=shift, by=request.user)
    except ApplicationError as error:
        if error.status_code == 404:
            raise Http404 from None
        render_domain_error(request, error)
    return _back(request, reverse("scheduling:team-week"))


@require_POST
@role_required(*PLANNERS)
def team_publish(request):
    try:
        week = periods.monday_of(date.fromisoformat(request.POST.get("week", "")))
        count = services.schedule_publish(week_start=week, by=request.user)
    except ValueError:
        render_domain_error(request, ApplicationError(_("Choose a week.")))
    except ApplicationError as error:
        render_domain_error(request, error)
    else:
        messages.success(request, _("%(n)s shifts published.") % {"n": count})
    return _back(request, reverse("scheduling:team-week"))


# --- Adherence -------------------------------------------------------------------------------------


@role_required(*COVERAGE_VIEWERS)
def adherence_page(request):
    day = _date_param(request, "date", periods.local_today())
    agents = list(
        selectors.agents_for_planning(user=request.user)
        .exclude(user=request.user)
        .filter(employment_status="active")
        .order_by("team__name", "user__last_name")
    )
    results = adherence.adherence_for_agents([a.pk for a in agents], day)
    return render(
        request,
        "scheduling/adherence.html",
        {
            "day": day,
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "rows": [(agent, results[agent.pk], _hours(results[agent.pk].scheduled_s)) for agent in agents],
        },
    )


def _hours(seconds: int) -> str:
    minutes = seconds // 60
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes else ""
