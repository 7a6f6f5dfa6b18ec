"""The pages: who may open each, what they show, and the forms behind them."""

from datetime import timedelta

import pytest
from django.urls import reverse

from scheduling import periods
from scheduling.models import DayOffRequest, Shift
from scheduling.tests.factories import (
    AgentFactory,
    QueueFactory,
    ShiftTemplateFactory,
    add_calls,
    local,
    make_request,
    make_shift,
    next_monday,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def week():
    return next_monday(2)


def login(client, who):
    client.force_login(getattr(who, "user", who))
    return client


@pytest.mark.parametrize(
    ("name", "allowed", "refused"),
    [
        ("scheduling:my-schedule", ["agent_alice"], ["supervisor_sam", "hr_hana", "manager_mia", "qa_quinn"]),
        ("scheduling:approvals", ["supervisor_sam", "manager_mia"], ["agent_alice", "hr_hana", "trainer_tom"]),
        (
            "scheduling:coverage",
            ["supervisor_sam", "manager_mia", "hr_hana"],
            ["agent_alice", "trainer_tom", "qa_quinn"],
        ),
        ("scheduling:team-week", ["supervisor_sam", "manager_mia"], ["agent_alice", "hr_hana"]),
        ("scheduling:adherence", ["supervisor_sam", "manager_mia", "hr_hana"], ["agent_alice", "trainer_tom"]),
    ],
)
def test_who_opens_each_page(request, client, name, allowed, refused):
    for who in allowed:
        login(client, request.getfixturevalue(who))
        assert client.get(reverse(name)).status_code == 200, who
    for who in refused:
        login(client, request.getfixturevalue(who))
        assert client.get(reverse(name)).status_code == 403, who
    client.logout()
    assert client.get(reverse(name)).status_code == 302


def test_agent_page_shows_their_week_and_not_a_colleagues(client, agent_alice, agent_arthur, week):
    make_shift(agent_alice, week, 6, 14, breaks=[(local(week, 10), local(week, 10, 15))])
    make_shift(agent_arthur, week, 22, 6)
    make_shift(agent_alice, week + timedelta(days=1), 9, 17, published=False)
    login(client, agent_alice)
    page = client.get(reverse("scheduling:my-schedule"), {"week": week.isoformat()}).content.decode()
    assert "06:00–14:00" in page and "10:00–10:15" in page
    assert "22:00–06:00" not in page  # Arthur's
    assert "09:00–17:00" not in page  # a draft
    assert "Ask for days off" in page


def test_agent_files_a_request_through_the_form(client, agent_alice, week):
    login(client, agent_alice)
    response = client.post(
        reverse("scheduling:dayoff-submit"),
        {"week_start": week.isoformat(), "days": [week.isoformat(), (week + timedelta(days=2)).isoformat()]},
        follow=True,
    )
    assert response.status_code == 200
    request = DayOffRequest.objects.get(agent=agent_alice)
    assert [d.date for d in request.days.all()] == [week, week + timedelta(days=2)]
    assert "Your request is filed" in response.content.decode()


def test_the_form_refuses_a_past_week_with_a_message(client, agent_alice):
    past = periods.monday_of(periods.local_today()) - timedelta(weeks=1)
    login(client, agent_alice)
    response = client.post(
        reverse("scheduling:dayoff-submit"), {"week_start": past.isoformat(), "days": [past.isoformat()]}, follow=True
    )
    assert "has started or is past" in response.content.decode()
    assert not DayOffRequest.objects.exists()
    garbage = client.post(reverse("scheduling:dayoff-submit"), {"week_start": "soon"}, follow=True)
    assert garbage.status_code == 200 and "Choose a week" in garbage.content.decode()


def test_approval_page_shows_the_staffing_impact_and_needs_the_override(
    client, supervisor_sam, agent_alice, agent_arthur, week
):
    queue = QueueFactory(name="Billing")
    for k in range(1, 5):
        add_calls(queue, local(week - timedelta(weeks=k), 10, 5), offered=100, answered=100, handle_s=180)
    make_shift(agent_alice, week, 9, 17)
    make_shift(agent_arthur, week, 9, 17)
    request = make_request(agent_alice, week, [week, week + timedelta(days=1)])
    login(client, supervisor_sam)
    page = client.get(reverse("scheduling:approvals")).content.decode()
    assert "Approve with override" in page
    assert "10:00 (Billing)" in page  # the tightest half-hour of the requested day
    assert "no shift: no impact" in page  # the second day
    response = client.post(
        reverse("scheduling:dayoff-decide", args=[request.pk, "approve"]), {"comment": ""}, follow=True
    )
    assert "give an override reason" in response.content.decode()
    assert DayOffRequest.objects.get(pk=request.pk).state == "pending"
    client.post(
        reverse("scheduling:dayoff-decide", args=[request.pk, "approve"]),
        {"override_reason": "Sick child"},
        follow=True,
    )
    assert DayOffRequest.objects.get(pk=request.pk).state == "approved"
    assert Shift.objects.get(agent=agent_alice).state == "released"


def test_approval_page_lists_only_the_supervisors_agents(client, supervisor_sam, agent_alice, agent_bob, week):
    make_request(agent_alice, week, [week])
    bobs = make_request(agent_bob, week, [week])
    login(client, supervisor_sam)
    page = client.get(reverse("scheduling:approvals")).content.decode()
    assert agent_alice.user.get_full_name() in page
    assert agent_bob.user.get_full_name() not in page
    assert (
        client.post(reverse("scheduling:dayoff-decide", args=[bobs.pk, "reject"]), {"comment": "x"}).status_code == 404
    )


def test_approval_page_has_no_n_plus_one(client, supervisor_sam, team_a, week, django_assert_max_num_queries):
    QueueFactory()
    for _ in range(2):
        agent = AgentFactory(team=team_a)
        make_shift(agent, week, 9, 17)
        make_request(agent, week, [week, week + timedelta(days=1)])
    login(client, supervisor_sam)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("scheduling:approvals"))
    for _ in range(6):
        agent = AgentFactory(team=team_a)
        make_shift(agent, week, 9, 17)
        make_request(agent, week, [week, week + timedelta(days=1)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("scheduling:approvals"))
    assert response.content.decode().count('class="request') == 8


def test_coverage_heat_map_week_and_day(client, supervisor_sam, agent_alice, team_a, week, settings):
    settings.SCHEDULING_SHRINKAGE = 0.30
    settings.SCHEDULING_MAX_OCCUPANCY = 0.85
    queue = QueueFactory(name="Billing", teams=[team_a])
    for k in range(1, 5):
        add_calls(queue, local(week - timedelta(weeks=k), 10, 5), offered=100, answered=100, handle_s=180)
    make_shift(agent_alice, week, 6, 14)
    login(client, supervisor_sam)
    page = client.get(reverse("scheduling:coverage"), {"queue": queue.pk, "week": week.isoformat()}).content.decode()
    assert 'class="heatmap"' in page
    assert '<td class="cov-under-strong" title="required 20, scheduled 1">-19' in page  # Monday 10:00
    assert '<td class="cov-over" title="required 0, scheduled 1">+1' not in page  # +1 is within the margin
    assert 'class="cov-ok" title="required 0, scheduled 1">+1' in page  # Monday 06:00
    assert 'class="cov-none"' in page
    day = client.get(
        reverse("scheduling:coverage"), {"queue": queue.pk, "view": "day", "date": week.isoformat()}
    ).content.decode()
    assert "unstable" in day
    assert "Expected service level" in day


def test_coverage_shows_only_the_supervisors_queues(client, supervisor_sam, team_a, team_b):
    QueueFactory(name="Ours", teams=[team_a])
    QueueFactory(name="Theirs", teams=[team_b])
    login(client, supervisor_sam)
    page = client.get(reverse("scheduling:coverage")).content.decode()
    assert "Ours" in page and "Theirs" not in page


def test_team_week_plans_and_publishes(client, supervisor_sam, agent_alice, agent_bob, week):
    template = ShiftTemplateFactory(name="Early")
    login(client, supervisor_sam)
    page = client.get(reverse("scheduling:team-week"), {"week": week.isoformat()}).content.decode()
    assert agent_alice.user.get_full_name() in page and agent_bob.user.get_full_name() not in page
    client.post(
        reverse("scheduling:team-shift-create"),
        {"agent": agent_alice.pk, "date": week.isoformat(), "template": template.pk},
    )
    client.post(
        reverse("scheduling:team-shift-create"),
        {"agent": agent_bob.pk, "date": week.isoformat(), "template": template.pk},
    )
    assert list(Shift.objects.values_list("agent__user__username", "is_published")) == [("alice", False)]
    client.post(reverse("scheduling:team-publish"), {"week": week.isoformat()})
    assert Shift.objects.get().is_published


def test_adherence_page_lists_the_team(client, supervisor_sam, agent_alice, agent_bob):
    day = next_monday(-1)
    make_shift(agent_alice, day, 9, 17)
    login(client, supervisor_sam)
    page = client.get(reverse("scheduling:adherence"), {"date": day.isoformat()}).content.decode()
    assert agent_alice.user.get_full_name() in page and agent_bob.user.get_full_name() not in page
    assert "0.0 %" in page  # scheduled, never logged in


def test_agent_offers_and_a_colleague_takes_through_the_page(client, agent_alice, agent_arthur, week):
    shift = make_shift(agent_alice, week, 9, 17)
    login(client, agent_alice)
    client.post(reverse("scheduling:swap-offer", args=[shift.pk]), {"note": "Dentist"})
    login(client, agent_arthur)
    page = client.get(reverse("scheduling:my-schedule")).content.decode()
    assert "Take this shift" in page and "Dentist" in page
    swap = shift.swaps.get()
    client.post(reverse("scheduling:swap-action", args=[swap.pk, "take"]))
    swap.refresh_from_db()
    assert swap.state == "taken" and swap.taken_by == agent_arthur


def test_pages_speak_french(client, agent_alice, supervisor_sam, week, settings):
    request = make_request(agent_alice, week, [week])
    login(client, supervisor_sam)
    page = client.get(reverse("scheduling:approvals"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Demandes de repos à décider" in page and "Accepter" in page
    from scheduling import services

    services.dayoff_reject(request=request, by=supervisor_sam, comment="Semaine chargée")
    login(client, agent_alice)
    page = client.get(reverse("scheduling:my-schedule"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Mon planning" in page
    assert "est refusée : Semaine chargée" in page  # the notification, in the reader's language
