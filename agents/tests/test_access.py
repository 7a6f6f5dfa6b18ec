"""Who may see which agent, through the pages and the API."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_agent_sees_own_profile(client, agent_alice):
    client.force_login(agent_alice.user)
    response = client.get(reverse("agents:agent-detail", args=[agent_alice.pk]))
    assert response.status_code == 200
    assert agent_alice.employee_number in response.content.decode()


def test_agent_gets_404_on_another_agents_profile(client, agent_alice, agent_arthur):
    client.force_login(agent_alice.user)
    assert client.get(reverse("agents:agent-detail", args=[agent_arthur.pk])).status_code == 404
    assert client.get(reverse("api-agent-detail", args=[agent_arthur.pk])).status_code == 404


def test_agent_gets_403_on_the_admin(client, agent_alice):
    client.force_login(agent_alice.user)
    assert client.get("/admin/").status_code == 403
    assert client.get(reverse("admin:agents_agent_changelist")).status_code == 403


def test_agent_gets_403_on_the_agent_list_page(client, agent_alice):
    client.force_login(agent_alice.user)
    assert client.get(reverse("agents:agent-list")).status_code == 403


def test_agent_api_lists_only_self(client, agent_alice, agent_arthur, agent_bob):
    client.force_login(agent_alice.user)
    data = client.get(reverse("api-agent-list")).json()
    assert [row["username"] for row in data["results"]] == ["alice"]


def test_supervisor_sees_own_team_only(client, supervisor_sam, agent_alice, agent_arthur, agent_bob):
    client.force_login(supervisor_sam)
    data = client.get(reverse("api-agent-list")).json()
    assert sorted(row["username"] for row in data["results"]) == ["alice", "arthur"]
    assert client.get(reverse("agents:agent-detail", args=[agent_alice.pk])).status_code == 200
    assert client.get(reverse("agents:agent-detail", args=[agent_bob.pk])).status_code == 404


@pytest.mark.parametrize("who", ["hr_hana", "manager_mia"])
def test_hr_and_managers_see_everyone(request, client, who, agent_alice, agent_bob):
    client.force_login(request.getfixturevalue(who))
    data = client.get(reverse("api-agent-list")).json()
    assert sorted(row["username"] for row in data["results"]) == ["alice", "bob"]


def test_anonymous_api_is_refused(client, agent_alice):
    assert client.get(reverse("api-agent-list")).status_code in (401, 403)


def test_me_endpoint_returns_own_profile_and_404_for_non_agents(client, agent_alice, hr_hana):
    client.force_login(agent_alice.user)
    assert client.get(reverse("api-agent-me")).json()["username"] == "alice"
    client.force_login(hr_hana)
    assert client.get(reverse("api-agent-me")).status_code == 404


def test_agent_list_has_no_n_plus_one(client, supervisor_sam, team_a, django_assert_max_num_queries):
    from agents.tests.factories import AgentFactory

    AgentFactory.create_batch(3, team=team_a)
    client.force_login(supervisor_sam)
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("api-agent-list"))
    AgentFactory.create_batch(12, team=team_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("api-agent-list"))
    assert response.json()["count"] == 15


def test_bad_agent_id_is_404_not_500(client, hr_hana):
    client.force_login(hr_hana)
    assert client.get("/agents/999999/").status_code == 404
    assert client.get("/api/agents/999999/").status_code == 404
