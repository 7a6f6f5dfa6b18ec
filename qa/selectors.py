"""Reads of quality data with their access rule: who may see which review, evaluation,
self-reported day, calibration and aggregate. Every page and endpoint reads through here.

- An agent sees only their own reviews (once submitted), evaluations (once shared) and results.
- QA analysts see every review (others' drafts excepted) and run calibrations.
- A supervisor sees their teams' reviews, evaluations and results (an agent is in a
  supervisor's scope when the supervisor leads the agent's team or is the agent's own supervisor).
- HR see every evaluation and self-reported result (pay depends on them); not call reviews.
- Trainers see reviews (submitted, read only, to assign courses) and the team aggregates;
  never evaluations or self-reported results.
- Managers see everything.

A role that may not see a kind of record at all gets Forbidden (403); a row outside
the user's scope is NotFound (404), so its existence is not disclosed.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent, Team
from agents.roles import Role, roles_of
from contactcenter.errors import Forbidden, NotFound

from .models import CalibrationSession, Evaluation, Review, ReviewAssignment, ReviewScore, Scorecard, SelfReport

RESOLVE_DISPUTE_PERM = "qa.resolve_dispute"


# --- Who is who -----------------------------------------------------------------------


def agent_scope_q(user, prefix: str = "agent__") -> Q:
    """Rows whose agent a supervisor leads: their team's, or their own supervisees."""
    return Q(**{f"{prefix}team__supervisor": user}) | Q(**{f"{prefix}supervisor": user})


def is_supervisor_of(user, agent: Agent) -> bool:
    if Role.SUPERVISOR not in roles_of(user):
        return False
    return agent.supervisor_id == user.pk or (agent.team_id is not None and agent.team.supervisor_id == user.pk)


def can_lead_agent(user, agent: Agent) -> bool:
    """Writes evaluations and decides self-reported results: the agent's supervisor, or a manager."""
    return Role.MANAGER in roles_of(user) or is_supervisor_of(user, agent)


def is_qa_lead(user) -> bool:
    """Resolves disputes: holds qa.resolve_dispute (given to managers, and to chosen QA analysts)."""
    return user.is_authenticated and user.has_perm(RESOLVE_DISPUTE_PERM)


def own_agent(user) -> Agent | None:
    return Agent.objects.select_related("team").filter(user=user).first() if user.is_authenticated else None


def local_day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in the center's time zone, as aware datetimes."""
    tz = timezone.get_default_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


# --- Scorecards ---------------------------------------------------------------------------


def scorecards_for_user(*, user) -> QuerySet[Scorecard]:
    """Scorecards with their published versions: anyone signed in may read what they are scored on."""
    return Scorecard.objects.filter(is_active=True).prefetch_related("versions__sections__criteria")


# --- Reviews --------------------------------------------------------------------------------

REVIEW_ROLES = {Role.AGENT, Role.SUPERVISOR, Role.QA_ANALYST, Role.TRAINER, Role.MANAGER}


def reviews_for_user(*, user) -> QuerySet[Review]:
    """Reviews the user may see (rules in the module docstring). Calibration scores are not
    listed here except the reviewer's own: the session shows them, once its blind rule allows."""
    user_roles = roles_of(user)
    if not user_roles & REVIEW_ROLES:
        raise Forbidden(_("Your role does not give access to call reviews."))
    qs = Review.objects.select_related(
        "agent__user", "agent__team", "reviewer", "scorecard_version__scorecard", "call__queue"
    )
    if Role.MANAGER in user_roles:
        return qs.filter(Q(kind=Review.Kind.REGULAR) | Q(reviewer=user) | Q(calibration__status="closed"))
    regular_visible = Q(kind=Review.Kind.REGULAR, status__in=Review.VISIBLE_STATUSES)
    scope = Q(reviewer=user)
    if Role.QA_ANALYST in user_roles:
        scope |= regular_visible
    if Role.TRAINER in user_roles:
        scope |= regular_visible
    if Role.SUPERVISOR in user_roles:
        scope |= regular_visible & agent_scope_q(user)
    if Role.AGENT in user_roles:
        scope |= regular_visible & Q(agent__user=user)
    if is_qa_lead(user):
        scope |= Q(kind=Review.Kind.REGULAR, status=Review.Status.DISPUTED)
    return qs.filter(scope)


