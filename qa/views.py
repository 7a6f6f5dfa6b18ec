"""Quality pages: parse the form, call one service or selector, render.

Who sees what is the selectors' rule (qa/selectors.py): a role that may not see a kind
of record gets 403, a record out of scope 404. Refused actions come back as a message
on the page (contactcenter.errors.render_domain_error).
"""

import contextlib
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Avg, Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from agents.models import Agent, TrainingCourse
from agents.roles import Role, has_role, roles_of
from contactcenter.errors import ApplicationError, Forbidden, NotFound, render_domain_error

from . import selectors, services
from .models import (
    CalibrationSession,
    CoachingAction,
    Criterion,
    Evaluation,
    Review,
    Scorecard,
    SelfReport,
)
from .services.scorecards import scorecard_current_version


class _Refused(Exception):
    """A service refused the action; the message is queued for the next page."""


def _call(request, fn, **kwargs):
    """Run a service or selector for a page: 403/404 as such, other refusals as a message."""
    try:
        return fn(**kwargs)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        render_domain_error(request, exc)
        raise _Refused from exc


def _read(request, fn, **kwargs):
    try:
        return _call(request, fn, **kwargs)
    except _Refused:
        raise Http404 from None


def _back(request, fallback: str):
    """Where a form posted from (same site only), or the fallback."""
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(fallback)


def _since(request, default_days=90) -> date:
    return parse_date(request.GET.get("since") or "") or timezone.localdate() - timedelta(days=default_days)


def _int(raw):
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _chart(label_key, rows, series: dict[str, str]) -> dict:
    """Chart.js data for qa/charts.js: labels and one dataset per series."""
    return {
        "labels": [str(row[label_key]) for row in rows],
        "datasets": [
            {"label": label, "data": [None if row[key] is None else float(row[key]) for row in rows]}
            for key, label in series.items()
        ],
    }


# --- Home --------------------------------------------------------------------------------


@login_required
def home(request):
    """Each role's quality page."""
    user_roles = roles_of(request.user)
    if Role.QA_ANALYST in user_roles:
        return redirect("qa:review-list")
    if user_roles & {Role.SUPERVISOR, Role.MANAGER}:
        return redirect("qa:team")
    if Role.TRAINER in user_roles:
        return redirect("qa:training")
    if Role.HR in user_roles:
        return redirect("qa:evaluation-list")
    if Role.AGENT in user_roles:
        return redirect("qa:my-quality")
    raise PermissionDenied


# --- Reviews -----------------------------------------------------------------------------------


@login_required
def review_list(request):
    reviews = _call(request, selectors.reviews_for_user, user=request.user)
    status = request.GET.get("status", "")
    if status in Review.Status.values:
        reviews = reviews.filter(status=status)
    agent_id = _int(request.GET.get("agent"))
    if agent_id:
        reviews = reviews.filter(agent_id=agent_id)
    page = Paginator(reviews.filter(kind=Review.Kind.REGULAR), 50).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "statuses": Review.Status.choices}
    if has_role(request.user, Role.QA_ANALYST):
        week = timezone.localdate() - timedelta(weeks=2)
        context["assignments"] = (
            selectors.assignments_for_user(user=request.user)
            .filter(analyst=request.user, review__isnull=True, week_start__gte=week - timedelta(days=week.weekday()))
            .order_by("week_start", "agent__user__last_name")
        )
        context["drafts"] = reviews.filter(reviewer=request.user, status=Review.Status.DRAFT)
    return render(request, "qa/review_list.html", context)


@login_required
def review_new(request):
    """Start a review of a call (from the weekly sample, or any call by its number)."""
    if not has_role(request.user, Role.QA_ANALYST):
        raise PermissionDenied
    scorecards = [(s, scorecard_current_version(s)) for s in Scorecard.objects.filter(is_active=True)]
    scorecards = [(s, v) for s, v in scorecards if v is not None]
    if request.method == "POST":
        try:
            review = _call(
                request,
                services.review_start,
                reviewer=request.user,
                call_id=request.POST.get("call"),
                scorecard_id=request.POST.get("scorecard") or None,
            )
        except _Refused:
            pass
        else:
            return redirect("qa:review-score", pk=review.pk)
    return render(
        request,
        "qa/review_new.html",
        {"scorecards": scorecards, "call": request.POST.get("call") or request.GET.get("call", "")},
        status=400 if request.method == "POST" else 200,
    )


