"""The supervisor wallboard and dashboard, and the call-log CSV export."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calls import services
from calls.models import Call
from calls.tests.factories import QueueFactory, agent_with, make_available, offer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["calls:wallboard", "calls:dashboard", "calls:wallboard-data", "calls:call-export"])
def test_agents_and_other_roles_are_refused_the_floor_pages(client, name, agent_alice, hr_hana, qa_quinn):
    url = reverse(name)
    assert client.get(url).status_code == 302
    for user in (agent_alice.user, hr_hana, qa_quinn):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_a_supervisor_sees_their_teams_queues_and_agents_only(client, two_team_floor, supervisor_sam):
    client.force_login(supervisor_sam)
    data = client.get(reverse("calls:wallboard-data")).json()
    assert [q["name"] for q in data["queues"]] == ["Queue A"]
    assert [a["id"] for a in data["agents"]] == [two_team_floor["alice"].pk]
    alice = data["agents"][0]
    assert alice["state"] == "reserved" and alice["target"] == two_team_floor["alice"].calls_per_day_target
    queue = data["queues"][0]
    # Agents by state counts every agent able to take the queue's calls (skill and language).
    assert queue["offered"] == 1 and queue["agents"]["reserved"] == 2
    assert len(data["half_hours"]) == 48


def test_a_manager_sees_every_queue(client, two_team_floor, manager_mia):
    client.force_login(manager_mia)
    data = client.get(reverse("calls:wallboard-data")).json()
    assert {q["name"] for q in data["queues"]} == {"Queue A", "Queue B"}


def test_the_pages_render_with_local_assets_only(client, two_team_floor, supervisor_sam):
    client.force_login(supervisor_sam)
    for name in ("calls:wallboard", "calls:dashboard"):
        html = client.get(reverse(name)).content.decode()
        assert "https://" not in html and "//cdn" not in html
        assert "/static/calls/wallboard.js" in html
    html = client.get(reverse("calls:dashboard")).content.decode()
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    assert 'id="half-hours"' in html


def test_escalations_are_listed_for_the_supervisor(client, two_team_floor, supervisor_sam, supervisor_sue):
    services.call_accept(agent=two_team_floor["alice"], call_id=two_team_floor["call_a"].pk)
    services.call_escalate(agent=two_team_floor["alice"], call_id=two_team_floor["call_a"].pk, reason="wants a manager")
    client.force_login(supervisor_sam)
    escalations = client.get(reverse("calls:wallboard-data")).json()["escalations"]
    assert [(e["id"], e["reason"]) for e in escalations] == [(two_team_floor["call_a"].pk, "wants a manager")]
    client.force_login(supervisor_sue)
    assert client.get(reverse("calls:wallboard-data")).json()["escalations"] == []


def test_the_wallboard_takes_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, team_a, fr, manager_mia
):
    client.force_login(manager_mia)
    url = reverse("calls:wallboard-data")

    def grow(n):
        for i in range(n):
            queue = QueueFactory(
                name=f"G{i}-{Call.objects.count()}", slug=f"g{i}-{Call.objects.count()}", teams=[team_a]
            )
            agent = agent_with(team=team_a)
            make_available(agent)
            offer(queue)

    grow(2)
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    grow(6)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert len(response.json()["queues"]) == 8


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_the_export_lists_only_the_supervisors_teams_calls(client, two_team_floor, supervisor_sam, manager_mia):
    client.force_login(supervisor_sam)
    response = client.get(reverse("calls:call-export"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert [row["caller_number"] for row in _csv(response)] == ["+33600000011"]
    client.force_login(manager_mia)
    assert len(_csv(client.get(reverse("calls:call-export")))) == 2


def test_the_export_filters(client, two_team_floor, manager_mia):
    Call.objects.filter(pk=two_team_floor["call_b"].pk).update(offered_at=timezone.now() - timedelta(days=3))
    client.force_login(manager_mia)
    url = reverse("calls:call-export")
    rows = _csv(client.get(url, {"queue": two_team_floor["queue_b"].pk}))
    assert [r["caller_number"] for r in rows] == ["+33600000022"]
    today = timezone.localdate().isoformat()
    rows = _csv(client.get(url, {"offered_from": today}))
    assert [r["caller_number"] for r in rows] == ["+33600000011"]
    rows = _csv(client.get(url, {"state": "ringing", "caller_number": "+336000000"}))
    assert len(rows) == 2


def test_a_bad_filter_is_a_400_not_a_500(client, two_team_floor, manager_mia):
    client.force_login(manager_mia)
    response = client.get(reverse("calls:call-export"), {"offered_from": "yesterday", "state": "nope"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"offered_from", "state"}


def test_the_export_neutralises_spreadsheet_formulas(client, two_team_floor, manager_mia):
    Call.objects.filter(pk=two_team_floor["call_a"].pk).update(external_id="=HYPERLINK(1)")
    client.force_login(manager_mia)
    rows = _csv(client.get(reverse("calls:call-export")))
    assert "'=HYPERLINK(1)" in [r["call_id"] for r in rows]


def test_the_export_takes_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, two_team_floor, manager_mia
):
    client.force_login(manager_mia)
    for i in range(30):
        offer(two_team_floor["queue_a"], caller=f"+3361000{i:04d}", route=False)
    with django_assert_max_num_queries(6):
        rows = _csv(client.get(reverse("calls:call-export")))
    assert len(rows) == 32


def test_a_supervisor_cannot_filter_the_export_by_another_teams_queue(client, two_team_floor, supervisor_sam):
    client.force_login(supervisor_sam)
    response = client.get(reverse("calls:call-export"), {"queue": two_team_floor["queue_b"].pk})
    assert response.status_code == 400 and "queue" in response.json()["errors"]
    html = client.get(reverse("calls:dashboard")).content.decode()
    assert "Queue A" in html and "Queue B" not in html
