"""Two supervisors approving at the same moment, on PostgreSQL with real threads."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection

from agents.tests.factories import AgentFactory, UserFactory
from contactcenter.errors import ApplicationError
from scheduling import services, staffing
from scheduling.models import DayOffRequest, Shift
from scheduling.tests.factories import QueueFactory, add_calls, local, make_request, make_shift, next_monday

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(*calls):
    """Run the callables in threads released at once; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 -- reported to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_days_off_that_are_fine_alone_do_not_both_pass(require_postgres, settings, monkeypatch):
    settings.SCHEDULING_SHRINKAGE = 0.30
    settings.SCHEDULING_MAX_OCCUPANCY = 0.85
    week = next_monday(2)
    queue = QueueFactory()
    # 3 calls at 10:00 handled in 300 s: 0.5 Erlang, 2 agents, 3 people required.
    for k in range(1, 5):
        add_calls(queue, local(week - timedelta(weeks=k), 10, 5), offered=3, answered=3, handle_s=300)
    boss_a = UserFactory(username="boss_a", roles=["supervisor"])
    boss_b = UserFactory(username="boss_b", roles=["supervisor"])
    agents = [AgentFactory() for _ in range(4)]  # 4 scheduled: one may go, not two
    for agent in agents:
        make_shift(agent, week, 9, 17)
    first, second = agents[0], agents[1]
    first.supervisor, second.supervisor = boss_a, boss_b
    first.save(update_fields=["supervisor"])
    second.save(update_fields=["supervisor"])
    r1 = make_request(first, week, [week])
    r2 = make_request(second, week, [week])
    # Widen the window between reading the staffing and committing, so that without the
    # day's lock both approvals would read four agents on shift.
    read_staffing = staffing.dayoff_impact

    def slow_read(requests):
        result = read_staffing(requests)
        time.sleep(0.5)
        return result

    monkeypatch.setattr(staffing, "dayoff_impact", slow_read)

    results = run_together(
        lambda: services.dayoff_approve(request=r1, by=boss_a),
        lambda: services.dayoff_approve(request=r2, by=boss_b),
    )
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(refused) == 1, results
    assert refused[0].code == "override_required"
    states = sorted(DayOffRequest.objects.values_list("state", flat=True))
    assert states == ["approved", "pending"]
    assert Shift.objects.filter(date=week, state="scheduled").count() == 3


def test_one_shift_taken_by_two_colleagues_at_once_goes_to_one(require_postgres, team_a):
    day = next_monday(1) + timedelta(days=3)
    owner, taker1, taker2 = (AgentFactory(team=team_a) for _ in range(3))
    shift = make_shift(owner, day, 9, 17)
    swap = services.swap_offer(shift=shift, by=owner.user)
    results = run_together(
        lambda: services.swap_take(swap=swap, by=taker1.user),
        lambda: services.swap_take(swap=swap, by=taker2.user),
    )
    assert sum(isinstance(r, ApplicationError) for r in results) == 1, results
    swap.refresh_from_db()
    assert swap.state == "taken" and swap.taken_by in (taker1, taker2)
