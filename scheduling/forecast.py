"""Forecast of offered calls and handle time per queue and half-hour, from call history.

For a coming day D and a half-hour slot (its local start time), the forecast looks at the
same slot on the same weekday 1, 2, …, N weeks before D, weighted (periods.forecast_weights,
by default 4, 3, 2, 1: last week counts four times as much as four weeks ago):

    calls(D, slot) = Σ w_k · offered_k / Σ w_k
    AHT(D, slot)   = Σ w_k · handle_k / Σ w_k · answered_k

offered_k counts the inbound calls that arrived in the slot (whatever became of them),
handle_k sums talk + hold + wrap-up of those that were answered, answered_k counts them.
Only weeks on or after the queue's first call count (a queue with two weeks of history is
forecast from those two, the weights renormalised); a queue with no history forecasts no
calls. A slot with no answered call in any counted week takes the queue's target handle
time. The aggregation is one query, whatever the number of queues and days.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Case, Count, F, IntegerField, Min, Q, Sum, Value, When
from django.db.models.functions import ExtractHour, ExtractMinute, TruncDate
from django.utils import timezone

from calls.models import Call, Queue

from . import periods


@dataclass(frozen=True)
class SlotForecast:
    """The forecast of one queue in one half-hour."""

    queue_id: int
    start: datetime
    end: datetime
    label: str
    calls: float
    aht_s: float
    weeks: int  # how many past weeks it rests on (0: no history)


def forecast(queues: list[Queue], days: list[date]) -> dict[int, dict[date, list[SlotForecast]]]:
    """{queue_id: {day: [SlotForecast per half-hour]}} for the given queues and days."""
    weights = periods.forecast_weights()
    result: dict[int, dict[date, list[SlotForecast]]] = {q.pk: {} for q in queues}
    if not queues or not days:
        return result
    queue_ids = [q.pk for q in queues]
    deepest = len(weights)
    history = _history_for(queue_ids, min(days) - timedelta(days=7 * deepest), max(days) - timedelta(days=7))
    first_days = _first_call_days(queue_ids)
    for queue in queues:
        first = first_days.get(queue.pk)
        for day in days:
            slots = []
            used = [
                (k, w)
                for k, w in enumerate(weights, start=1)
                if first is not None and day - timedelta(days=7 * k) >= first
            ]
            total_weight = sum(w for _k, w in used)
            for interval in periods.half_hours(day):
                hour, half = interval.slot
                offered = answered = handle = 0.0
                for k, w in used:
                    o, a, h = history.get((queue.pk, day - timedelta(days=7 * k), hour, half), (0, 0, 0))
                    offered += w * o
                    answered += w * a
                    handle += w * h
                calls = offered / total_weight if total_weight else 0.0
                aht_s = handle / answered if answered else float(queue.target_aht_s)
                slots.append(
                    SlotForecast(queue.pk, interval.start, interval.end, interval.label, calls, aht_s, len(used))
                )
            result[queue.pk][day] = slots
    return result


def _history_for(queue_ids, first_day: date, last_day: date):
    """{(queue_id, local date, hour, half): (offered, answered, handle_s)} over the days,
    grouped by the database. The minute is annotated before the Case that reads it."""
    zone = periods.center_zone()
    start, _ = periods.day_bounds(first_day)
    _, end = periods.day_bounds(last_day)
    answered = Q(answered_at__isnull=False)
    rows = (
        Call.objects.filter(
            queue_id__in=queue_ids,
            direction=Call.Direction.INBOUND,
            offered_at__gte=start,
            offered_at__lt=end,
        )
        .annotate(minute=ExtractMinute("offered_at", tzinfo=zone))
        .annotate(
            day=TruncDate("offered_at", tzinfo=zone),
            hour=ExtractHour("offered_at", tzinfo=zone),
            half=Case(When(minute__gte=30, then=Value(1)), default=Value(0), output_field=IntegerField()),
        )
        .values("queue_id", "day", "hour", "half")
        .annotate(
            offered=Count("id"),
            answered=Count("id", filter=answered),
            handle_s=Sum(F("talk_s") + F("hold_s") + F("wrap_up_s"), filter=answered),
        )
        .order_by()
    )
    return {
        (row["queue_id"], row["day"], row["hour"], row["half"]): (row["offered"], row["answered"], row["handle_s"] or 0)
        for row in rows
    }


def _first_call_days(queue_ids) -> dict[int, date]:
    """The local date of each queue's first inbound call: where its history begins."""
    zone = periods.center_zone()
    rows = (
        Call.objects.filter(queue_id__in=queue_ids, direction=Call.Direction.INBOUND)
        .values("queue_id")
        .annotate(first=Min("offered_at"))
        .order_by()
    )
    return {row["queue_id"]: timezone.localtime(row["first"], zone).date() for row in rows if row["first"]}
