"""Adherence on hand-built days with known answers."""

from datetime import timedelta

import pytest

from scheduling import adherence
from scheduling.tests.factories import AgentFactory, local, make_shift, next_monday, presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def day():
    return next_monday(-1) + timedelta(days=1)  # a Tuesday last week: the whole day is past


@pytest.fixture
def agent():
    return AgentFactory()


def test_a_day_with_late_start_long_break_and_overtime(agent, day):
    # Scheduled 09:00-17:00 with a break 12:00-12:30.
    make_shift(agent, day, 9, 17, breaks=[(local(day, 12), local(day, 12, 30))])
    presence(agent, "offline", local(day, 0), local(day, 9, 10))  # 10 minutes late
    presence(agent, "available", local(day, 9, 10), local(day, 10))
    presence(agent, "on_call", local(day, 10), local(day, 10, 20))
    presence(agent, "wrap_up", local(day, 10, 20), local(day, 10, 25))
    presence(agent, "available", local(day, 10, 25), local(day, 12))
    presence(agent, "break", local(day, 12), local(day, 12, 40), reason="lunch")  # 10 minutes over
    presence(agent, "available", local(day, 12, 40), local(day, 17, 20))  # 20 minutes after the shift
    presence(agent, "offline", local(day, 17, 20), None)

    result = adherence.adherence_for_agents([agent.pk], day)[agent.pk]
    # Counted: the 8 scheduled hours plus 20 minutes logged in off shift = 500 minutes;
    # out of adherence: 10 + 10 + 20 = 40 minutes.
    assert result.scheduled_s == 8 * 3600
    assert result.counted_s == 500 * 60
    assert result.in_adherence_s == 460 * 60
    assert result.percent == pytest.approx(92.0)
    assert [(o.start, o.end, o.expected, o.state) for o in result.out] == [
        (local(day, 9), local(day, 9, 10), "work", "offline"),
        (local(day, 12, 30), local(day, 12, 40), "work", "break"),
        (local(day, 17), local(day, 17, 20), "off", "available"),
    ]


def test_working_through_a_scheduled_break_is_out_of_adherence(agent, day):
    make_shift(agent, day, 9, 13, breaks=[(local(day, 11), local(day, 11, 15))])
    presence(agent, "available", local(day, 9), local(day, 13))
    result = adherence.adherence_for_agents([agent.pk], day)[agent.pk]
    assert result.percent == pytest.approx(100 * (4 * 60 - 15) / (4 * 60))
    assert [(o.expected, o.state) for o in result.out] == [("break", "available")]


def test_no_presence_at_all_on_a_scheduled_day_is_zero(agent, day):
    make_shift(agent, day, 9, 17)
    result = adherence.adherence_for_agents([agent.pk], day)[agent.pk]
    assert result.percent == 0.0
    assert [(o.start, o.end, o.state) for o in result.out] == [(local(day, 9), local(day, 17), "offline")]


def test_a_day_off_offline_has_no_figure(agent, day):
    presence(agent, "offline", local(day - timedelta(days=1), 18), None)
    result = adherence.adherence_for_agents([agent.pk], day)[agent.pk]
    assert result.percent is None and result.out == []


def test_draft_and_released_shifts_are_not_the_schedule(agent, day):
    make_shift(agent, day, 9, 17, published=False)
    released = make_shift(agent, day, 18, 20)
    released.state = "released"
    released.save(update_fields=["state"])
    presence(agent, "available", local(day, 9), local(day, 10))
    result = adherence.adherence_for_agents([agent.pk], day)[agent.pk]
    # Logged in for an hour with nothing published: that hour is out of adherence.
    assert result.percent == 0.0
    assert [(o.expected, o.state) for o in result.out] == [("off", "available")]


def test_today_counts_only_up_to_now(agent, day):
    start = local(day, 8)
    result = adherence.compute(
        agent_id=agent.pk,
        day=day,
        window=(local(day, 0), local(day + timedelta(days=1), 0)),
        shifts=[(start, start + timedelta(hours=8), [])],
        presence=[(start, None, "available")],
        now=start + timedelta(hours=2),
    )
    assert (result.counted_s, result.scheduled_s, result.percent) == (2 * 3600, 2 * 3600, 100.0)


def test_adherence_for_many_agents_is_three_queries(day, django_assert_num_queries):
    agents = [AgentFactory() for _ in range(4)]
    for agent in agents:
        make_shift(agent, day, 9, 17, breaks=[(local(day, 12), local(day, 12, 30))])
        presence(agent, "available", local(day, 9), local(day, 17))
    with django_assert_num_queries(3):
        results = adherence.adherence_for_agents([a.pk for a in agents], day)
    assert {round(r.percent, 2) for r in results.values()} == {round(100 * 450 / 480, 2)}
