"""Coverage on hand-built cases: the requirement of a known forecast (the published
100 calls / 180 s / 80 in 20 s example), who counts as scheduled, and the service level
and ASA expected from the agents actually scheduled."""

from datetime import timedelta

import pytest

from agents.tests.factories import AgentFactory, LanguageFactory, SkillFactory, TeamFactory
from scheduling import staffing
from scheduling.tests.factories import QueueFactory, add_calls, give_skill, local, make_shift, next_monday

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def planning_settings(settings):
    settings.SCHEDULING_SHRINKAGE = 0.30
    settings.SCHEDULING_MAX_OCCUPANCY = 0.85


@pytest.fixture
def day():
    return next_monday(1) + timedelta(days=1)


@pytest.fixture
def queue(day):
    """100 calls at 10:00 on this weekday for four weeks, all handled in 180 s."""
    queue = QueueFactory(service_level_threshold_s=20, service_level_target_pct=80, target_aht_s=300)
    for k in range(1, 5):
        add_calls(queue, local(day - timedelta(weeks=k), 10, 5), offered=100, answered=100, handle_s=180)
    return queue


def row_at(plan, queue, day, label):
    return next(r for r in plan.intervals(queue.pk, day) if r.label == label)


def test_requirement_of_the_published_example(queue, day):
    plan = staffing.StaffingPlan(days=[day], queues=[queue])
    ten = row_at(plan, queue, day, "10:00")
    assert ten.calls == pytest.approx(100)
    assert ten.aht_s == pytest.approx(180)
    assert ten.traffic == pytest.approx(10.0)
    assert (ten.required_agents, ten.required) == (14, 20)
    quiet = row_at(plan, queue, day, "08:00")
    assert (quiet.required_agents, quiet.required) == (0, 0)


def test_scheduled_agents_and_the_gap(queue, day):
    agents = [AgentFactory() for _ in range(3)]
    for agent in agents:
        make_shift(agent, day, 8, 16)
    plan = staffing.StaffingPlan(days=[day], queues=[queue])
    ten = row_at(plan, queue, day, "10:00")
    assert (ten.scheduled, ten.gap) == (3, -17)
    # 3 people are 2 productive agents (30 % shrinkage) against 10 Erlangs: unstable.
    assert not ten.stable and ten.service_level is None and ten.asa_s is None
    eight = row_at(plan, queue, day, "08:00")
    assert (eight.required, eight.scheduled, eight.gap) == (0, 3, 3)
    assert row_at(plan, queue, day, "16:00").scheduled == 0


def test_expected_service_level_of_the_agents_scheduled(queue, day):
    for _ in range(20):
        make_shift(AgentFactory(), day, 9, 17)
    ten = row_at(staffing.StaffingPlan(days=[day], queues=[queue]), queue, day, "10:00")
    # 20 people = 14 productive agents: the published 88.8 % and 7.8 s.
    assert ten.gap == 0
    assert ten.service_level == pytest.approx(0.888, abs=5e-4)
    assert ten.asa_s == pytest.approx(7.8, abs=0.05)


def test_only_agents_who_can_take_the_queue_count(day):
    billing = SkillFactory(name="Billing")
    english = LanguageFactory(code="en", name="English")
    serving, other = TeamFactory(name="Serving"), TeamFactory(name="Other")
    queue = QueueFactory(required_skill=billing, required_language=english, teams=[serving])
    able = AgentFactory(team=serving, languages=["fr", "en"])
    give_skill(able, billing)
    no_skill = AgentFactory(team=serving, languages=["en"])
    no_language = AgentFactory(team=serving, languages=["fr"])
    give_skill(no_language, billing)
    wrong_team = AgentFactory(team=other, languages=["en"])
    give_skill(wrong_team, billing)
    left = AgentFactory(team=serving, languages=["en"], employment_status="left")
    give_skill(left, billing)
    for agent in (able, no_skill, no_language, wrong_team, left):
        make_shift(agent, day, 9, 17)
    plan = staffing.StaffingPlan(days=[day], queues=[queue])
    assert plan.scheduled_agents(queue.pk, local(day, 10)) == {able.pk}


def test_a_shift_counts_in_a_half_hour_it_covers_for_at_least_15_minutes(queue, day):
    half, short = AgentFactory(), AgentFactory()
    make_shift(half, day, 9, 17)
    from scheduling.models import Shift

    Shift.objects.filter(agent=half).update(start_at=local(day, 9, 15), end_at=local(day, 10, 15))
    Shift.objects.create(agent=short, date=day, start_at=local(day, 9, 20), end_at=local(day, 10, 10))
    plan = staffing.StaffingPlan(days=[day], queues=[queue])
    assert plan.scheduled_agents(queue.pk, local(day, 9, 0)) == {half.pk}  # 15 min vs 10 min
    assert plan.scheduled_agents(queue.pk, local(day, 9, 30)) == {half.pk, short.pk}
    assert plan.scheduled_agents(queue.pk, local(day, 10, 0)) == {half.pk}  # 15 min vs 10 min


def test_released_shifts_do_not_count(queue, day):
    shift = make_shift(AgentFactory(), day, 9, 17)
    shift.state = "released"
    shift.save(update_fields=["state"])
    assert row_at(staffing.StaffingPlan(days=[day], queues=[queue]), queue, day, "10:00").scheduled == 0


def test_a_night_shift_counts_on_both_days(queue, day):
    agent = AgentFactory()
    make_shift(agent, day, 22, 6)
    plan = staffing.StaffingPlan(days=[day, day + timedelta(days=1)], queues=[queue])
    assert row_at(plan, queue, day, "23:30").scheduled == 1
    assert row_at(plan, queue, day + timedelta(days=1), "05:30").scheduled == 1
    assert row_at(plan, queue, day + timedelta(days=1), "06:00").scheduled == 0


def test_dayoff_impact_per_requested_day(queue, day, agent_alice, agent_arthur):
    from scheduling.tests.factories import make_request

    make_shift(agent_alice, day, 8, 16)
    make_shift(agent_arthur, day, 8, 16)
    request = make_request(agent_alice, day - timedelta(days=day.weekday()), [day, day + timedelta(days=1)])
    impacts = staffing.dayoff_impact([request])[request.pk]
    first, second = impacts
    assert first.shifts == 1 and first.needs_override
    worst = first.worst
    assert (worst.label, worst.required, worst.before, worst.after) == ("10:00", 20, 2, 1)
    assert {r.label for r in first.under} == {"10:00"}  # only the busy half-hour
    assert second.shifts == 0 and second.rows == [] and not second.needs_override