def _form_rows(version, scores: dict, posted=None, errors=None) -> list[dict]:
    """The scorecard's sections and criteria with the current (or posted) answers, for the form."""
    errors = errors or {}
    sections = []
    for section in version.sections.all():
        rows = []
        for criterion in section.criteria.all():
            if posted is not None:
                value = posted.get(f"c{criterion.pk}", "")
                comment = posted.get(f"comment{criterion.pk}", "")
            else:
                score = scores.get(criterion.pk)
                value = "" if score is None else ("na" if score.points is None else str(score.points))
                comment = score.comment if score else ""
            if criterion.scale == Criterion.Scale.YES_NO:
                options = [("1", _("Yes"), "y"), ("0", _("No"), "n")]
            else:
                options = [(str(p), str(p), str(p)) for p in range(criterion.max_points + 1)]
            if criterion.allows_na:
                options.append(("na", _("N/A"), "a"))
            rows.append(
                {
                    "criterion": criterion,
                    "options": options,
                    "value": value,
                    "comment": comment,
                    "error": errors.get(str(criterion.pk)),
                }
            )
        sections.append({"section": section, "rows": rows})
    return sections


def _posted_scores(post, version) -> list[dict]:
    entries = []
    for criterion in Criterion.objects.filter(section__version=version):
        if f"c{criterion.pk}" in post or f"comment{criterion.pk}" in post:
            raw = post.get(f"c{criterion.pk}")
            if raw is None:
                continue  # not answered yet: a draft may be partial
            entries.append({"criterion": criterion.pk, "value": raw, "comment": post.get(f"comment{criterion.pk}", "")})
    return entries


def _score_context(review, posted=None, errors=None):
    version = review.scorecard_version
    from django.db.models import prefetch_related_objects

    prefetch_related_objects([version], "sections__criteria")
    scores = {s.criterion_id: s for s in review.scores.all()}
    return {"review": review, "sections": _form_rows(version, scores, posted, errors)}


@login_required
def review_score(request, pk):
    """The scorecard-driven form: one radio group per criterion, a comment each, overall comment."""
    review = _read(request, selectors.review_get_for_user, user=request.user, review_id=pk)
    if review.reviewer_id != request.user.pk:
        raise PermissionDenied
    if review.status != Review.Status.DRAFT:
        return redirect("qa:review-detail", pk=review.pk)
    if request.method == "POST":
        scores = _posted_scores(request.POST, review.scorecard_version)
        try:
            _call(
                request,
                services.review_save_scores,
                review=review,
                by=request.user,
                scores=scores,
                comment=request.POST.get("comment", ""),
            )
            if request.POST.get("action") == "submit":
                _call(request, services.review_submit, review=review, by=request.user)
                if review.calibration_id:
                    return redirect("qa:calibration-detail", pk=review.calibration_id)
                return redirect("qa:review-detail", pk=review.pk)
        except _Refused:
            errors = {}
            review.refresh_from_db()
            context = _score_context(review, posted=request.POST, errors=errors)
            context["comment"] = request.POST.get("comment", "")
            return render(request, "qa/review_score.html", context, status=400)
        from django.contrib import messages

        messages.success(request, _("Draft saved."))
        return redirect("qa:review-score", pk=review.pk)
    context = _score_context(review)
    context["comment"] = review.comment
    return render(request, "qa/review_score.html", context)


@login_required
def review_detail(request, pk):
    review = selectors.review_detail(_read(request, selectors.review_get_for_user, user=request.user, review_id=pk))
    if review.status == Review.Status.DRAFT and review.reviewer_id == request.user.pk:
        return redirect("qa:review-score", pk=review.pk)
    user_roles = roles_of(request.user)
    is_agent = review.kind == Review.Kind.REGULAR and review.agent.user_id == request.user.pk
    context = {
        "review": review,
        "scores": list(review.scores.all()),
        "is_agent": is_agent,
        "can_answer": is_agent and review.status == Review.Status.SUBMITTED,
        "can_resolve": review.status == Review.Status.DISPUTED
        and selectors.is_qa_lead(request.user)
        and review.reviewer_id != request.user.pk,
        "can_coach": review.kind == Review.Kind.REGULAR
        and review.status != Review.Status.DRAFT
        and bool(
            user_roles & {Role.QA_ANALYST, Role.MANAGER} or selectors.is_supervisor_of(request.user, review.agent)
        ),
        "can_train": review.kind == Review.Kind.REGULAR
        and review.status in Review.VISIBLE_STATUSES
        and bool(user_roles & {Role.TRAINER, Role.MANAGER}),
        "courses": TrainingCourse.objects.filter(is_active=True),
        "today": timezone.localdate(),
    }
    if context["can_resolve"]:
        context.update(_score_context(review))
    return render(request, "qa/review_detail.html", context)


