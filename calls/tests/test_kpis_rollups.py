"""The KPI roll-ups (calls/kpis.py, "Roll-ups"): every figure read through the folded half-hours
is the figure counted from the records — with a half-hour still open, after late updates to a
closed half-hour, with presence intervals across half-hour boundaries — and the wallboard's
queries do not grow with the number of queues and agents."""

import itertools
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from calls import kpis
from calls.models import AgentSlotPresence, Call, KpiSlot, PresenceInterval, Queue, QueueSlotFigures, RepeatContact
from calls.tests.factories import QueueFactory, agent_with
from clients.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

DAY = timezone.make_aware(datetime(2026, 1, 5))  # midnight, Paris: 23:00 UTC, a half-hour boundary
START, END = DAY, DAY + timedelta(days=1)
_n = itertools.count(1)


@pytest.fixture
def clock(monkeypatch):
    """The time as every part of the product sees it (timezone.now, auto_now), set by the test."""
    at = [DAY + timedelta(hours=10, minutes=15)]

    def set_to(value):
        at[0] = value

    monkeypatch.setattr(timezone, "now", lambda: at[0])
    set_to.now = lambda: at[0]
    return set_to


def make_call(queue, *, at, agent=None, state=Call.State.COMPLETED, wait_s=10, talk_s=100, hold_s=0, wrap_up_s=20,
              caller="+33600000001", client=None, direction=Call.Direction.INBOUND):  # fmt: skip
    answered = state in (Call.State.COMPLETED, Call.State.WRAP_UP, Call.State.IN_PROGRESS)
    return Call.objects.create(
        external_id=f"r-{next(_n)}",
        queue=queue,
        agent=agent if answered else None,
        direction=direction,
        caller_number=caller,
        client=client,
        state=state,
        offered_at=at,
        answered_at=at + timedelta(seconds=wait_s) if answered else None,
        wait_s=wait_s,
        talk_s=talk_s if answered else 0,
        hold_s=hold_s,
        wrap_up_s=wrap_up_s if state == Call.State.COMPLETED else 0,
    )


@pytest.fixture
def floor(team_a, clock, settings):
    """Three queues with different formulas and thresholds, two agents, a morning of calls from
    a few callers (repeats, for first-contact resolution) up to the open half-hour (10:00–10:15),
    and presence intervals across half-hour boundaries, one still open."""
    settings.FCR_WINDOW_DAYS = 7
    qa = QueueFactory(name="RA", slug="ra", service_level_threshold_s=20, short_abandon_threshold_s=5)
    qb = QueueFactory(
        name="RB",
        slug="rb",
        service_level_threshold_s=30,
        short_abandon_threshold_s=3,
        service_level_formula="asterisk_sl2",
    )
    qc = QueueFactory(name="RC", slug="rc", service_level_threshold_s=10, service_level_formula="asterisk_sl")
    alice, bob = agent_with(team=team_a, username="ra-alice"), agent_with(team=team_a, username="ra-bob")
    client_x = ClientFactory(full_name="X")
    queues = (qa, qb, qc)
    states = (Call.State.COMPLETED,) * 5 + (Call.State.ABANDONED,) * 2
    callers = [f"+3361000000{i}" for i in range(6)]
    for i in range(64):  # 06:00 to 10:12, every 4 minutes
        make_call(
            queues[i % 3],
            at=DAY + timedelta(hours=6, minutes=4 * i, seconds=i),
            agent=(alice, bob)[i % 2],
            state=states[i % 7],
            wait_s=(i * 7) % 45,
            talk_s=60 + (i * 13) % 300,
            hold_s=(i * 3) % 15,
            wrap_up_s=(i * 5) % 40,
            caller=callers[i % 6],
            client=client_x if i % 11 == 0 else None,
        )
    # Still in progress, from a closed half-hour; outbound; the day before; a repeat of the
    # client in the open half-hour.
    make_call(qa, at=DAY + timedelta(hours=9, minutes=50), agent=alice, state=Call.State.IN_PROGRESS, wait_s=4)
    make_call(qb, at=DAY + timedelta(hours=8), agent=bob, direction=Call.Direction.OUTBOUND)
    make_call(qa, at=DAY - timedelta(hours=2), agent=bob, caller=callers[1])
    make_call(qc, at=DAY + timedelta(hours=10, minutes=14), state=Call.State.QUEUED, client=client_x, caller="+336999")
    # Each record was last saved when its call ended, long before the folds.
    Call.objects.update(updated_at=F("offered_at"))

    def intervals(agent, *steps, since):
        at = since
        for state, minutes in steps:
            ended = None if minutes is None else at + timedelta(minutes=minutes)
            PresenceInterval.objects.create(agent=agent, state=state, started_at=at, ended_at=ended)
            at = ended

    # Alice: available from before midnight, across 08:00 and 08:30, …, on a call since 10:05.
    intervals(
        alice,
        ("available", 8 * 60 + 40 + 60), ("on_call", 25), ("wrap_up", 2), ("break", 20), ("available", 38),
        ("reserved", 1), ("on_call", None),
        since=DAY - timedelta(hours=1),
    )  # fmt: skip
    # Bob: available at 09:00 across 09:30, ringing, talking, wrapping up across 10:00, available.
    intervals(
        bob, ("available", 31), ("reserved", 1), ("on_call", 26), ("wrap_up", 4), ("available", None),
        since=DAY + timedelta(hours=9),
    )  # fmt: skip
    return {"queues": [q.pk for q in queues], "agents": [alice.pk, bob.pk], "qa": qa, "alice": alice}


