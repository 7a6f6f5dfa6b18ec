"""The planning demo: templates around the clock, a published week for every demo agent,
requests pending and decided, a swap waiting, a forecast from the calls demo's history;
and a second run changes nothing."""

import io
from datetime import time, timedelta

import pytest

from calls.models import Queue
from scheduling import forecast, periods
from scheduling.models import DayOffRequest, Shift, ShiftSwap, ShiftTemplate

pytestmark = pytest.mark.django_db


class Out(io.StringIO):
    def write(self, s):
        return super().write(s + "\n")


def seed():
    from agents import demo as agents_demo
    from calls import demo as calls_demo
    from scheduling import demo

    out = Out()
    agents_demo.seed(stdout=out)
    calls_demo.seed(stdout=out)
    demo.seed(stdout=out)
    return out.getvalue()


def test_demo_planning(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        printed = seed()
    assert "shift templates" in printed
    # The templates cover every half-hour of the day.
    covered = set()
    for t in ShiftTemplate.objects.all():
        start = t.start_time.hour * 2 + t.start_time.minute // 30
        covered.update((start + i) % 48 for i in range(t.duration_minutes // 30))
    assert covered == set(range(48))
    assert ShiftTemplate.objects.filter(end_time__lte=time(6)).exists()  # a night shift
    week = periods.monday_of(periods.local_today())
    this_week = Shift.objects.filter(date__gte=week, date__lt=week + timedelta(days=7))
    assert this_week.filter(is_published=True).values("agent").distinct().count() >= 25
    next_week = Shift.objects.filter(date__gte=week + timedelta(days=7), date__lt=week + timedelta(days=14))
    assert next_week.filter(is_published=False).exists() and next_week.filter(is_published=True).exists()
    states = set(DayOffRequest.objects.values_list("state", flat=True))
    assert {"pending", "approved", "rejected"} <= states
    assert DayOffRequest.objects.filter(agent__user__username="agent", state="approved").exists()
    assert ShiftSwap.objects.filter(state="taken").count() == 1
    # The calls demo's history gives a forecast for next week.
    queue = Queue.objects.get(slug="service-client")
    day = week + timedelta(days=8)
    slots = forecast.forecast([queue], [day])[queue.pk][day]
    assert sum(s.calls for s in slots) > 50

    counts = (Shift.objects.count(), DayOffRequest.objects.count(), ShiftSwap.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        seed()
    assert (Shift.objects.count(), DayOffRequest.objects.count(), ShiftSwap.objects.count()) == counts
