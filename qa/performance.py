"""An agent's measured performance over a period: the figures an evaluation snapshots.

Definitions (the period is [start, end] in the center's calendar days; a call belongs to
the day it was offered):
- calls handled: completed calls the agent answered (inbound and outbound);
- calls per day: calls handled / days on which the agent handled at least one call;
- AHT (s): mean of talk + hold + wrap-up over the calls handled;
- first-contact resolution (%): share of the agent's handled inbound calls (with a caller
  number) after which the same number did not call the center again within
  QA_FCR_WINDOW_DAYS days (default 7);
- QA average (%): mean score of the agent's reviews that count (submitted, acknowledged,
  dispute resolved) of calls in the period;
- orders: orders the agent took in the period, cancelled ones excepted;
- conversion (%): accepted / (accepted + refused) contact outcomes the agent recorded;
- attendance and adherence (%): from the scheduling app when it provides them, else empty;
- confirmed self-reported results: sums of the confirmed figures (qa.SelfReport).
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.apps import apps
from django.conf import settings
from django.db.models import Avg, Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from calls.models import Call

from .models import Review, SelfReport
from .selectors import local_day_bounds

CENT = Decimal("0.01")


def _q(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _pct(part: int, whole: int) -> Decimal | None:
    return _q(Decimal(100 * part) / whole) if whole else None


def handled_calls(*, agent_id: int, start: date, end: date):
    lo, hi = local_day_bounds(start, end)
    return Call.objects.filter(
        agent_id=agent_id,
        state=Call.State.COMPLETED,
        answered_at__isnull=False,
        offered_at__gte=lo,
        offered_at__lt=hi,
    )


def call_figures(*, agent_id: int, start: date, end: date) -> dict:
    """Calls handled, days with calls, calls per day, AHT and first-contact resolution."""
    calls = handled_calls(agent_id=agent_id, start=start, end=end)
    totals = calls.aggregate(
        n=Count("id"),
        aht=Avg(F("talk_s") + F("hold_s") + F("wrap_up_s")),
        days=Count(TruncDate("offered_at", tzinfo=timezone.get_default_timezone()), distinct=True),
    )
    window = timedelta(days=getattr(settings, "QA_FCR_WINDOW_DAYS", 7))
    repeat = Call.objects.filter(
        direction=Call.Direction.INBOUND,
        caller_number=OuterRef("caller_number"),
        offered_at__gt=OuterRef("offered_at"),
        offered_at__lte=OuterRef("offered_at") + window,
    ).exclude(pk=OuterRef("pk"))
    fcr = (
        calls.filter(direction=Call.Direction.INBOUND)
        .exclude(caller_number="")
        .annotate(called_again=Exists(repeat))
        .aggregate(n=Count("id"), resolved=Count("id", filter=Q(called_again=False)))
    )
    n, days = totals["n"], totals["days"]
    return {
        "calls_handled": n,
        "days_worked": days,
        "calls_per_day": _q(Decimal(n) / days) if days else None,
        "aht_s": round(totals["aht"]) if totals["aht"] is not None else None,
        "fcr_pct": _pct(fcr["resolved"], fcr["n"]),
    }


def qa_figures(*, agent_id: int, start: date, end: date) -> dict:
    lo, hi = local_day_bounds(start, end)
    row = Review.objects.filter(
        agent_id=agent_id,
        kind=Review.Kind.REGULAR,
        status__in=Review.COUNTED_STATUSES,
        call__offered_at__gte=lo,
        call__offered_at__lt=hi,
    ).aggregate(average=Avg("score_pct"), n=Count("id"))
    return {"qa_average_pct": _q(row["average"]), "qa_reviews": row["n"]}


def sales_figures(*, agent_id: int, start: date, end: date) -> dict:
    """Orders and conversion, or empty figures when the orders/outcomes apps are not there."""
    try:
        Order = apps.get_model("orders", "Order")
        ContactOutcome = apps.get_model("clients", "ContactOutcome")
    except LookupError:
        return {"orders_count": None, "conversion_pct": None}
    lo, hi = local_day_bounds(start, end)
    orders = (
        Order.objects.filter(agent_id=agent_id, created_at__gte=lo, created_at__lt=hi)
        .exclude(status="cancelled")
        .count()
    )
    outcomes = ContactOutcome.objects.filter(agent_id=agent_id, created_at__gte=lo, created_at__lt=hi).aggregate(
        accepted=Count("id", filter=Q(kind="accepted")), decided=Count("id", filter=Q(kind__in=["accepted", "refused"]))
    )
    return {"orders_count": orders, "conversion_pct": _pct(outcomes["accepted"], outcomes["decided"])}


def schedule_figures(*, agent_id: int, start: date, end: date) -> dict:
    """Attendance and adherence over the period, from the scheduling app's per-day adherence
    (scheduling.adherence.adherence_for_agents), when that app provides it; else empty.

    adherence % = Σ time in adherence / Σ time counted, over the days of the period;
    attendance % = scheduled time the agent was signed in (not offline) / scheduled time.
    """
    try:
        from scheduling.adherence import OFF, adherence_for_agents
    except ImportError:
        return {"attendance_pct": None, "adherence_pct": None}
    scheduled = counted = in_adherence = absent = 0
    day = start
    while day <= end:
        result = adherence_for_agents([agent_id], day)[agent_id]
        scheduled += result.scheduled_s
        counted += result.counted_s
        in_adherence += result.in_adherence_s
        absent += sum(o.seconds for o in result.out if o.expected != OFF and o.state == "offline")
        day += timedelta(days=1)
    return {
        "attendance_pct": _pct(scheduled - absent, scheduled),
        "adherence_pct": _pct(in_adherence, counted),
    }


def self_report_figures(*, agent_id: int, start: date, end: date) -> dict:
    """Confirmed self-reported results (the ones evaluations use) and the days still unconfirmed."""
    reports = SelfReport.objects.filter(agent_id=agent_id, date__gte=start, date__lte=end)
    row = reports.aggregate(
        applications=Sum("confirmed_applications"),
        sales=Sum("confirmed_sales"),
        collections=Sum("confirmed_collections"),
        reported=Count("id"),
        unconfirmed=Count("id", filter=Q(confirmed_sales__isnull=True)),
    )
    if not row["reported"]:
        return {
            "confirmed_applications": None,
            "confirmed_sales": None,
            "confirmed_collections": None,
            "unconfirmed_days": None,
        }
    return {
        "confirmed_applications": row["applications"] or 0,
        "confirmed_sales": row["sales"] or 0,
        "confirmed_collections": _q(row["collections"] or 0),
        "unconfirmed_days": row["unconfirmed"],
    }


def measured_figures(*, agent_id: int, start: date, end: date) -> dict:
    """Every figure of an evaluation's snapshot, plus a note per figure that had no source."""
    figures = {
        **call_figures(agent_id=agent_id, start=start, end=end),
        **qa_figures(agent_id=agent_id, start=start, end=end),
        **sales_figures(agent_id=agent_id, start=start, end=end),
        **schedule_figures(agent_id=agent_id, start=start, end=end),
        **self_report_figures(agent_id=agent_id, start=start, end=end),
    }
    notes = {}
    if figures["adherence_pct"] is None:
        notes["adherence_pct"] = "no schedule data for the period"
    if figures["orders_count"] is None:
        notes["orders_count"] = "orders are not recorded in this installation"
    figures["figure_notes"] = notes
    return figures
