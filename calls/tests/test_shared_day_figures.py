"""The wallboard's day figures, shared for a few seconds by the pages of one scope
(calls.selectors.SharedDayFigures), while the live figures stay live."""

import threading
from datetime import datetime

import pytest
from django.urls import reverse

from calls import selectors
from calls.tests.factories import offer

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(selectors.day_figures, "clock", clock)
    return clock


def _queue(data, name):
    return next(q for q in data["queues"] if q["name"] == name)


def test_a_page_gets_the_shared_day_figures_until_they_are_counted_anew(
    client, two_team_floor, manager_mia, settings, clock
):
    settings.CALLS_DAY_FIGURES_MAX_AGE_S = 5
    client.force_login(manager_mia)
    url = reverse("calls:wallboard-data")
    first = client.get(url).json()
    assert _queue(first, "Queue A")["offered"] == 1 and first["figures_max_age_s"] == 5

    offer(two_team_floor["queue_a"], caller="+33600000033")  # Alice is reserved: it waits
    clock.now += 4.9
    shared = client.get(url).json()
    assert shared["figures_at"] == first["figures_at"]
    assert _queue(shared, "Queue A")["offered"] == 1  # the day's figures: as counted
    assert _queue(shared, "Queue A")["waiting"] == 1  # the live ones: live

    clock.now += 0.2
    fresh = client.get(url).json()
    assert _queue(fresh, "Queue A")["offered"] == 2
    assert datetime.fromisoformat(fresh["figures_at"]) > datetime.fromisoformat(first["figures_at"])


def test_with_no_sharing_every_read_counts(client, two_team_floor, manager_mia, settings, clock):
    settings.CALLS_DAY_FIGURES_MAX_AGE_S = 0
    client.force_login(manager_mia)
    url = reverse("calls:wallboard-data")
    assert _queue(client.get(url).json(), "Queue A")["offered"] == 1
    offer(two_team_floor["queue_a"], caller="+33600000033")
    assert _queue(client.get(url).json(), "Queue A")["offered"] == 2


def test_each_scope_has_its_own_figures(
    client, two_team_floor, supervisor_sam, supervisor_sue, manager_mia, settings, clock
):
    settings.CALLS_DAY_FIGURES_MAX_AGE_S = 60
    url = reverse("calls:wallboard-data")
    client.force_login(manager_mia)
    everyone = client.get(url).json()
    assert {q["name"] for q in everyone["queues"]} == {"Queue A", "Queue B"}
    client.force_login(supervisor_sam)
    sam = client.get(url).json()
    client.force_login(supervisor_sue)
    sue = client.get(url).json()
    assert [q["name"] for q in sam["queues"]] == ["Queue A"] and [a["id"] for a in sam["agents"]] == [
        two_team_floor["alice"].pk
    ]
    assert [q["name"] for q in sue["queues"]] == ["Queue B"] and [a["id"] for a in sue["agents"]] == [
        two_team_floor["bob"].pk
    ]
    assert sue["half_hours"] != [] and sum(slot["offered"] for slot in sue["half_hours"]) == 1


def test_an_explicit_time_is_never_served_shared_figures(two_team_floor, manager_mia, settings, clock):
    settings.CALLS_DAY_FIGURES_MAX_AGE_S = 60
    selectors.wallboard_for_user(user=manager_mia)
    offer(two_team_floor["queue_a"], caller="+33600000033")
    data = selectors.wallboard_for_user(user=manager_mia, now=selectors.timezone.now())
    assert _queue(data, "Queue A")["offered"] == 2


def test_while_one_reader_counts_the_others_get_the_last_figures_at_once(monkeypatch, settings):
    settings.CALLS_DAY_FIGURES_MAX_AGE_S = 5
    shared = selectors.SharedDayFigures(clock=Clock())
    counting, release = threading.Event(), threading.Event()
    counts = []

    def floor_today(queue_ids, agent_ids, *, now=None):
        counts.append(now)
        if len(counts) == 2:  # the second count takes its time
            counting.set()
            assert release.wait(10)
        return {"count": len(counts)}

    monkeypatch.setattr(selectors.kpis, "floor_today", floor_today)
    day = datetime(2026, 11, 23)
    assert shared.get([1], [2], day=day)[1] == {"count": 1}
    shared.clock.now += 6
    results = []
    counter = threading.Thread(target=lambda: results.append(shared.get([1], [2], day=day)[1]))
    counter.start()
    assert counting.wait(10)
    # Another page of the same scope meanwhile: the last figures, without waiting or counting.
    assert shared.get([1], [2], day=day)[1] == {"count": 1}
    release.set()
    counter.join(10)
    assert results == [{"count": 2}] and len(counts) == 2
    assert shared.get([1], [2], day=day)[1] == {"count": 2}  # fresh now: not counted again
    assert len(counts) == 2
