"""The figures of calls/kpis.py, on calls with known waits and durations."""

from datetime import timedelta

import pytest
from django.utils import timezone

from calls import kpis
from calls.models import Call

pytestmark = pytest.mark.django_db


def make(
    queue,
    *,
    state,
    wait_s,
    answered=False,
    talk_s=0,
    wrap_up_s=0,
    hold_s=0,
    offset_s=0,
    direction="inbound",
    agent=None,
):
    now = timezone.now() - timedelta(minutes=5)
    return Call.objects.create(
        external_id=f"k-{Call.objects.count()}-{offset_s}-{wait_s}-{state}",
        queue=queue,
        caller_number="+33612345678",
        state=state,
        direction=direction,
        offered_at=now - timedelta(seconds=offset_s),
        answered_at=now if answered else None,
        wait_s=wait_s,
        talk_s=talk_s,
        hold_s=hold_s,
        wrap_up_s=wrap_up_s,
        agent=agent,
    )


def test_service_level_asa_aht_and_abandon_rate(queue, billing):
    from calls.tests.factories import agent_with

    agent = agent_with(skills=[billing])
    completed = Call.State.COMPLETED
    # Answered: 4 within the 20 s threshold, 2 over it (one of them still in progress).
    for wait, talk in ((5, 100), (10, 200), (20, 300), (15, 120), (40, 200)):
        make(queue, state=completed, wait_s=wait, answered=True, talk_s=talk, wrap_up_s=30, hold_s=10, agent=agent)
    other = agent_with(skills=[billing])
    make(queue, state=Call.State.IN_PROGRESS, wait_s=60, answered=True, agent=other)
    # Abandoned: two after 5 s or more, one short abandon (misdial).
    make(queue, state=Call.State.ABANDONED, wait_s=30)
    make(queue, state=Call.State.ABANDONED, wait_s=8)
    make(queue, state=Call.State.ABANDONED, wait_s=2)
    make(queue, state=Call.State.QUEUED, wait_s=0)
    make(queue, state=completed, wait_s=1, answered=True, direction="outbound", agent=agent)  # not counted

    start, end = kpis.today_range()
    start = min(start, timezone.now() - timedelta(hours=1))
    figures = kpis.queue_period([queue.pk], start=start, end=end)[queue.pk]

    assert figures["offered"] == 10
    assert figures["answered"] == 6
    assert figures["abandoned"] == 3 and figures["short_abandoned"] == 1
    # 4 answered within 20 s / (6 answered + 3 abandoned − 1 short) = 50 %.
    assert figures["service_level_pct"] == 50.0
    assert figures["asa_s"] == round((5 + 10 + 20 + 15 + 40 + 60) / 6, 1)
    # AHT over completed calls: talk + hold + wrap-up.
    assert figures["aht_s"] == round(sum(t + 10 + 30 for t in (100, 200, 300, 120, 200)) / 5, 1)
    # (3 − 1) / (10 − 1) abandoned.
    assert figures["abandon_rate_pct"] == 22.2


def test_no_calls_no_figures(queue):
    figures = kpis.queue_period([queue.pk], start=timezone.now() - timedelta(days=1), end=timezone.now())[queue.pk]
    assert figures["offered"] == 0 and figures["service_level_pct"] is None and figures["asa_s"] is None


def test_live_waiting_and_longest_wait(queue):
    now = timezone.now()
    make(queue, state=Call.State.QUEUED, wait_s=0, offset_s=300)
    make(queue, state=Call.State.QUEUED, wait_s=0, offset_s=30)
    live = kpis.queue_live([queue.pk], now=now)[queue.pk]
    assert live["waiting"] == 2 and 600 >= live["longest_wait_s"] >= 300