def figures(floor) -> dict:
    queue_ids, agent_ids = floor["queues"], floor["agents"]
    return {
        "queues": kpis.queue_period(queue_ids, start=START, end=END),
        "half_hours": kpis.half_hours(queue_ids, start=START, end=END),
        "occupancy": kpis.occupancy(agent_ids, start=START, end=END),
        "agents": kpis.agent_period(agent_ids, start=START, end=END),
        "fcr": kpis.fcr_period(queue_ids, start=START, end=END),
        "floor": kpis.floor_today(queue_ids, agent_ids),
    }


def from_records(floor) -> dict:
    """The same figures with no roll-up at all: counted from the call and presence records."""
    with transaction.atomic():
        KpiSlot.objects.all().delete()
        RepeatContact.objects.all().delete()
        result = figures(floor)
        transaction.set_rollback(True)
    return result


def plan():
    return kpis._plan(start=START, end=END, now=timezone.now())


def test_the_rolled_up_day_gives_the_records_answers_with_the_open_half_hour_live(floor, clock):
    expected = from_records(floor)
    assert kpis.rollup_refresh(days=1) == 48  # the last 24 hours: today so far, and the end of yesterday
    # Every closed half-hour is read from the roll-ups; only 10:00–10:15 from the records.
    assert plan().boundary == plan().presence_boundary == DAY + timedelta(hours=10)
    assert figures(floor) == expected
    # The records' answers are not trivial: the sample has every kind of call in it.
    queues = expected["queues"]
    assert sum(q["offered"] for q in queues.values()) == 64 + 1 + 1
    assert {q["service_level_pct"] is None for q in queues.values()} == {False}
    assert 0 < expected["fcr"]["resolved"] < expected["fcr"]["answered"]
    calls = Call.objects.filter(queue_id__in=floor["queues"], offered_at__gte=START, offered_at__lt=END)
    assert expected["fcr"] == kpis.first_contact_resolution(calls)
    assert expected["floor"]["half_hours"] == expected["half_hours"]
    assert None not in expected["occupancy"].values()
    # A second run has nothing to fold.
    assert kpis.rollup_refresh(days=1) == 0


