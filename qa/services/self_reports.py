"""Self-reported results: the agent enters a day's figures; the system cross-checks them
against its own record of the day (qa/crosscheck.py); a mismatch is flagged for the
supervisor, who confirms or corrects. Confirmed figures are the ones evaluations use.

Checks run when the agent enters or edits a day, and every night for the open days of the
last QA_SELF_REPORT_RECHECK_DAYS days (an order cancelled the next morning changes the record).
"""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent
from contactcenter.errors import ApplicationError, Conflict, Forbidden

from .. import crosscheck
from ..models import SelfReport, SelfReportChange
from ..selectors import can_lead_agent

CENT = Decimal("0.01")


def _figures(report: SelfReport) -> dict:
    def s(value):
        return None if value is None else str(value)

    return {
        "reported": [report.applications_signed, report.sales, s(report.collections_amount)],
        "recorded": [report.recorded_applications, report.recorded_sales, s(report.recorded_collections)],
        "confirmed": [report.confirmed_applications, report.confirmed_sales, s(report.confirmed_collections)],
    }


def self_report_transition(
    *, report: SelfReport, to: str, by, cause: str, note: str = "", update_fields=()
) -> SelfReport:
    """Move a (locked) self-reported day to a status: checks the table, saves, writes history."""
    if to != report.status and to not in SelfReport.TRANSITIONS[report.status]:
        raise Conflict(
            _("A result that is %(from)s cannot become %(to)s.")
            % {"from": report.get_status_display().lower(), "to": SelfReport.Status(to).label.lower()},
            code="illegal_transition",
        )
    from_status = report.status
    report.status = to
    report.save(update_fields=["status", "updated_at", *update_fields])
    SelfReportChange.objects.create(
        report=report, from_status=from_status, to_status=to, by=by, cause=cause, note=note, figures=_figures(report)
    )
    return report


def _clean_figures(applications_signed, sales, collections_amount) -> tuple[int, int, Decimal]:
    errors = {}
    values = {}
    for field, raw in (("applications_signed", applications_signed), ("sales", sales)):
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and raw.strip().isdigit():
            value = int(raw.strip())
        else:
            value = -1
        if value < 0:
            errors[field] = _("A whole number of at least 0.")
        else:
            values[field] = value
    try:
        amount = Decimal(str(collections_amount)).quantize(CENT)
        if amount < 0 or not amount.is_finite():
            raise InvalidOperation
        if amount >= Decimal("100000000"):
            raise InvalidOperation
        values["collections_amount"] = amount
    except (InvalidOperation, ValueError, TypeError):
        errors["collections_amount"] = _("An amount of at least 0, with at most two decimals.")
    if errors:
        raise ApplicationError(_("Some figures are not valid."), fields=errors)
    return values["applications_signed"], values["sales"], values["collections_amount"]


def _check(report: SelfReport, recorded: dict | None, by=None) -> SelfReport:
    """Compare one locked, open day with the record and move it to pending/matched/flagged."""
    if recorded is None:
        report.recorded_applications = report.recorded_sales = report.recorded_collections = None
        to = SelfReport.Status.PENDING
    else:
        day = recorded.get((report.agent_id, report.date), crosscheck.RecordedDay())
        report.recorded_applications, report.recorded_sales, report.recorded_collections = (
            day.applications,
            day.sales,
            day.collections,
        )
        matches = (report.applications_signed, report.sales, report.collections_amount) == (
            day.applications,
            day.sales,
            day.collections,
        )
        to = SelfReport.Status.MATCHED if matches else SelfReport.Status.FLAGGED
    if to == SelfReport.Status.MATCHED:
        report.confirmed_applications, report.confirmed_sales, report.confirmed_collections = (
            report.applications_signed,
            report.sales,
            report.collections_amount,
        )
    else:
        report.confirmed_applications = report.confirmed_sales = report.confirmed_collections = None
    report.checked_at = timezone.now()
    fields = [
        "recorded_applications",
        "recorded_sales",
        "recorded_collections",
        "confirmed_applications",
        "confirmed_sales",
        "confirmed_collections",
        "checked_at",
    ]
    if to == report.status:
        report.save(update_fields=[*fields, "updated_at"])
        return report
    return self_report_transition(report=report, to=to, by=by, cause="check", update_fields=fields)


