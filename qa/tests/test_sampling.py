"""The weekly sample: fair spread across QA analysts, no call sampled twice or already
reviewed, idempotent per week, registered with beat."""

import random
import threading
from collections import Counter
from datetime import date, timedelta

import pytest

from agents.tests.factories import AgentFactory, UserFactory
from qa import services
from qa.models import ReviewAssignment, SamplingRun
from qa.services.sampling import sampleable_calls
from qa.tests.factories import CallFactory, at_local, make_scorecard, submitted_review

pytestmark = pytest.mark.django_db

WEEK = date(2025, 3, 3)  # a Monday


def calls_for(agent, n, week=WEEK):
    return [CallFactory(agent=agent, offered_at=at_local(week + timedelta(days=i % 7), 9 + i % 8)) for i in range(n)]


@pytest.fixture
def analysts(db):
    return [UserFactory(username=f"qa{i}", roles=["qa_analyst"]) for i in range(3)]


def test_each_agent_gets_the_sample_size_and_analysts_differ_by_at_most_one(analysts, team_a):
    agents = [AgentFactory(team=team_a) for _ in range(5)]
    for agent in agents:
        calls_for(agent, 6)
    new = services.sample_assign_week(week_start=WEEK, per_agent=2, rng=random.Random(1))
    assert len(new) == 10
    per_agent = Counter(a.agent_id for a in ReviewAssignment.objects.all())
    assert per_agent == {agent.pk: 2 for agent in agents}
    per_analyst = Counter(a.analyst_id for a in ReviewAssignment.objects.all())
    assert set(per_analyst) == {a.pk for a in analysts}
    assert max(per_analyst.values()) - min(per_analyst.values()) <= 1
    # An agent's two calls go to two different analysts when there are enough of them.
    for agent in agents:
        assert ReviewAssignment.objects.filter(agent=agent).values("analyst").distinct().count() == 2


@pytest.mark.parametrize("seed", range(5))
def test_fair_whatever_the_draw(analysts, team_a, seed):
    for n_calls in (1, 2, 3, 5, 8, 13, 4):
        calls_for(AgentFactory(team=team_a), n_calls)
    services.sample_assign_week(week_start=WEEK, per_agent=3, rng=random.Random(seed))
    per_analyst = Counter(ReviewAssignment.objects.values_list("analyst_id", flat=True))
    # 1 + 2 + 3×5 = 18 calls for 3 analysts: 6 each.
    assert sum(per_analyst.values()) == 18
    assert max(per_analyst.values()) - min(per_analyst.values()) <= 1


def test_no_double_sampling_and_reviewed_calls_are_skipped(analysts, agent_alice, qa_quinn):
    make_scorecard()
    calls = calls_for(agent_alice, 4)
    reviewed = calls[:2]
    for call in reviewed:
        submitted_review(reviewer=qa_quinn, call=call)
    services.sample_assign_week(week_start=WEEK, per_agent=3, rng=random.Random(2))
    sampled = set(ReviewAssignment.objects.values_list("call_id", flat=True))
    assert sampled == {calls[2].pk, calls[3].pk}
    assert not sampled & {c.pk for c in reviewed}


def test_running_twice_assigns_nothing_new(analysts, agent_alice, agent_bob):
    calls_for(agent_alice, 5)
    calls_for(agent_bob, 5)
    first = services.sample_assign_week(week_start=WEEK, per_agent=2)
    assert len(first) == 4
    assert services.sample_assign_week(week_start=WEEK, per_agent=2) == []
    assert ReviewAssignment.objects.count() == 4
    assert SamplingRun.objects.get(week_start=WEEK).assigned_count == 4
    # A bigger sample size tops up each agent to it, with calls not sampled yet.
    assert services.sample_assign_week(week_start=WEEK + timedelta(days=3), per_agent=3) != []
    assert Counter(ReviewAssignment.objects.values_list("agent_id", flat=True)) == {agent_alice.pk: 3, agent_bob.pk: 3}
    assert len(set(ReviewAssignment.objects.values_list("call_id", flat=True))) == 6


def test_only_the_weeks_completed_calls_of_active_agents(analysts, agent_alice, agent_bob):
    calls_for(agent_alice, 2, week=WEEK - timedelta(weeks=1))  # the week before
    calls_for(agent_alice, 1, week=WEEK + timedelta(weeks=1))  # the week after
    CallFactory(agent=agent_alice, offered_at=at_local(WEEK), state="wrap_up")  # not over
    mine = calls_for(agent_alice, 1)
    agent_bob.employment_status = "left"
    agent_bob.save(update_fields=["employment_status"])
    calls_for(agent_bob, 2)
    assert list(sampleable_calls(week_start=WEEK)) == mine
    services.sample_assign_week(week_start=WEEK, per_agent=5)
    assert list(ReviewAssignment.objects.values_list("call_id", flat=True)) == [mine[0].pk]


def test_no_analyst_no_sample(agent_alice):
    calls_for(agent_alice, 3)
    assert services.sample_assign_week(week_start=WEEK, per_agent=2) == []


def test_the_setting_gives_the_sample_size(analysts, agent_alice, settings):
    settings.QA_SAMPLE_PER_AGENT = 4
    calls_for(agent_alice, 6)
    assert len(services.sample_assign_week(week_start=WEEK)) == 4


def test_starting_a_review_of_a_sampled_call_ticks_the_assignment(analysts, agent_alice):
    make_scorecard()
    calls_for(agent_alice, 1)
    services.sample_assign_week(week_start=WEEK, per_agent=1)
    assignment = ReviewAssignment.objects.get()
    review = services.review_start(reviewer=assignment.analyst, call_id=assignment.call_id)
    assignment.refresh_from_db()
    assert assignment.review == review


def test_the_beat_task_samples_last_week(analysts, agent_alice, monkeypatch):
    from django_celery_beat.models import PeriodicTask

    from qa import tasks

    task = PeriodicTask.objects.get(name="qa: weekly sample")
    assert task.task == "qa.tasks.assign_weekly_sample"
    assert (task.crontab.day_of_week, task.crontab.hour) == ("1", "5")
    calls_for(agent_alice, 3)
    assert tasks.assign_weekly_sample.delay(WEEK.isoformat()).get() == 2
    monkeypatch.setattr("django.utils.timezone.localdate", lambda: WEEK + timedelta(days=7))
    assert tasks.assign_weekly_sample.delay().get() == 0  # same week again: nothing new


def test_every_qa_periodic_task_is_a_registered_task(db):
    from django_celery_beat.models import PeriodicTask

    from contactcenter.celery import app

    names = set(PeriodicTask.objects.filter(name__startswith="qa:").values_list("task", flat=True))
    assert names == {
        "qa.tasks.assign_weekly_sample",
        "qa.tasks.open_period_evaluations",
        "qa.tasks.recheck_self_reports",
    }
    app.loader.import_default_modules()
    assert names <= set(app.tasks)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_runs_never_sample_a_call_twice(require_postgres):
    analysts = [UserFactory(username=f"cqa{i}", roles=["qa_analyst"]) for i in range(2)]
    agents = [AgentFactory() for _ in range(4)]
    for agent in agents:
        calls_for(agent, 5)
    barrier = threading.Barrier(2)
    errors = []

    def run():
        from django.db import connection

        try:
            barrier.wait()
            services.sample_assign_week(week_start=WEEK, per_agent=2)
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ReviewAssignment.objects.count() == 8
    assert Counter(ReviewAssignment.objects.values_list("analyst_id", flat=True)) == {a.pk: 4 for a in analysts}