def test_a_late_update_to_a_closed_half_hour_is_counted_then_folded_again(floor, clock):
    kpis.rollup_refresh(days=1)
    clock(DAY + timedelta(hours=10, minutes=20))
    # The 09:50 call ends; a call.offered of 08:10 arrives late; a 07:00 call is re-queued
    # elsewhere (an operator's correction): three folded half-hours are out of date.
    late = Call.objects.get(offered_at=DAY + timedelta(hours=9, minutes=50))
    late.state, late.talk_s, late.wrap_up_s = Call.State.COMPLETED, 300, 30
    late.save(update_fields=["state", "talk_s", "wrap_up_s", "updated_at"])
    make_call(floor["qa"], at=DAY + timedelta(hours=8, minutes=10), state=Call.State.ABANDONED, wait_s=2)
    moved = Call.objects.filter(offered_at__gte=DAY + timedelta(hours=7), direction="inbound").earliest("offered_at")
    moved.queue_id = floor["queues"][2]
    moved.save(update_fields=["queue", "updated_at"])
    assert plan().boundary == DAY + timedelta(hours=7)
    expected = from_records(floor)
    assert figures(floor) == expected
    # Not settled yet (saved less than FOLD_MARGIN ago): the beat leaves them to the records.
    assert kpis.rollup_refresh(days=1) == 0
    clock(DAY + timedelta(hours=10, minutes=25))
    assert kpis.rollup_refresh(days=1) == 3
    assert plan().boundary == DAY + timedelta(hours=10)
    assert figures(floor) == from_records(floor)  # five minutes later: occupancy moved on


def test_a_queue_whose_thresholds_changed_is_counted_from_the_records_until_folded_again(floor, clock):
    kpis.rollup_refresh(days=1)
    Queue.objects.filter(pk=floor["qa"].pk).update(service_level_threshold_s=5, short_abandon_threshold_s=1)
    expected = from_records(floor)
    assert figures(floor) == expected
    # Every half-hour with a call of that queue: 06:00 to 10:00, and 22:00 the day before.
    assert kpis.rollup_refresh(days=1) == 9
    assert not QueueSlotFigures.objects.exclude(service_level_threshold_s=F("queue__service_level_threshold_s"))
    assert figures(floor) == expected


def test_a_change_no_save_stamps_is_caught_by_the_hourly_fold(floor, clock):
    kpis.rollup_refresh(days=1)
    # A bulk fix with QuerySet.update() does not stamp updated_at: the roll-ups cannot see it…
    Call.objects.filter(offered_at__lt=DAY + timedelta(hours=8), state=Call.State.ABANDONED).update(wait_s=1)
    assert figures(floor)["queues"] != from_records(floor)["queues"]
    # …until the beat folds every half-hour again, an hour after its last fold.
    clock(DAY + timedelta(hours=11, minutes=16))
    assert kpis.rollup_refresh(days=1) == 48
    assert figures(floor) == from_records(floor)


def test_presence_across_half_hour_boundaries_is_clipped_to_each_half_hour(floor, clock):
    kpis.rollup_refresh(days=1)
    alice = floor["alice"]

    def minutes(slot_hour, slot_minute, field):
        row = AgentSlotPresence.objects.get(
            agent=alice, slot_start=DAY + timedelta(hours=slot_hour, minutes=slot_minute)
        )
        return getattr(row, field) / 60_000_000

    # Available from 23:00 the day before to 08:40: the whole of 08:00–08:30, 10 minutes of 08:30.
    assert (minutes(8, 0, "available_us"), minutes(8, 30, "available_us")) == (30, 10)
    # On a call 08:40–09:05: 20 minutes of 08:30, 5 of 09:00; the break (09:07–09:27) is kept apart.
    assert (minutes(8, 30, "on_call_us"), minutes(9, 0, "on_call_us"), minutes(9, 0, "break_us")) == (20, 5, 20)
    # Before midnight, in yesterday's half-hours: not in today's occupancy.
    assert minutes(-1, 30, "available_us") == 30
    assert figures(floor)["occupancy"] == from_records(floor)["occupancy"]