def _review_action(request, pk, fn, **kwargs):
    review = _read(request, selectors.review_get_for_user, user=request.user, review_id=pk)
    with contextlib.suppress(_Refused):
        _call(request, fn, review=review, by=request.user, **kwargs)
    return redirect("qa:review-detail", pk=pk)


@login_required
@require_POST
def review_acknowledge(request, pk):
    return _review_action(request, pk, services.review_acknowledge, note=request.POST.get("note", ""))


@login_required
@require_POST
def review_dispute(request, pk):
    return _review_action(request, pk, services.review_dispute, reason=request.POST.get("reason", ""))


@login_required
@require_POST
def review_resolve(request, pk):
    review = _read(request, selectors.review_get_for_user, user=request.user, review_id=pk)
    outcome = request.POST.get("outcome", "")
    scores = _posted_scores(request.POST, review.scorecard_version) if outcome == "rescored" else None
    return _review_action(
        request, pk, services.review_resolve, outcome=outcome, note=request.POST.get("note", ""), scores=scores
    )


@login_required
@require_POST
def review_coaching(request, pk):
    return _review_action(
        request,
        pk,
        services.coaching_action_add,
        description=request.POST.get("description", ""),
        due_date=parse_date(request.POST.get("due_date") or ""),
    )


@login_required
@require_POST
def review_training(request, pk):
    return _review_action(
        request,
        pk,
        services.training_assign,
        course_id=request.POST.get("course"),
        due_date=parse_date(request.POST.get("due_date") or ""),
        note=request.POST.get("note", ""),
    )


@login_required
@require_POST
def action_done(request, pk):
    try:
        action = CoachingAction.objects.select_related("agent__team").get(pk=pk)
    except CoachingAction.DoesNotExist:
        raise Http404 from None
    # The action is visible to whoever may see its review.
    _read(request, selectors.review_get_for_user, user=request.user, review_id=action.review_id)
    with contextlib.suppress(_Refused):
        _call(request, services.coaching_action_complete, action=action, by=request.user)
    return _back(request, reverse("qa:review-detail", args=[action.review_id]))


# --- The agent's page ----------------------------------------------------------------------------


@login_required
def my_quality(request):
    """An agent's own reviews, average, trend, coaching actions and evaluations."""
    agent = selectors.own_agent(request.user)
    if agent is None or not has_role(request.user, Role.AGENT):
        raise PermissionDenied
    reviews = selectors.reviews_for_user(user=request.user).filter(agent=agent, kind=Review.Kind.REGULAR)
    since = timezone.localdate() - timedelta(days=90)
    counted = reviews.filter(
        status__in=Review.COUNTED_STATUSES, call__offered_at__gte=selectors.local_day_bounds(since, since)[0]
    )
    summary = counted.aggregate(average=Avg("score_pct"), n=Count("id"))
    weeks = _weekly(reviews.filter(status__in=Review.COUNTED_STATUSES))
    actions = CoachingAction.objects.filter(agent=agent, done_at__isnull=True).select_related("course", "review")
    evaluations = selectors.evaluations_for_user(user=request.user).filter(agent=agent)[:6]
    return render(
        request,
        "qa/my_quality.html",
        {
            "agent": agent,
            "reviews": reviews[:50],
            "summary": summary,
            "actions": actions,
            "evaluations": evaluations,
            "to_answer": reviews.filter(status=Review.Status.SUBMITTED).count(),
            "chart": _chart("week", weeks, {"average_pct": _("QA score (%)")}),
        },
    )


