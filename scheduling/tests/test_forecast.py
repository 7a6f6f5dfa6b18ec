"""The forecast on a synthetic history with a known pattern: the same weekday over the
last four weeks, weighted 4, 3, 2, 1 (most recent first)."""

from datetime import timedelta

import pytest

from calls.models import Call
from scheduling import forecast
from scheduling.tests.factories import QueueFactory, add_calls, local, next_monday

pytestmark = pytest.mark.django_db


@pytest.fixture
def day():
    return next_monday(1) + timedelta(days=2)  # a Wednesday ahead


def slot(forecasts, queue, day, label):
    return next(s for s in forecasts[queue.pk][day] if s.label == label)


def test_weighted_same_weekday_pattern(day):
    queue = QueueFactory(target_aht_s=240)
    # Week k before (k = 1 is last week): 10, 20, 30, 40 calls at 10:00-10:30, all
    # answered, handled in 200, 300, 400, 500 s.
    for k, (calls, handle) in enumerate([(10, 200), (20, 300), (30, 400), (40, 500)], start=1):
        add_calls(queue, local(day - timedelta(weeks=k), 10, 10), offered=calls, answered=calls, handle_s=handle)
    # Last week only: 8 calls at 10:45, 2 answered in 600 s.
    add_calls(queue, local(day - timedelta(weeks=1), 10, 45), offered=8, answered=2, handle_s=600)
    # Noise that must not count: another weekday, five weeks back, outbound calls.
    add_calls(queue, local(day - timedelta(weeks=1, days=1), 10, 10), offered=99, answered=99)
    add_calls(queue, local(day - timedelta(weeks=5), 10, 10), offered=99, answered=99)
    add_calls(queue, local(day - timedelta(weeks=1), 10, 15), offered=5, answered=5)
    Call.objects.filter(offered_at=local(day - timedelta(weeks=1), 10, 15)).update(direction="outbound")

    result = forecast.forecast([queue], [day])
    ten = slot(result, queue, day, "10:00")
    # (4·10 + 3·20 + 2·30 + 1·40) / 10 = 20 calls.
    assert ten.calls == pytest.approx(20.0)
    # Handle time weighted by week weight and answered calls:
    # (4·10·200 + 3·20·300 + 2·30·400 + 1·40·500) / (4·10 + 3·20 + 2·30 + 1·40) = 350 s.
    assert ten.aht_s == pytest.approx(350.0)
    assert ten.weeks == 4
    half_past = slot(result, queue, day, "10:30")
    assert half_past.calls == pytest.approx(4 * 8 / 10)  # 3.2
    assert half_past.aht_s == pytest.approx(600.0)
    # A half-hour with no call at all: no calls, and the queue's target handle time.
    empty = slot(result, queue, day, "03:00")
    assert (empty.calls, empty.aht_s) == (0.0, 240.0)
    assert len(result[queue.pk][day]) in (46, 48, 50)


def test_short_history_uses_only_the_weeks_it_has(day):
    queue = QueueFactory()
    # The queue opened two weeks before: 30 then 12 calls (two and one week back).
    add_calls(queue, local(day - timedelta(weeks=2), 9, 0), offered=30, answered=30, handle_s=300)
    add_calls(queue, local(day - timedelta(weeks=1), 9, 0), offered=12, answered=12, handle_s=300)
    nine = slot(forecast.forecast([queue], [day]), queue, day, "09:00")
    assert nine.calls == pytest.approx((4 * 12 + 3 * 30) / 7)
    assert nine.weeks == 2


def test_a_queue_without_history_forecasts_no_calls(day):
    queue = QueueFactory(target_aht_s=180)
    slots = forecast.forecast([queue], [day])[queue.pk][day]
    assert {s.calls for s in slots} == {0.0}
    assert {s.aht_s for s in slots} == {180.0}
    assert {s.weeks for s in slots} == {0}


def test_a_week_forecast_is_one_query_for_all_queues(day, django_assert_num_queries):
    queues = [QueueFactory() for _ in range(3)]
    for queue in queues:
        add_calls(queue, local(day - timedelta(weeks=1), 12, 0), offered=3, answered=3)
    days = [day + timedelta(days=i) for i in range(7)]
    with django_assert_num_queries(2):  # the history, and where each queue's history starts
        result = forecast.forecast(queues, days)
    assert slot(result, queues[0], day, "12:00").calls == pytest.approx(3.0)
    assert slot(result, queues[0], day + timedelta(days=1), "12:00").calls == 0.0