def test_presence_of_a_half_hour_closed_less_than_the_margin_ago_is_counted_from_the_records(floor, clock):
    clock(DAY + timedelta(hours=10, minutes=31))
    kpis.rollup_refresh(days=1)
    # 10:00–10:30 is rolled up for calls but not for presence: a change the PBX stamps a
    # little late (10:29) still lands in it.
    assert plan().presence_boundary == DAY + timedelta(hours=10)
    assert not KpiSlot.objects.get(start=DAY + timedelta(hours=10)).presence_folded
    PresenceInterval.objects.filter(agent=floor["alice"], ended_at__isnull=True).update(
        ended_at=DAY + timedelta(hours=10, minutes=29)
    )
    PresenceInterval.objects.create(
        agent=floor["alice"], state="wrap_up", started_at=DAY + timedelta(hours=10, minutes=29)
    )
    assert figures(floor) == from_records(floor)
    clock(DAY + timedelta(hours=10, minutes=33))
    assert kpis.rollup_refresh(days=1) == 1
    assert plan().presence_boundary == DAY + timedelta(hours=10, minutes=30)
    assert figures(floor) == from_records(floor)


def test_first_contact_resolution_counts_repeats_made_in_the_open_half_hour(floor, clock):
    kpis.rollup_refresh(days=1)
    before = kpis.fcr_period(floor["queues"], start=START, end=END)
    # The last caller of the morning (09:56, resolved until now) calls again at 10:14.
    make_call(floor["qa"], at=DAY + timedelta(hours=10, minutes=14), caller="+33610000005", state=Call.State.QUEUED)
    after = kpis.fcr_period(floor["queues"], start=START, end=END)
    assert after["resolved"] < before["resolved"]
    calls = Call.objects.filter(queue_id__in=floor["queues"], offered_at__gte=START, offered_at__lt=END)
    assert after == kpis.first_contact_resolution(calls) == from_records(floor)["fcr"]


def test_each_figure_is_one_query_and_reads_write_nothing(floor, clock, django_assert_num_queries):
    kpis.rollup_refresh(days=1)
    KpiSlot.objects.filter(start=DAY + timedelta(hours=7)).delete()  # a half-hour the beat has not folded yet
    before = {model: model.objects.count() for model in (KpiSlot, QueueSlotFigures, AgentSlotPresence, RepeatContact)}
    with django_assert_num_queries(5):
        figures = {
            "queues": kpis.queue_period(floor["queues"], start=START, end=END),
            "half_hours": kpis.half_hours(floor["queues"], start=START, end=END),
            "occupancy": kpis.occupancy(floor["agents"], start=START, end=END),
            "agents": kpis.agent_period(floor["agents"], start=START, end=END),
            "fcr": kpis.fcr_period(floor["queues"], start=START, end=END),
        }
    assert plan().boundary == DAY + timedelta(hours=7)
    assert before == {model: model.objects.count() for model in before}
    assert figures == {key: value for key, value in from_records(floor).items() if key != "floor"}


def test_the_wallboard_takes_the_same_queries_with_more_queues_and_agents(
    client, django_assert_max_num_queries, floor, clock, manager_mia, team_a
):
    client.force_login(manager_mia)
    url = reverse("calls:wallboard-data")
    kpis.rollup_refresh(days=1)
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    for i in range(5):
        queue = QueueFactory(name=f"More {i}", slug=f"more-{i}", teams=[team_a])
        agent = agent_with(team=team_a)
        for minutes in range(0, 600, 45):
            make_call(queue, at=DAY + timedelta(minutes=minutes), agent=agent)
        PresenceInterval.objects.create(agent=agent, state="available", started_at=DAY + timedelta(hours=8))
    Call.objects.update(updated_at=F("offered_at"))
    clock(DAY + timedelta(hours=10, minutes=20))
    kpis.rollup_refresh(days=1)
    assert plan().boundary == DAY + timedelta(hours=10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert len(response.json()["queues"]) == 3 + 5