def _weekly(reviews, weeks: int = 12) -> list[dict]:
    """Average per week of the call, last `weeks` weeks, from an already-scoped queryset."""
    from django.db.models.functions import TruncWeek

    today = timezone.localdate()
    first = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    rows = (
        reviews.filter(call__offered_at__gte=selectors.local_day_bounds(first, first)[0])
        .annotate(week=TruncWeek("call__offered_at", tzinfo=timezone.get_default_timezone()))
        .values("week")
        .annotate(average=Avg("score_pct"))
        .order_by("week")
    )
    by_week = {selectors._as_date(row["week"]): row["average"] for row in rows}
    return [
        {"week": first + timedelta(weeks=i), "average_pct": by_week.get(first + timedelta(weeks=i))}
        for i in range(weeks)
    ]


# --- Team view, trainers ----------------------------------------------------------------------------


@login_required
def team(request):
    """Supervisor's team view: QA average per agent, trend chart, most failed criteria."""
    since = _since(request)
    team_id = _int(request.GET.get("team"))
    data = _read(request, selectors.team_quality, user=request.user, since=since, team_id=team_id)
    return render(
        request,
        "qa/team.html",
        {
            "data": data,
            "since": since,
            "team_id": team_id,
            "teams": selectors.teams_for_aggregates(user=request.user),
            "chart": _chart("week", data["trend"], {"average_pct": _("QA score (%)")}),
        },
    )


@login_required
def training(request):
    """Trainers: the criteria most failed per team, and recent reviews to assign a course from."""
    since = _since(request)
    team_id = _int(request.GET.get("team"))
    failed = _read(request, selectors.criteria_most_failed, user=request.user, since=since, team_id=team_id)
    recent = selectors.counted_reviews_for_aggregates(user=request.user).filter(
        scores__failed=True, call__offered_at__gte=selectors.local_day_bounds(since, since)[0]
    )
    if team_id:
        recent = recent.filter(agent__team_id=team_id)
    recent = recent.select_related("agent__user", "agent__team").distinct().order_by("-submitted_at")[:30]
    return render(
        request,
        "qa/training.html",
        {
            "failed": failed,
            "recent": recent,
            "since": since,
            "team_id": team_id,
            "teams": selectors.teams_for_aggregates(user=request.user),
        },
    )


# --- Calibration ----------------------------------------------------------------------------------------