def self_report_submit(*, by, day: date, applications_signed, sales, collections_amount, note: str = "") -> SelfReport:
    """The agent enters (or corrects) their figures for a day, which is then checked at once.
    A day the supervisor has decided on is closed (409)."""
    agent = Agent.objects.filter(user=by).first()
    if agent is None:
        raise Forbidden(_("Only agents report their own results."))
    if not isinstance(day, date):
        raise ApplicationError(_("A date is required."), fields={"date": _("Enter a valid date.")})
    if day > timezone.localdate():
        raise ApplicationError(_("Results cannot be reported for a day to come."), fields={"date": _("In the future.")})
    applications_signed, sales, collections_amount = _clean_figures(applications_signed, sales, collections_amount)
    with transaction.atomic():
        try:
            with transaction.atomic():
                report, created = SelfReport.objects.get_or_create(agent=agent, date=day)
        except IntegrityError:
            report, created = SelfReport.objects.get(agent=agent, date=day), False
        report = SelfReport.objects.select_for_update().get(pk=report.pk)
        if report.status not in SelfReport.OPEN_STATUSES:
            raise Conflict(_("Your supervisor has already decided on this day; it can no longer change."))
        report.applications_signed, report.sales, report.collections_amount = (
            applications_signed,
            sales,
            collections_amount,
        )
        report.note = (note or "").strip()[:500]
        report.save(update_fields=["applications_signed", "sales", "collections_amount", "note", "updated_at"])
        SelfReportChange.objects.create(
            report=report,
            from_status="" if created else report.status,
            to_status=report.status,
            by=by,
            cause="entry",
            figures=_figures(report),
        )
        recorded = crosscheck.recorded_results(agent_ids=[agent.pk], start=day, end=day)
        _check(report, recorded, by=by)
    return report


def self_reports_check(
    *, since: date | None = None, until: date | None = None, agent_ids: list[int] | None = None
) -> int:
    """Check again the open days in a range (default: the last QA_SELF_REPORT_RECHECK_DAYS days).
    Returns how many days changed status. Safe to run twice."""
    until = until or timezone.localdate()
    since = since or until - timedelta(days=int(getattr(settings, "QA_SELF_REPORT_RECHECK_DAYS", 7)))
    open_days = SelfReport.objects.filter(status__in=SelfReport.OPEN_STATUSES, date__gte=since, date__lte=until)
    if agent_ids is not None:
        open_days = open_days.filter(agent_id__in=agent_ids)
    ids = list(open_days.values_list("agent_id", flat=True).distinct())
    if not ids:
        return 0
    recorded = crosscheck.recorded_results(agent_ids=ids, start=since, end=until)
    changed = 0
    with transaction.atomic():
        # Locked in primary-key order, like every other writer of these rows.
        for report in open_days.select_for_update().order_by("pk"):
            before = report.status
            _check(report, recorded)
            changed += report.status != before
    return changed


def _decide(report: SelfReport, by) -> SelfReport:
    report = SelfReport.objects.select_for_update(of=("self",)).select_related("agent__team").get(pk=report.pk)
    if not can_lead_agent(by, report.agent):
        raise Forbidden(_("Only the agent's supervisor or a manager confirms results."))
    if report.status not in SelfReport.TO_REVIEW_STATUSES:
        raise Conflict(_("Only a day that differs from the record, or could not be checked, awaits a decision."))
    return report


def self_report_confirm(*, report: SelfReport, by, note: str = "") -> SelfReport:
    """The supervisor accepts the agent's figures as they are."""
    with transaction.atomic():
        report = _decide(report, by)
        report.confirmed_applications, report.confirmed_sales, report.confirmed_collections = (
            report.applications_signed,
            report.sales,
            report.collections_amount,
        )
        report.reviewed_by, report.reviewed_at, report.review_note = by, timezone.now(), (note or "").strip()[:500]
        return self_report_transition(
            report=report,
            to=SelfReport.Status.CONFIRMED,
            by=by,
            cause="confirm",
            note=report.review_note,
            update_fields=[
                "confirmed_applications",
                "confirmed_sales",
                "confirmed_collections",
                "reviewed_by",
                "reviewed_at",
                "review_note",
            ],
        )


def self_report_correct(
    *, report: SelfReport, by, applications_signed, sales, collections_amount, note: str
) -> SelfReport:
    """The supervisor sets the figures that count, saying why; the agent's stay in the history."""
    applications_signed, sales, collections_amount = _clean_figures(applications_signed, sales, collections_amount)
    note = (note or "").strip()[:500]
    with transaction.atomic():
        report = _decide(report, by)
        if not note:
            raise ApplicationError(
                _("Say why the figures are corrected."), fields={"note": _("This field is required.")}
            )
        report.confirmed_applications, report.confirmed_sales, report.confirmed_collections = (
            applications_signed,
            sales,
            collections_amount,
        )
        report.reviewed_by, report.reviewed_at, report.review_note = by, timezone.now(), note
        return self_report_transition(
            report=report,
            to=SelfReport.Status.CORRECTED,
            by=by,
            cause="correct",
            note=note,
            update_fields=[
                "confirmed_applications",
                "confirmed_sales",
                "confirmed_collections",
                "reviewed_by",
                "reviewed_at",
                "review_note",
            ],
        )
