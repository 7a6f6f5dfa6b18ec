"""What the system itself recorded for an agent and day, to cross-check self-reported results.

The mapping (documented in docs/quality.md):
- applications signed = contact outcomes of kind "accepted" the agent recorded that day;
- sales = orders the agent took that day, cancelled ones excepted, that did not come from a
  collections campaign;
- collections = the amount of the orders the agent took that day, cancelled ones excepted,
  that came from a collections campaign.
Days are the center's calendar days (settings.TIME_ZONE).

This is the seam between quality and the clients/orders apps: their models are looked up
by name, and when they are not installed `recorded_results` answers None ("nothing to check
against") instead of zeros that would flag every day.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.apps import apps
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from .selectors import local_day_bounds

COLLECTIONS_CAMPAIGN_KIND = "collections"


@dataclass(frozen=True)
class RecordedDay:
    applications: int = 0
    sales: int = 0
    collections: Decimal = Decimal("0.00")


def _model(app_label: str, name: str):
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def sources_available() -> bool:
    return _model("orders", "Order") is not None and _model("clients", "ContactOutcome") is not None


def recorded_results(*, agent_ids: list[int], start: date, end: date) -> dict[tuple[int, date], RecordedDay] | None:
    """{(agent id, day): RecordedDay} for the days with anything recorded (other days: nothing),
    or None when the orders/outcomes models are not there to check against."""
    Order = _model("orders", "Order")
    ContactOutcome = _model("clients", "ContactOutcome")
    if Order is None or ContactOutcome is None:
        return None
    tz = timezone.get_default_timezone()
    lo, hi = local_day_bounds(start, end)
    found: dict[tuple[int, date], dict] = defaultdict(dict)

    outcomes = (
        ContactOutcome.objects.filter(agent_id__in=agent_ids, kind="accepted", created_at__gte=lo, created_at__lt=hi)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("agent_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in outcomes:
        found[(row["agent_id"], row["day"])]["applications"] = row["n"]

    orders = (
        Order.objects.filter(agent_id__in=agent_ids, created_at__gte=lo, created_at__lt=hi)
        .exclude(status="cancelled")
        .annotate(day=TruncDate("created_at", tzinfo=tz))
    )
    collections_q = {"outcome__campaign__kind": COLLECTIONS_CAMPAIGN_KIND}
    for row in orders.exclude(**collections_q).values("agent_id", "day").annotate(n=Count("id")).order_by():
        found[(row["agent_id"], row["day"])]["sales"] = row["n"]
    for row in orders.filter(**collections_q).values("agent_id", "day").annotate(total=Sum("amount")).order_by():
        found[(row["agent_id"], row["day"])]["collections"] = Decimal(row["total"] or 0).quantize(Decimal("0.01"))

    return {key: RecordedDay(**values) for key, values in found.items()}