@login_required
def calibration_list(request):
    sessions = _call(request, selectors.calibrations_for_user, user=request.user).prefetch_related("participants")
    from agents.models import User

    if request.method == "POST":
        try:
            session = _call(
                request,
                services.calibration_create,
                by=request.user,
                call_id=request.POST.get("call"),
                title=request.POST.get("title", ""),
                participant_ids=request.POST.getlist("participants"),
                scorecard_id=request.POST.get("scorecard") or None,
            )
        except _Refused:
            pass
        else:
            return redirect("qa:calibration-detail", pk=session.pk)
    analysts = User.objects.filter(groups__name=Role.QA_ANALYST, is_active=True).order_by("last_name", "username")
    return render(
        request,
        "qa/calibration_list.html",
        {
            "sessions": sessions[:100],
            "analysts": analysts,
            "scorecards": Scorecard.objects.filter(is_active=True),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def calibration_detail(request, pk):
    session = _read(request, selectors.calibration_get_for_user, user=request.user, session_id=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "score":
                review = _call(request, services.calibration_review_start, session=session, by=request.user)
                return redirect("qa:review-score", pk=review.pk)
            if action == "close":
                _call(request, services.calibration_close, session=session, by=request.user)
        except _Refused:
            pass
        return redirect("qa:calibration-detail", pk=pk)
    visible = selectors.calibration_results_visible(session=session, user=request.user)
    mine = session.reviews.filter(reviewer=request.user).first()
    return render(
        request,
        "qa/calibration_detail.html",
        {
            "session": session,
            "participants": session.participants.all(),
            "is_participant": session.participants.filter(pk=request.user.pk).exists(),
            "mine": mine,
            "results": services.calibration_results(session) if visible else None,
            "visible": visible,
            "can_close": session.status == CalibrationSession.Status.OPEN
            and (session.created_by_id == request.user.pk or has_role(request.user, Role.MANAGER)),
        },
    )


# --- Evaluations ----------------------------------------------------------------------------------------


@login_required
def evaluation_list(request):
    evaluations = _call(request, selectors.evaluations_for_user, user=request.user)
    status = request.GET.get("status", "")
    if status in Evaluation.Status.values:
        evaluations = evaluations.filter(status=status)
    page = Paginator(evaluations, 50).get_page(request.GET.get("page"))
    leads = roles_of(request.user) & {Role.SUPERVISOR, Role.MANAGER}
    agents = []
    if leads:
        agents = Agent.objects.select_related("user").filter(employment_status=Agent.EmploymentStatus.ACTIVE)
        if Role.MANAGER not in leads:
            agents = agents.filter(selectors.agent_scope_q(request.user, prefix=""))
    if request.method == "POST":
        start = parse_date(request.POST.get("period_start") or "")
        end = parse_date(request.POST.get("period_end") or "")
        try:
            evaluation = _call(
                request,
                services.evaluation_create,
                by=request.user,
                agent_id=request.POST.get("agent"),
                period_start=start,
                period_end=end,
            )
        except _Refused:
            pass
        else:
            return redirect("qa:evaluation-detail", pk=evaluation.pk)
    from .services.evaluations import last_complete_period

    return render(
        request,
        "qa/evaluation_list.html",
        {
            "page": page,
            "agents": agents,
            "status": status,
            "statuses": Evaluation.Status.choices,
            "default_period": last_complete_period(),
        },
        status=400 if request.method == "POST" else 200,
    )


RATING_LABELS = [
    ("rating_communication", gettext_lazy("Communication")),
    ("rating_data_accuracy", gettext_lazy("Accuracy of data entry")),
    ("rating_product_knowledge", gettext_lazy("Product knowledge")),
    ("rating_composure", gettext_lazy("Composure under stress")),
    ("rating_reliability", gettext_lazy("Reliability")),
]


def _figures(evaluation) -> list[tuple[str, object, str]]:
    """(label, value, unit) of the measured figures, for the page."""
    fields = [
        ("calls_handled", ""),
        ("calls_per_day", ""),
        ("aht_s", "s"),
        ("fcr_pct", "%"),
        ("qa_average_pct", "%"),
        ("qa_reviews", ""),
        ("orders_count", ""),
        ("conversion_pct", "%"),
        ("attendance_pct", "%"),
        ("adherence_pct", "%"),
        ("confirmed_applications", ""),
        ("confirmed_sales", ""),
        ("confirmed_collections", ""),
        ("unconfirmed_days", ""),
    ]
    return [(Evaluation._meta.get_field(f).verbose_name, getattr(evaluation, f), unit) for f, unit in fields]


@login_required
def evaluation_detail(request, pk):
    evaluation = _read(request, selectors.evaluation_get_for_user, user=request.user, evaluation_id=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "save":
                changes = {field: _int(request.POST.get(field)) for field, _label in RATING_LABELS}
                changes.update(comments=request.POST.get("comments", ""), goals=request.POST.get("goals", ""))
                _call(request, services.evaluation_update, evaluation=evaluation, by=request.user, **changes)
            elif action == "share":
                _call(request, services.evaluation_share, evaluation=evaluation, by=request.user)
            elif action == "refresh":
                _call(request, services.evaluation_refresh_figures, evaluation=evaluation, by=request.user)
            elif action == "sign":
                _call(
                    request,
                    services.evaluation_sign,
                    evaluation=evaluation,
                    by=request.user,
                    comment=request.POST.get("comment", ""),
                )
        except _Refused:
            pass
        return redirect("qa:evaluation-detail", pk=pk)
    can_edit = evaluation.status == Evaluation.Status.DRAFT and selectors.can_lead_agent(request.user, evaluation.agent)
    return render(
        request,
        "qa/evaluation_detail.html",
        {
            "evaluation": evaluation,
            "figures": _figures(evaluation),
            "ratings": [(field, label, getattr(evaluation, field)) for field, label in RATING_LABELS],
            "can_edit": can_edit,
            "can_sign": evaluation.status == Evaluation.Status.SHARED and evaluation.agent.user_id == request.user.pk,
            "history": evaluation.history.select_related("by"),
        },
    )


@login_required
def evaluation_history(request, agent_id):
    """An agent's evaluations with the trend of each figure (chart and table)."""
    agent, evaluations = _read(request, selectors.evaluation_history_for_user, user=request.user, agent_id=agent_id)
    rows = [
        {
            "period": e.period_start.strftime("%Y-%m"),
            **{f: getattr(e, f) for f in (*Evaluation.FIGURES, *Evaluation.RATINGS)},
        }
        for e in evaluations
    ]
    charts = {
        "quality": _chart(
            "period",
            rows,
            {
                "qa_average_pct": _("QA average (%)"),
                "fcr_pct": _("First-contact resolution (%)"),
                "conversion_pct": _("Conversion (%)"),
                "adherence_pct": _("Adherence (%)"),
            },
        ),
        "volume": _chart("period", rows, {"calls_per_day": _("Calls per day"), "orders_count": _("Orders")}),
        "aht": _chart("period", rows, {"aht_s": _("Average handle time (s)")}),
        "ratings": _chart("period", rows, {field: str(label) for field, label in RATING_LABELS}),
    }
    return render(
        request,
        "qa/evaluation_history.html",
        {
            "agent": agent,
            "evaluations": evaluations,
            "charts": charts,
            "figure_labels": [
                Evaluation._meta.get_field(f).verbose_name for f in (*Evaluation.FIGURES, *Evaluation.RATINGS)
            ],
            "table": [(e, [getattr(e, f) for f in (*Evaluation.FIGURES, *Evaluation.RATINGS)]) for e in evaluations],
        },
    )


# --- Self-reported results ----------------------------------------------------------------------------------


def _month(request) -> date:
    raw = request.GET.get("month") or ""
    parsed = parse_date(f"{raw}-01") if raw else None
    return parsed or timezone.localdate().replace(day=1)


@login_required
def self_reports(request):
    """Agents: enter the day's results and see the month with its running average.
    Supervisors (their teams), HR and managers: the days to confirm or correct."""
    reports = _call(request, selectors.self_reports_for_user, user=request.user)
    own = selectors.own_agent(request.user) if has_role(request.user, Role.AGENT) else None
    if request.method == "POST":
        action = request.POST.get("action", "report")
        try:
            if action == "report":
                _call(
                    request,
                    services.self_report_submit,
                    by=request.user,
                    day=parse_date(request.POST.get("date") or ""),
                    applications_signed=request.POST.get("applications_signed", ""),
                    sales=request.POST.get("sales", ""),
                    collections_amount=request.POST.get("collections_amount", ""),
                    note=request.POST.get("note", ""),
                )
            else:
                report = _read(
                    request, selectors.self_report_get_for_user, user=request.user, report_id=request.POST.get("report")
                )
                if action == "confirm":
                    _call(
                        request,
                        services.self_report_confirm,
                        report=report,
                        by=request.user,
                        note=request.POST.get("note", ""),
                    )
                elif action == "correct":
                    _call(
                        request,
                        services.self_report_correct,
                        report=report,
                        by=request.user,
                        applications_signed=request.POST.get("applications_signed", ""),
                        sales=request.POST.get("sales", ""),
                        collections_amount=request.POST.get("collections_amount", ""),
                        note=request.POST.get("note", ""),
                    )
        except _Refused:
            pass
        return _back(request, reverse("qa:self-reports"))
    month = _month(request)
    next_month = (month + timedelta(days=32)).replace(day=1)
    listed = reports.filter(date__gte=month, date__lt=next_month)
    agent_id = _int(request.GET.get("agent"))
    if agent_id:
        listed = listed.filter(agent_id=agent_id)
    rows = selectors.with_running_averages(list(listed.order_by("agent_id", "date")))
    to_review = []
    if roles_of(request.user) & {Role.SUPERVISOR, Role.MANAGER}:
        to_review = reports.filter(status__in=SelfReport.TO_REVIEW_STATUSES)
        if own is not None:
            to_review = to_review.exclude(agent=own)
        to_review = to_review.order_by("date", "agent_id")[:100]
    return render(
        request,
        "qa/self_reports.html",
        {
            "own": own,
            "rows": rows,
            "to_review": to_review,
            "month": month,
            "previous_month": (month - timedelta(days=1)).replace(day=1),
            "next_month": next_month,
            "today": timezone.localdate(),
            "totals": _totals([r for r, _avg in rows]),
        },
    )


def _totals(reports) -> dict:
    return {
        "applications": sum(r.applications_signed for r in reports),
        "sales": sum(r.sales for r in reports),
        "collections": sum((r.collections_amount for r in reports), Decimal(0)),
        "flagged": sum(1 for r in reports if r.status == SelfReport.Status.FLAGGED),
    }
