"""Supervisor evaluations: open one for a period with the measured figures
(qa/performance.py), rate and comment, share with the agent, the agent signs.

Monthly by default (QA_EVALUATION_PERIOD_MONTHS); the beat opens the drafts when a
period ends. Figures are taken at creation and may be refreshed while the evaluation
is a draft; once shared they are frozen.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent
from contactcenter.errors import ApplicationError, Conflict, Forbidden

from .. import performance
from ..models import Evaluation, EvaluationStatusChange
from ..selectors import can_lead_agent

TEXT_FIELDS = ("comments", "goals")


def period_months() -> int:
    months = int(getattr(settings, "QA_EVALUATION_PERIOD_MONTHS", 1))
    if months not in (1, 2, 3, 4, 6, 12):
        raise ApplicationError(_("QA_EVALUATION_PERIOD_MONTHS must divide a year (1, 2, 3, 4, 6 or 12)."))
    return months


def period_containing(day: date) -> tuple[date, date]:
    """The evaluation period (calendar months, aligned on January) that contains a day."""
    months = period_months()
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    end_month = first_month + months
    end = (date(day.year + 1, 1, 1) if end_month > 12 else date(day.year, end_month, 1)) - timedelta(days=1)
    return start, end


def last_complete_period(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    start, _end = period_containing(today)
    return period_containing(start - timedelta(days=1))


def evaluation_transition(*, evaluation: Evaluation, to: str, by, note: str = "", update_fields=()) -> Evaluation:
    if to not in Evaluation.TRANSITIONS[evaluation.status]:
        raise Conflict(
            _("An evaluation that is %(from)s cannot become %(to)s.")
            % {"from": evaluation.get_status_display().lower(), "to": Evaluation.Status(to).label.lower()},
            code="illegal_transition",
        )
    from_status = evaluation.status
    evaluation.status = to
    evaluation.save(update_fields=["status", *update_fields])
    EvaluationStatusChange.objects.create(
        evaluation=evaluation, from_status=from_status, to_status=to, by=by, note=note
    )
    return evaluation


def _set_figures(evaluation: Evaluation) -> list[str]:
    figures = performance.measured_figures(
        agent_id=evaluation.agent_id, start=evaluation.period_start, end=evaluation.period_end
    )
    for field, value in figures.items():
        setattr(evaluation, field, value)
    evaluation.snapshot_at = timezone.now()
    return [*figures.keys(), "snapshot_at"]


def _lock(evaluation: Evaluation) -> Evaluation:
    return (
        Evaluation.objects.select_for_update(of=("self",))
        .select_related("agent__team", "agent__user")
        .get(pk=evaluation.pk)
    )


def evaluation_create(*, by, agent_id, period_start: date | None = None, period_end: date | None = None) -> Evaluation:
    """Open an agent's evaluation for a period (default: the last complete one) with its figures.
    Only the agent's supervisor or a manager may; one evaluation per agent and period start."""
    try:
        agent = Agent.objects.select_related("team", "user").get(pk=int(agent_id))
    except (Agent.DoesNotExist, ValueError, TypeError):
        raise ApplicationError(_("No such agent."), fields={"agent": _("No such agent.")}) from None
    if not can_lead_agent(by, agent):
        raise Forbidden(_("Only the agent's supervisor or a manager evaluates the agent."))
    if period_start is None and period_end is None:
        period_start, period_end = last_complete_period()
    elif period_start is None or period_end is None:
        raise ApplicationError(
            _("Give both ends of the period."),
            fields={"period_start" if period_start is None else "period_end": _("Required.")},
        )
    if period_end < period_start:
        raise ApplicationError(_("The period ends before it starts."), fields={"period_end": _("Before the start.")})
    if Evaluation.objects.filter(agent=agent, period_start=period_start).exists():
        raise Conflict(
            _("This agent already has an evaluation for this period."), fields={"period_start": _("Already evaluated.")}
        )
    evaluation = Evaluation(agent=agent, supervisor=by, period_start=period_start, period_end=period_end)
    _set_figures(evaluation)
    try:
        with transaction.atomic():
            evaluation.save()
            EvaluationStatusChange.objects.create(
                evaluation=evaluation, from_status="", to_status=evaluation.status, by=by
            )
    except IntegrityError:
        raise Conflict(_("This agent already has an evaluation for this period.")) from None
    return evaluation


