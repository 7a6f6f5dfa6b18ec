"""The scheduling API: every access rule, bad input, and no N+1 on the lists."""

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
    presence,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def week():
    return next_monday(2)


def login(client, who):
    client.force_login(getattr(who, "user", who))
    return client


# --- Schedules and shifts -----------------------------------------------------------------


def test_agent_sees_only_their_own_published_shifts(client, agent_alice, agent_arthur, week):
    mine = make_shift(agent_alice, week, 9, 17)
    make_shift(agent_alice, week + timedelta(days=1), 9, 17, published=False)
    theirs = make_shift(agent_arthur, week, 9, 17)
    login(client, agent_alice)
    data = client.get(reverse("api-schedule"), {"week": week.isoformat()}).json()
    assert [row["id"] for row in data] == [mine.pk]
    assert client.get(reverse("api-schedule"), {"week": week.isoformat(), "agent": agent_arthur.pk}).json() == []
    assert client.get(reverse("api-shift-detail", args=[theirs.pk])).status_code == 404


def test_supervisor_sees_their_team_drafts_included(client, supervisor_sam, agent_alice, agent_bob, week):
    make_shift(agent_alice, week, 9, 17, published=False)
    bobs = make_shift(agent_bob, week, 9, 17)
    login(client, supervisor_sam)
    data = client.get(reverse("api-schedule"), {"week": week.isoformat()}).json()
    assert [(row["agent"], row["is_published"]) for row in data] == [(agent_alice.pk, False)]
    assert client.get(reverse("api-shift-detail", args=[bobs.pk])).status_code == 404


@pytest.mark.parametrize("who", ["hr_hana", "manager_mia"])
def test_hr_and_managers_see_every_schedule(request, client, who, agent_alice, agent_bob, week):
    make_shift(agent_alice, week, 9, 17)
    make_shift(agent_bob, week, 9, 17, published=False)
    login(client, request.getfixturevalue(who))
    assert len(client.get(reverse("api-schedule"), {"week": week.isoformat()}).json()) == 2


def test_schedule_list_has_no_n_plus_one(client, supervisor_sam, team_a, week, django_assert_max_num_queries):
    agents = [AgentFactory(team=team_a) for _ in range(2)]
    for agent in agents:
        make_shift(agent, week, 9, 17, breaks=[(local(week, 12), local(week, 12, 30))])
    login(client, supervisor_sam)
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("api-schedule"), {"week": week.isoformat()})
    for agent in [AgentFactory(team=team_a) for _ in range(8)]:
        make_shift(agent, week, 9, 17, breaks=[(local(week, 12), local(week, 12, 30))])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(reverse("api-schedule"), {"week": week.isoformat()}).json()) == 10


def test_supervisor_plans_a_shift_and_bad_times_are_400(client, supervisor_sam, agent_alice, agent_bob, week):
    login(client, supervisor_sam)
    template = ShiftTemplateFactory()
    response = client.post(
        reverse("api-shift-create"), {"agent": agent_alice.pk, "date": week.isoformat(), "template": template.pk}
    )
    assert response.status_code == 201, response.content
    assert response.json()["is_published"] is False
    bad = client.post(
        reverse("api-shift-create"),
        {
            "agent": agent_alice.pk,
            "date": (week + timedelta(days=1)).isoformat(),
            "start_at": local(week + timedelta(days=1), 17).isoformat(),
            "end_at": local(week + timedelta(days=1), 9).isoformat(),
        },
    )
    assert bad.status_code == 400
    assert "end_at" in bad.json()
    overlap = client.post(
        reverse("api-shift-create"), {"agent": agent_alice.pk, "date": week.isoformat(), "template": template.pk}
    )
    assert overlap.status_code == 409
    other_team = client.post(
        reverse("api-shift-create"), {"agent": agent_bob.pk, "date": week.isoformat(), "template": template.pk}
    )
    assert other_team.status_code == 404


