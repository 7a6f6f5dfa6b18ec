"""Every KPI of docs/kpis.md on hand-built call and presence records with known answers."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from calls import kpis
from calls.models import Call, PresenceInterval, Queue
from calls.tests.factories import QueueFactory, agent_with
from clients.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

DAY = timezone.make_aware(datetime(2026, 1, 5, 0, 0))
START, END = DAY, DAY + timedelta(days=1)
_n = iter(range(1, 10**6))


def make_call(
    queue,
    *,
    at,
    agent=None,
    state,
    wait_s=0,
    talk_s=0,
    hold_s=0,
    wrap_up_s=0,
    caller="+33600000000",
    client=None,
    answered=None,
    direction=Call.Direction.INBOUND,
):
    answered = (
        state in (Call.State.COMPLETED, Call.State.WRAP_UP, Call.State.IN_PROGRESS) if answered is None else answered
    )
    return Call.objects.create(
        external_id=f"k-{next(_n)}",
        queue=queue,
        agent=agent if state != Call.State.ABANDONED else None,
        direction=direction,
        caller_number=caller,
        client=client,
        state=state,
        offered_at=at,
        answered_at=at + timedelta(seconds=wait_s) if answered else None,
        wait_s=wait_s,
        talk_s=talk_s,
        hold_s=hold_s,
        wrap_up_s=wrap_up_s,
    )


@pytest.fixture
def sample(team_a):
    """Six calls: three answered (waits 10, 15, 40 s; handle 150, 250, 90 s) and three
    abandoned (waits 3 s — a short abandon —, 25 s and 60 s). Threshold 20 s, short 5 s."""
    queue = QueueFactory(name="K", slug="k", service_level_threshold_s=20, short_abandon_threshold_s=5)
    agent = agent_with(team=team_a, username="kpi")
    at = START + timedelta(hours=9)
    completed = Call.State.COMPLETED
    make_call(queue, at=at, agent=agent, state=completed, wait_s=10, talk_s=100, hold_s=20, wrap_up_s=30)
    make_call(queue, at=at + timedelta(minutes=5), agent=agent, state=completed, wait_s=15, talk_s=200, wrap_up_s=50)
    make_call(
        queue,
        at=at + timedelta(minutes=40),
        agent=agent,
        state=completed,
        wait_s=40,
        talk_s=60,
        hold_s=10,
        wrap_up_s=20,
    )
    for minutes, wait in ((1, 3), (41, 25), (42, 60)):
        make_call(queue, at=at + timedelta(minutes=minutes), state=Call.State.ABANDONED, wait_s=wait)
    # Outside the period, and outbound: never counted.
    make_call(queue, at=START - timedelta(minutes=1), agent=agent, state=completed, wait_s=1, talk_s=999)
    make_call(queue, at=at, state=Call.State.ABANDONED, wait_s=1, direction=Call.Direction.OUTBOUND)
    return queue, agent


def _figures(queue):
    return kpis.queue_period([queue.pk], start=START, end=END)[queue.pk]


def test_counts_asa_aht_and_abandon_rate(sample):
    queue, _agent = sample
    f = _figures(queue)
    assert (f["offered"], f["answered"], f["abandoned"], f["short_abandoned"]) == (6, 3, 3, 1)
    assert f["asa_s"] == 21.7  # (10 + 15 + 40) / 3
    assert f["aht_s"] == 163.3  # (150 + 250 + 90) / 3, talk + hold + wrap-up
    assert f["abandon_rate_pct"] == 40.0  # (3 − 1) / (6 − 1)


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        (Queue.ServiceLevelFormula.STANDARD, 40.0),  # 2 / (3 + 3 − 1)
        (Queue.ServiceLevelFormula.ASTERISK_ANSWERED, 66.7),  # 2 / 3
        (Queue.ServiceLevelFormula.ASTERISK_SL2, 50.0),  # (2 + 1) / (3 + 3)
    ],
)
def test_service_level_by_the_queues_formula(sample, formula, expected):
    queue, _agent = sample
    Queue.objects.filter(pk=queue.pk).update(service_level_formula=formula)
    assert _figures(queue)["service_level_pct"] == expected


def test_nothing_to_count_gives_no_figure_rather_than_zero(team_a):
    queue = QueueFactory(name="Empty", slug="empty")
    f = _figures(queue)
    assert f["offered"] == 0 and f["service_level_pct"] is None and f["asa_s"] is None and f["aht_s"] is None
    assert f["abandon_rate_pct"] is None


def test_agent_calls_handled_and_aht(sample):
    _queue, agent = sample
    assert kpis.agent_period([agent.pk], start=START, end=END) == {agent.pk: {"handled": 3, "aht_s": 163.3}}


def test_occupancy_is_handling_over_handling_plus_available_clipped_to_the_period(team_a):
    agent = agent_with(team=team_a, username="occ")
    at = START + timedelta(hours=8)

    def interval(state, begin, seconds):
        PresenceInterval.objects.create(
            agent=agent, state=state, started_at=begin, ended_at=begin + timedelta(seconds=seconds)
        )
        return begin + timedelta(seconds=seconds)

    # Started 300 s before the period: only its last 300 s count.
    interval("available", START - timedelta(seconds=300), 600)
    t = interval("available", at, 600)
    t = interval("reserved", t, 60)  # ringing counts as available
    t = interval("on_call", t, 300)
    t = interval("wrap_up", t, 60)
    interval("break", t, 1000)  # neither
    # handling 360 ÷ (360 + 300 + 600 + 60) = 27.3 %
    assert kpis.occupancy([agent.pk], start=START, end=END, now=END) == {agent.pk: 27.3}


def test_occupancy_counts_the_open_interval_until_now(team_a):
    agent = agent_with(team=team_a, username="open")
    at = START + timedelta(hours=8)
    PresenceInterval.objects.create(agent=agent, state="available", started_at=at, ended_at=at + timedelta(seconds=300))
    PresenceInterval.objects.create(agent=agent, state="on_call", started_at=at + timedelta(seconds=300))
    now = at + timedelta(seconds=400)  # 100 s on the call so far
    assert kpis.occupancy([agent.pk], start=START, end=END, now=now) == {agent.pk: 25.0}
    assert kpis.occupancy([agent.pk], start=END, end=END + timedelta(days=1), now=END + timedelta(hours=1)) == {
        agent.pk: 100.0
    }


def test_first_contact_resolution(team_a, settings):
    settings.FCR_WINDOW_DAYS = 7
    queue = QueueFactory(name="F", slug="fcr")
    agent = agent_with(team=team_a, username="fcr")
    client_x = ClientFactory(full_name="X")
    done = Call.State.COMPLETED
    c1 = make_call(queue, at=START, agent=agent, state=done, client=client_x, caller="+33611000001")
    # The same client from another number three days later: c1 was not resolved.
    make_call(queue, at=START + timedelta(days=3), agent=agent, state=done, client=client_x, caller="+33611000009")
    # No client: the number counts. A repeat ten days later is outside the window.
    make_call(queue, at=START, agent=agent, state=done, caller="+33622000002")
    make_call(queue, at=START + timedelta(days=10), agent=agent, state=done, caller="+33622000002")
    make_call(queue, at=START, agent=agent, state=done, caller="+33633000003")
    # An abandoned call is not a contact that could be resolved (but it is a repeat).
    make_call(queue, at=START + timedelta(days=20), state=Call.State.ABANDONED, caller="+33633000003")
    calls = Call.objects.filter(queue=queue)
    assert kpis.first_contact_resolution(calls) == {"answered": 5, "resolved": 4, "fcr_pct": 80.0}
    settings.FCR_WINDOW_DAYS = 2
    assert kpis.first_contact_resolution(calls)["fcr_pct"] == 100.0
    settings.FCR_WINDOW_DAYS = 30
    # Now the abandoned call 20 days later is a repeat of +33633000003, and day 10 of +33622000002.
    assert kpis.first_contact_resolution(calls) == {"answered": 5, "resolved": 2, "fcr_pct": 40.0}
    assert kpis.first_contact_resolution(calls.filter(pk=c1.pk))["fcr_pct"] == 0.0


def test_half_hours_add_up_to_the_days_figures(sample):
    queue, _agent = sample
    slots = kpis.half_hours([queue.pk], start=START, end=END)
    assert len(slots) == 48
    by_start = {slot["start"]: slot for slot in slots if slot["offered"]}
    # 09:00–09:30: three answered-or-abandoned calls at :00, :01, :05; 09:30–10:00: three at :40–:42.
    assert set(by_start) == {"09:00", "09:30"}
    assert (by_start["09:00"]["offered"], by_start["09:00"]["answered"]) == (3, 2)
    # 09:00: answered within 2 ÷ (2 answered + 1 abandoned − 1 short) = 100 %
    assert by_start["09:00"]["service_level_pct"] == 100.0
    # 09:30: 0 within ÷ (1 + 2) = 0 %
    assert by_start["09:30"]["service_level_pct"] == 0.0
    day = _figures(queue)
    assert sum(s["offered"] for s in slots) == day["offered"]
    assert sum(s["answered"] for s in slots) == day["answered"]