def evaluation_refresh_figures(*, evaluation: Evaluation, by) -> Evaluation:
    """Take the measured figures again (a draft only: shared figures are frozen)."""
    with transaction.atomic():
        evaluation = _lock(evaluation)
        if not can_lead_agent(by, evaluation.agent):
            raise Forbidden(_("Only the agent's supervisor or a manager edits the evaluation."))
        if evaluation.status != Evaluation.Status.DRAFT:
            raise Conflict(_("The figures of a shared evaluation are frozen."), code="not_draft")
        evaluation.save(update_fields=_set_figures(evaluation))
    return evaluation


def evaluation_update(*, evaluation: Evaluation, by, **changes) -> Evaluation:
    """Ratings (1–5), comments and goals of a draft evaluation."""
    allowed = set(Evaluation.RATINGS) | set(TEXT_FIELDS)
    unknown = set(changes) - allowed
    if unknown:
        raise ApplicationError(_("Unknown field(s): %s.") % ", ".join(sorted(unknown)))
    errors = {}
    for field in Evaluation.RATINGS:
        value = changes.get(field)
        if (
            field in changes
            and value is not None
            and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5)
        ):
            errors[field] = _("A rating is a whole number from 1 to 5.")
    if errors:
        raise ApplicationError(_("Some ratings are not valid."), fields=errors)
    with transaction.atomic():
        evaluation = _lock(evaluation)
        if not can_lead_agent(by, evaluation.agent):
            raise Forbidden(_("Only the agent's supervisor or a manager edits the evaluation."))
        if evaluation.status != Evaluation.Status.DRAFT:
            raise Conflict(_("A shared evaluation can no longer be edited."), code="not_draft")
        for field, value in changes.items():
            setattr(evaluation, field, value.strip() if isinstance(value, str) else value)
        if changes:
            evaluation.save(update_fields=list(changes))
    return evaluation


def evaluation_share(*, evaluation: Evaluation, by) -> Evaluation:
    """Show the evaluation to the agent for sign-off: every rating must be given."""
    with transaction.atomic():
        evaluation = _lock(evaluation)
        if not can_lead_agent(by, evaluation.agent):
            raise Forbidden(_("Only the agent's supervisor or a manager shares the evaluation."))
        missing = [field for field in Evaluation.RATINGS if getattr(evaluation, field) is None]
        if missing:
            raise ApplicationError(
                _("Rate every quality before sharing."), fields={field: _("Required.") for field in missing}
            )
        evaluation.shared_at = timezone.now()
        evaluation_transition(evaluation=evaluation, to=Evaluation.Status.SHARED, by=by, update_fields=["shared_at"])
    return evaluation


def evaluation_sign(*, evaluation: Evaluation, by, comment: str = "") -> Evaluation:
    """The agent signs their evaluation, with a comment if they wish. Nobody else can sign it."""
    with transaction.atomic():
        evaluation = _lock(evaluation)
        if evaluation.agent.user_id != by.pk:
            raise Forbidden(_("Only the evaluated agent can sign their evaluation."), code="not_the_agent")
        evaluation.agent_signed_at = timezone.now()
        evaluation.agent_comment = (comment or "").strip()
        evaluation_transition(
            evaluation=evaluation,
            to=Evaluation.Status.SIGNED,
            by=by,
            note=evaluation.agent_comment,
            update_fields=["agent_signed_at", "agent_comment"],
        )
    return evaluation


def evaluations_open_period(*, period_start: date | None = None, period_end: date | None = None) -> int:
    """The beat's entry: a draft evaluation, with its figures, for every active agent with a
    supervisor and no evaluation for the period yet. Safe to run twice."""
    if period_start is None or period_end is None:
        period_start, period_end = last_complete_period()
    created = 0
    agents = (
        Agent.objects.filter(employment_status=Agent.EmploymentStatus.ACTIVE, hire_date__lte=period_end)
        .exclude(evaluations__period_start=period_start)
        .select_related("team")
    )
    for agent in agents:
        supervisor_id = agent.supervisor_id or (agent.team.supervisor_id if agent.team_id else None)
        if supervisor_id is None:
            continue
        evaluation = Evaluation(
            agent=agent, supervisor_id=supervisor_id, period_start=period_start, period_end=period_end
        )
        _set_figures(evaluation)
        try:
            with transaction.atomic():
                evaluation.save()
                EvaluationStatusChange.objects.create(
                    evaluation=evaluation, from_status="", to_status=evaluation.status, note="opened by the schedule"
                )
        except IntegrityError:
            continue  # opened by someone in the meantime
        created += 1
    return created