def test_agents_and_hr_cannot_plan_or_publish(client, agent_alice, hr_hana, week):
    template = ShiftTemplateFactory()
    for who in (agent_alice, hr_hana):
        login(client, who)
        response = client.post(
            reverse("api-shift-create"), {"agent": agent_alice.pk, "date": week.isoformat(), "template": template.pk}
        )
        assert response.status_code == 403
        assert client.post(reverse("api-schedule-publish"), {"week": week.isoformat()}).status_code == 403
    assert not Shift.objects.exists()


def test_publish_through_the_api(client, supervisor_sam, agent_alice, week):
    make_shift(agent_alice, week, 9, 17, published=False)
    login(client, supervisor_sam)
    response = client.post(reverse("api-schedule-publish"), {"week": (week + timedelta(days=3)).isoformat()})
    assert response.json() == {"week": week.isoformat(), "published": 1}


# --- Day-off requests ---------------------------------------------------------------------


def test_agent_files_a_request_and_sees_only_their_own(client, agent_alice, agent_arthur, week):
    make_request(agent_arthur, week, [week])
    login(client, agent_alice)
    response = client.post(
        reverse("api-dayoff-list"),
        {"week_start": week.isoformat(), "days": [week.isoformat(), (week + timedelta(days=4)).isoformat()]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["days"] == [week.isoformat(), (week + timedelta(days=4)).isoformat()]
    rows = client.get(reverse("api-dayoff-list")).json()["results"]
    assert [row["agent"] for row in rows] == [agent_alice.pk]
    arthurs = DayOffRequest.objects.get(agent=agent_arthur)
    assert client.get(reverse("api-dayoff-detail", args=[arthurs.pk])).status_code == 404
    assert client.post(reverse("api-dayoff-approve", args=[arthurs.pk])).status_code == 404
    assert client.post(reverse("api-dayoff-cancel", args=[arthurs.pk])).status_code == 404


def test_a_request_for_a_past_week_is_a_clear_400(client, agent_alice):
    past = periods.monday_of(periods.local_today()) - timedelta(weeks=1)
    login(client, agent_alice)
    response = client.post(
        reverse("api-dayoff-list"),
        {"week_start": past.isoformat(), "days": [past.isoformat()]},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "past_week" and "week_start" in body["errors"]
    assert "past" in body["detail"]


def test_a_request_with_no_days_is_400(client, agent_alice, week):
    login(client, agent_alice)
    response = client.post(
        reverse("api-dayoff-list"), {"week_start": week.isoformat(), "days": []}, content_type="application/json"
    )
    assert response.status_code == 400 and "days" in response.json()


def test_non_agents_cannot_file(client, supervisor_sam, week):
    login(client, supervisor_sam)
    response = client.post(
        reverse("api-dayoff-list"),
        {"week_start": week.isoformat(), "days": [week.isoformat()]},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_supervisor_sees_and_decides_their_teams_requests_only(
    client, supervisor_sam, supervisor_sue, agent_alice, agent_bob, week
):
    alices = make_request(agent_alice, week, [week])
    bobs = make_request(agent_bob, week, [week])
    login(client, supervisor_sam)
    assert [r["id"] for r in client.get(reverse("api-dayoff-list")).json()["results"]] == [alices.pk]
    assert client.get(reverse("api-dayoff-detail", args=[bobs.pk])).status_code == 404
    assert client.post(reverse("api-dayoff-approve", args=[bobs.pk])).status_code == 404
    response = client.post(reverse("api-dayoff-approve", args=[alices.pk]), {"comment": "ok"})
    assert response.status_code == 200 and response.json()["state"] == "approved"
    login(client, supervisor_sue)
    assert client.get(reverse("api-dayoff-detail", args=[alices.pk])).status_code == 404


def test_hr_sees_requests_but_does_not_decide(client, hr_hana, agent_alice, week):
    request = make_request(agent_alice, week, [week])
    login(client, hr_hana)
    assert client.get(reverse("api-dayoff-detail", args=[request.pk])).status_code == 200
    assert client.post(reverse("api-dayoff-approve", args=[request.pk])).status_code == 403
    assert client.get(reverse("api-dayoff-impact", args=[request.pk])).status_code == 403


def test_override_is_required_through_the_api(client, supervisor_sam, agent_alice, week):
    queue = QueueFactory()
    for k in range(1, 5):
        add_calls(queue, local(week - timedelta(weeks=k), 10, 5), offered=100, answered=100)
    make_shift(agent_alice, week, 9, 17)
    request = make_request(agent_alice, week, [week])
    login(client, supervisor_sam)
    impact = client.get(reverse("api-dayoff-impact", args=[request.pk])).json()
    day = impact["days"][0]
    assert day["needs_override"] is True and day["worst"]["after"] == 0
    refused = client.post(reverse("api-dayoff-approve", args=[request.pk]), {"comment": "ok"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "override_required" and "override_reason" in refused.json()["errors"]
    approved = client.post(
        reverse("api-dayoff-approve", args=[request.pk]), {"comment": "ok", "override_reason": "Medical"}
    )
    assert approved.status_code == 200 and approved.json()["override_reason"] == "Medical"


def test_reject_and_cancel_through_the_api(client, supervisor_sam, agent_alice, week):
    first = make_request(agent_alice, week, [week])
    login(client, supervisor_sam)
    assert client.post(reverse("api-dayoff-reject", args=[first.pk]), {}).status_code == 400  # comment needed
    assert client.post(reverse("api-dayoff-reject", args=[first.pk]), {"comment": "Peak"}).json()["state"] == "rejected"
    second = make_request(agent_alice, week + timedelta(weeks=1), [week + timedelta(weeks=1)])
    assert client.post(reverse("api-dayoff-cancel", args=[second.pk])).status_code == 403  # not the agent
    login(client, agent_alice)
    assert client.post(reverse("api-dayoff-cancel", args=[second.pk])).json()["state"] == "cancelled"
    assert client.post(reverse("api-dayoff-cancel", args=[first.pk])).status_code == 409


def test_request_list_has_no_n_plus_one(client, supervisor_sam, team_a, week, django_assert_max_num_queries):
    for _ in range(2):
        make_request(AgentFactory(team=team_a), week, [week, week + timedelta(days=1)])
    login(client, supervisor_sam)
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("api-dayoff-list"))
    for _ in range(8):
        make_request(AgentFactory(team=team_a), week, [week, week + timedelta(days=1)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("api-dayoff-list")).json()["count"] == 10


# --- Swaps -------------------------------------------------------------------------------------


def test_swap_through_the_api(client, agent_alice, agent_arthur, agent_bob, supervisor_sam, week):
    shift = make_shift(agent_alice, week, 9, 17)
    login(client, agent_arthur)
    assert client.post(reverse("api-swap-list"), {"shift": shift.pk}).status_code == 404  # not his shift
    login(client, agent_alice)
    offer = client.post(reverse("api-swap-list"), {"shift": shift.pk, "note": "dentist"})
    assert offer.status_code == 201
    swap_id = offer.json()["id"]
    login(client, agent_bob)  # another team: does not see the offer
    assert client.post(reverse("api-swap-take", args=[swap_id])).status_code == 404
    login(client, agent_arthur)
    assert [s["id"] for s in client.get(reverse("api-swap-list")).json()["results"]] == [swap_id]
    assert client.post(reverse("api-swap-take", args=[swap_id])).json()["state"] == "taken"
    assert client.post(reverse("api-swap-approve", args=[swap_id])).status_code == 403
    login(client, supervisor_sam)
    assert client.post(reverse("api-swap-approve", args=[swap_id])).json()["state"] == "approved"
    assert Shift.objects.get(pk=shift.pk).agent == agent_arthur


# --- Forecast, coverage, adherence -------------------------------------------------------------


def test_forecast_and_coverage_for_planners_only(client, agent_alice, supervisor_sam, supervisor_sue, team_a, week):
    queue = QueueFactory(teams=[team_a])
    add_calls(queue, local(week - timedelta(weeks=1), 10, 5), offered=40, answered=40, handle_s=180)
    make_shift(agent_alice, week, 9, 17)
    login(client, agent_alice)
    assert client.get(reverse("api-forecast"), {"queue": queue.pk}).status_code == 403
    assert client.get(reverse("api-coverage"), {"queue": queue.pk}).status_code == 403
    login(client, supervisor_sue)  # her teams do not serve this queue
    assert client.get(reverse("api-forecast"), {"queue": queue.pk}).status_code == 404
    login(client, supervisor_sam)
    forecast = client.get(reverse("api-forecast"), {"queue": queue.pk, "date": week.isoformat()}).json()
    ten = next(h for h in forecast["days"][0]["half_hours"] if h["label"] == "10:00")
    assert ten["calls"] == pytest.approx(40.0) and ten["aht_s"] == pytest.approx(180.0)
    assert ten["traffic_erlangs"] == pytest.approx(4.0)
    coverage = client.get(reverse("api-coverage"), {"queue": queue.pk, "week": week.isoformat()}).json()
    assert len(coverage["days"]) == 7
    ten = next(h for h in coverage["days"][0]["half_hours"] if h["label"] == "10:00")
    assert ten["scheduled"] == 1 and ten["gap"] == 1 - ten["required"]


def test_forecast_bad_input_is_400(client, supervisor_sam, team_a):
    login(client, supervisor_sam)
    assert client.get(reverse("api-forecast")).status_code == 400
    queue = QueueFactory(teams=[team_a])
    assert client.get(reverse("api-coverage"), {"queue": "x"}).status_code == 404
    response = client.get(reverse("api-coverage"), {"queue": queue.pk, "date": "2025-13-40"})
    assert response.status_code == 400 and "date" in response.json()


def test_adherence_access(client, agent_alice, agent_arthur, supervisor_sam, supervisor_sue):
    day = next_monday(-1)
    make_shift(agent_alice, day, 9, 17)
    presence(agent_alice, "available", local(day, 9), local(day, 17))
    login(client, agent_alice)
    mine = client.get(reverse("api-adherence"), {"date": day.isoformat()}).json()
    assert mine["adherence_pct"] == 100.0
    assert client.get(reverse("api-adherence"), {"agent": agent_arthur.pk}).status_code == 404
    login(client, supervisor_sam)
    assert client.get(reverse("api-adherence"), {"agent": agent_alice.pk, "date": day.isoformat()}).status_code == 200
    login(client, supervisor_sue)
    assert client.get(reverse("api-adherence"), {"agent": agent_alice.pk}).status_code == 404


# --- Notifications -----------------------------------------------------------------------------


def test_notifications_are_private(client, agent_alice, agent_arthur, supervisor_sam, week):
    request = make_request(agent_alice, week, [week])
    from scheduling import services

    services.dayoff_reject(request=request, by=supervisor_sam, comment="Peak week")
    login(client, agent_alice)
    rows = client.get(reverse("api-notification-list")).json()["results"]
    assert len(rows) == 1 and "Peak week" in rows[0]["text"]
    login(client, agent_arthur)
    assert client.get(reverse("api-notification-list")).json()["results"] == []
    assert client.post(reverse("api-notification-read", args=[rows[0]["id"]])).status_code == 404
    login(client, agent_alice)
    assert client.post(reverse("api-notification-read", args=[rows[0]["id"]])).json()["read_at"] is not None


def test_anonymous_is_refused(client, week):
    for name in ("api-schedule", "api-dayoff-list", "api-notification-list"):
        assert client.get(reverse(name)).status_code in (401, 403)
    assert client.post(reverse("api-staffing"), {}).status_code in (401, 403)