def review_get_for_user(*, user, review_id) -> Review:
    """One review, or NotFound when it does not exist or is out of the user's scope."""
    try:
        return reviews_for_user(user=user).get(pk=review_id)
    except (Review.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such review.")) from None


def review_detail(review: Review) -> Review:
    """The review with its scores, history and actions loaded in a fixed number of queries."""
    from django.db.models import prefetch_related_objects

    prefetch_related_objects(
        [review],
        "scores__criterion__section",
        "history__by",
        "actions__course",
        "actions__created_by",
        "scorecard_version__sections__criteria",
    )
    return review


def assignments_for_user(*, user) -> QuerySet[ReviewAssignment]:
    """The weekly sample: a QA analyst's own assignments; managers everyone's."""
    user_roles = roles_of(user)
    qs = ReviewAssignment.objects.select_related("call__queue", "agent__user", "analyst", "review")
    if Role.MANAGER in user_roles:
        return qs
    if Role.QA_ANALYST in user_roles:
        return qs.filter(analyst=user)
    raise Forbidden(_("Only QA analysts have review assignments."))


# --- Calibration -------------------------------------------------------------------------------


def calibrations_for_user(*, user) -> QuerySet[CalibrationSession]:
    """Calibration sessions are QA's own work: QA analysts and managers."""
    if not roles_of(user) & {Role.QA_ANALYST, Role.MANAGER}:
        raise Forbidden(_("Calibration sessions are for QA analysts."))
    return CalibrationSession.objects.select_related("call", "scorecard_version__scorecard", "created_by")


def calibration_get_for_user(*, user, session_id) -> CalibrationSession:
    try:
        return calibrations_for_user(user=user).get(pk=session_id)
    except (CalibrationSession.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such calibration session.")) from None


def calibration_results_visible(*, session: CalibrationSession, user) -> bool:
    """The blind rule: a participant sees the others' scores only once they submitted their
    own; once the session is closed everyone who may see it does; an organiser who does not
    score sees them as they come."""
    if session.status == CalibrationSession.Status.CLOSED:
        return True
    is_participant = session.participants.filter(pk=user.pk).exists()
    if not is_participant:
        return session.created_by_id == user.pk or Role.MANAGER in roles_of(user)
    return session.reviews.filter(reviewer=user, status=Review.Status.SUBMITTED).exists()


# --- Aggregates (supervisors' team view, trainers, QA) -----------------------------------------

AGGREGATE_ROLES = {Role.SUPERVISOR, Role.QA_ANALYST, Role.TRAINER, Role.MANAGER}


def counted_reviews_for_aggregates(*, user) -> QuerySet[Review]:
    """Reviews that count in averages, within the user's scope for aggregates: a supervisor's
    teams; QA analysts, trainers and managers every team."""
    user_roles = roles_of(user)
    if not user_roles & AGGREGATE_ROLES:
        raise Forbidden(_("Your role does not give access to quality figures."))
    qs = Review.objects.filter(kind=Review.Kind.REGULAR, status__in=Review.COUNTED_STATUSES)
    if user_roles & {Role.QA_ANALYST, Role.TRAINER, Role.MANAGER}:
        return qs
    return qs.filter(agent_scope_q(user))


def teams_for_aggregates(*, user) -> QuerySet[Team]:
    user_roles = roles_of(user)
    if not user_roles & AGGREGATE_ROLES:
        raise Forbidden(_("Your role does not give access to quality figures."))
    if user_roles & {Role.QA_ANALYST, Role.TRAINER, Role.MANAGER}:
        return Team.objects.all()
    return Team.objects.filter(Q(supervisor=user) | Q(agents__supervisor=user)).distinct()


def _check_team(user, team_id: int | None) -> None:
    if team_id is not None and not teams_for_aggregates(user=user).filter(pk=team_id).exists():
        raise NotFound(_("No such team."))


TEAM_VIEW_ROLES = {Role.SUPERVISOR, Role.QA_ANALYST, Role.MANAGER}


def team_quality(*, user, since: date, team_id: int | None = None, weeks: int = 12) -> dict:
    """The supervisor's team view: QA average per agent, the weekly trend and the most failed
    criteria. Per-agent figures: supervisors (their teams), QA analysts and managers only;
    trainers get the criteria aggregate (criteria_most_failed) instead."""
    if not roles_of(user) & TEAM_VIEW_ROLES:
        raise Forbidden(_("The team view is for supervisors, QA analysts and managers."))
    _check_team(user, team_id)
    return {
        "since": since,
        "agents": qa_average_by_agent(user=user, since=since, team_id=team_id),
        "trend": qa_weekly_trend(user=user, weeks=weeks, team_id=team_id),
        "failed_criteria": criteria_most_failed(user=user, since=since, team_id=team_id),
    }


def qa_average_by_agent(*, user, since: date, team_id: int | None = None) -> list[dict]:
    """QA average and review count per agent since a day, for the agents in the user's scope."""
    reviews = counted_reviews_for_aggregates(user=user).filter(call__offered_at__gte=local_day_bounds(since, since)[0])
    if team_id:
        reviews = reviews.filter(agent__team_id=team_id)
    rows = (
        reviews.values(
            "agent_id",
            "agent__user__first_name",
            "agent__user__last_name",
            "agent__user__username",
            "agent__team__name",
        )
        .annotate(average=Avg("score_pct"), reviews=Count("id"), critical=Count("id", filter=Q(critical_failed=True)))
        .order_by("agent__user__last_name", "agent__user__first_name", "agent_id")
    )
    return [
        {
            "agent_id": row["agent_id"],
            "agent": f"{row['agent__user__first_name']} {row['agent__user__last_name']}".strip()
            or row["agent__user__username"],
            "team": row["agent__team__name"],
            "average_pct": _round(row["average"]),
            "reviews": row["reviews"],
            "critical_failures": row["critical"],
        }
        for row in rows
    ]


def qa_weekly_trend(*, user, weeks: int = 12, team_id: int | None = None, agent_id: int | None = None) -> list[dict]:
    """Average score per week (by the call's date) over the last weeks, for the trend chart."""
    today = timezone.localdate()
    first_monday = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    reviews = counted_reviews_for_aggregates(user=user).filter(
        call__offered_at__gte=local_day_bounds(first_monday, first_monday)[0]
    )
    if team_id:
        reviews = reviews.filter(agent__team_id=team_id)
    if agent_id:
        reviews = reviews.filter(agent_id=agent_id)
    rows = (
        reviews.annotate(week=TruncWeek("call__offered_at", tzinfo=timezone.get_default_timezone()))
        .values("week")
        .annotate(average=Avg("score_pct"), reviews=Count("id"))
        .order_by("week")
    )
    by_week = {_as_date(row["week"]): row for row in rows}
    out = []
    for i in range(weeks):
        monday = first_monday + timedelta(weeks=i)
        row = by_week.get(monday)
        out.append(
            {
                "week": monday,
                "average_pct": _round(row["average"]) if row else None,
                "reviews": row["reviews"] if row else 0,
            }
        )
    return out


def criteria_most_failed(*, user, since: date, team_id: int | None = None, limit: int = 10) -> list[dict]:
    """Criteria most failed (less than half their points) per team, since a day: for trainers
    choosing courses and supervisors coaching. Criteria are grouped by label across scorecard
    versions, so a criterion kept from one version to the next stays one line."""
    reviews = counted_reviews_for_aggregates(user=user).filter(call__offered_at__gte=local_day_bounds(since, since)[0])
    _check_team(user, team_id)
    if team_id:
        reviews = reviews.filter(agent__team_id=team_id)
    rows = (
        ReviewScore.objects.filter(review__in=reviews, points__isnull=False)
        .values("review__agent__team_id", "review__agent__team__name", "criterion__label")
        .annotate(applicable=Count("id"), failed=Count("id", filter=Q(failed=True)))
        .filter(failed__gt=0)
        .order_by("review__agent__team__name", "-failed", "criterion__label")
    )
    per_team: dict = {}
    for row in rows:
        team = per_team.setdefault(
            row["review__agent__team_id"],
            {"team_id": row["review__agent__team_id"], "team": row["review__agent__team__name"] or "—", "criteria": []},
        )
        if len(team["criteria"]) < limit:
            team["criteria"].append(
                {
                    "criterion": row["criterion__label"],
                    "failed": row["failed"],
                    "applicable": row["applicable"],
                    "failure_rate_pct": _round(Decimal(100 * row["failed"]) / row["applicable"]),
                }
            )
    return list(per_team.values())


# --- Evaluations -----------------------------------------------------------------------------


def evaluations_for_user(*, user) -> QuerySet[Evaluation]:
    """Evaluations the user may see: own (once shared); a supervisor their teams' and the ones
    they wrote; HR and managers all. Trainers and QA analysts none (403)."""
    user_roles = roles_of(user)
    qs = Evaluation.objects.select_related("agent__user", "agent__team", "supervisor")
    if user_roles & {Role.HR, Role.MANAGER}:
        return qs
    if not user_roles & {Role.AGENT, Role.SUPERVISOR}:
        raise Forbidden(_("Your role does not give access to evaluations."))
    scope = Q(pk__in=[])
    if Role.SUPERVISOR in user_roles:
        scope |= agent_scope_q(user) | Q(supervisor=user)
    if Role.AGENT in user_roles:
        scope |= Q(agent__user=user) & ~Q(status=Evaluation.Status.DRAFT)
    return qs.filter(scope)


def evaluation_get_for_user(*, user, evaluation_id) -> Evaluation:
    try:
        return evaluations_for_user(user=user).get(pk=evaluation_id)
    except (Evaluation.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such evaluation.")) from None


def evaluation_history_for_user(*, user, agent_id) -> tuple[Agent, list[Evaluation]]:
    """One agent's evaluations, oldest first, for the history page and its trend chart."""
    evaluations = list(evaluations_for_user(user=user).filter(agent_id=agent_id).order_by("period_start"))
    if evaluations:
        return evaluations[0].agent, evaluations
    # No evaluation visible: the agent must still be someone the user may look at.
    from agents.selectors import agent_get_for_user

    agent = agent_get_for_user(user=user, agent_id=agent_id)
    user_roles = roles_of(user)
    if not (user_roles & {Role.HR, Role.MANAGER} or agent.user_id == user.pk or is_supervisor_of(user, agent)):
        raise NotFound(_("No such agent."))
    return agent, []


# --- Self-reported results ----------------------------------------------------------------------


def self_reports_for_user(*, user) -> QuerySet[SelfReport]:
    """Self-reported days: own; a supervisor their teams'; HR and managers all; others 403."""
    user_roles = roles_of(user)
    qs = SelfReport.objects.select_related("agent__user", "agent__team", "reviewed_by")
    if user_roles & {Role.HR, Role.MANAGER}:
        return qs
    if not user_roles & {Role.AGENT, Role.SUPERVISOR}:
        raise Forbidden(_("Your role does not give access to self-reported results."))
    scope = Q(pk__in=[])
    if Role.SUPERVISOR in user_roles:
        scope |= agent_scope_q(user)
    if Role.AGENT in user_roles:
        scope |= Q(agent__user=user)
    return qs.filter(scope)


def self_report_get_for_user(*, user, report_id) -> SelfReport:
    try:
        return self_reports_for_user(user=user).get(pk=report_id)
    except (SelfReport.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such self-reported result.")) from None


@dataclass(frozen=True)
class RunningAverage:
    applications: Decimal
    sales: Decimal
    collections: Decimal


def with_running_averages(reports: list[SelfReport]) -> list[tuple[SelfReport, RunningAverage]]:
    """Each day with the agent's average per day so far (over the given days, oldest first)."""
    out = []
    totals: dict[int, list] = {}
    for report in sorted(reports, key=lambda r: (r.agent_id, r.date)):
        total = totals.setdefault(report.agent_id, [0, 0, Decimal(0), 0])
        total[0] += report.applications_signed
        total[1] += report.sales
        total[2] += report.collections_amount
        total[3] += 1
        n = total[3]
        out.append(
            (
                report,
                RunningAverage(
                    applications=_round(Decimal(total[0]) / n),
                    sales=_round(Decimal(total[1]) / n),
                    collections=_round(total[2] / n),
                ),
            )
        )
    return out


# --- helpers ---------------------------------------------------------------------------------------


def _round(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value
