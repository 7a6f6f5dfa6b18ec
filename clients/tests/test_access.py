"""Who may see which client record (pages, API, admin), the access log, exports."""

import pytest
from django.urls import reverse

from clients.models import Campaign, ClientAccessLog
from clients.tests.factories import ClientFactory, make_call

pytestmark = pytest.mark.django_db


def api_ids(client):
    response = client.get(reverse("api-client-list"))
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_agent_sees_the_clients_of_their_campaigns_only(client, agent_alice, client_in_a, client_outside):
    client.force_login(agent_alice.user)
    assert api_ids(client) == {client_in_a.pk}
    assert client.get(reverse("api-client-detail", args=[client_in_a.pk])).status_code == 200
    assert client.get(reverse("clients:client-detail", args=[client_in_a.pk])).status_code == 200


def test_agent_cannot_read_a_client_outside_their_campaigns(
    client, agent_alice, agent_bob, client_in_a, client_outside
):
    client.force_login(agent_alice.user)
    assert client.get(reverse("api-client-detail", args=[client_outside.pk])).status_code == 404
    assert client.get(reverse("clients:client-detail", args=[client_outside.pk])).status_code == 404
    assert client.get(reverse("api-client-timeline", args=[client_outside.pk])).status_code == 404
    assert client.get(reverse("clients:client-outcome", args=[client_outside.pk])).status_code == 404
    assert client.get(reverse("orders:order-create") + f"?client={client_outside.pk}").status_code == 404
    client.force_login(agent_bob.user)  # team_b: not on campaign_a
    assert client.get(reverse("api-client-detail", args=[client_in_a.pk])).status_code == 404
    assert client.get(reverse("clients:client-detail", args=[client_in_a.pk])).status_code == 404
    assert api_ids(client) == set()


def test_out_of_scope_reads_are_not_logged(client, agent_bob, client_in_a):
    client.force_login(agent_bob.user)
    client.get(reverse("api-client-detail", args=[client_in_a.pk]))
    assert not ClientAccessLog.objects.exists()


def test_agent_sees_the_clients_of_calls_they_handled(client, agent_bob, client_outside):
    make_call(client=client_outside, agent=agent_bob)
    client.force_login(agent_bob.user)
    assert api_ids(client) == {client_outside.pk}


def test_agent_loses_the_clients_of_a_finished_campaign(client, agent_alice, campaign_a, client_in_a):
    Campaign.objects.filter(pk=campaign_a.pk).update(status=Campaign.Status.FINISHED)
    client.force_login(agent_alice.user)
    assert client.get(reverse("api-client-detail", args=[client_in_a.pk])).status_code == 404


def test_supervisor_sees_their_teams_clients(
    client, supervisor_sam, supervisor_sue, agent_bob, client_in_a, client_outside
):
    client.force_login(supervisor_sam)
    assert api_ids(client) == {client_in_a.pk}
    make_call(client=client_outside, agent=agent_bob)
    client.force_login(supervisor_sue)  # bob's supervisor: his call's client, not campaign_a's
    assert api_ids(client) == {client_outside.pk}


def test_qa_analyst_sees_clients_of_calls_only(client, qa_quinn, agent_bob, client_in_a, client_outside):
    make_call(client=client_outside, agent=agent_bob)
    client.force_login(qa_quinn)
    assert api_ids(client) == {client_outside.pk}
    assert client.get(reverse("api-client-detail", args=[client_in_a.pk])).status_code == 404


def test_trainer_sees_no_client(client, trainer_tom, client_in_a):
    client.force_login(trainer_tom)
    assert api_ids(client) == set()
    assert client.get(reverse("clients:client-detail", args=[client_in_a.pk])).status_code == 404


@pytest.mark.parametrize("who", ["hr_hana", "manager_mia"])
def test_hr_and_managers_see_every_client(request, client, who, client_in_a, client_outside):
    client.force_login(request.getfixturevalue(who))
    assert api_ids(client) == {client_in_a.pk, client_outside.pk}


def test_every_view_of_a_record_is_logged_with_its_way_in(client, manager_mia, client_in_a):
    client.force_login(manager_mia)
    client.get(reverse("clients:client-detail", args=[client_in_a.pk]))
    client.get(reverse("api-client-detail", args=[client_in_a.pk]))
    client.get(reverse("admin:clients_client_change", args=[client_in_a.pk]))
    client.get(reverse("api-client-list"))  # a list is not a view of a record
    log = list(ClientAccessLog.objects.order_by("viewed_at", "pk").values_list("user__username", "client", "via"))
    assert log == [("mia", client_in_a.pk, "page"), ("mia", client_in_a.pk, "api"), ("mia", client_in_a.pk, "admin")]


def test_an_agents_views_are_logged_too(client, agent_alice, client_in_a):
    client.force_login(agent_alice.user)
    client.get(reverse("clients:client-detail", args=[client_in_a.pk]))
    entry = ClientAccessLog.objects.get()
    assert entry.user == agent_alice.user and entry.client == client_in_a and entry.client_label == "Jeanne Martin"
    assert entry.path == reverse("clients:client-detail", args=[client_in_a.pk])


@pytest.mark.parametrize("who", ["hr_hana", "manager_mia"])
def test_hr_and_managers_read_the_access_log_and_nobody_edits_it(request, client, who, agent_alice, client_in_a):
    client.force_login(agent_alice.user)
    client.get(reverse("clients:client-detail", args=[client_in_a.pk]))
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("admin:clients_clientaccesslog_changelist"))
    assert response.status_code == 200 and "Jeanne Martin" in response.content.decode()
    entry = ClientAccessLog.objects.get()
    assert client.get(reverse("admin:clients_clientaccesslog_add")).status_code == 403
    assert (
        client.post(reverse("admin:clients_clientaccesslog_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert ClientAccessLog.objects.count() == 1


@pytest.mark.parametrize("who", ["qa_quinn", "trainer_tom"])
def test_other_staff_cannot_read_the_access_log(request, client, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("admin:clients_clientaccesslog_changelist")).status_code == 403


def test_qa_sees_only_clients_of_calls_in_the_admin_too(client, qa_quinn, agent_bob, client_in_a, client_outside):
    make_call(client=client_outside, agent=agent_bob)
    client.force_login(qa_quinn)
    page = client.get(reverse("admin:clients_client_changelist")).content.decode()
    assert "Paul Dehors" in page and "Jeanne Martin" not in page


def test_exports_are_for_managers_only(client, manager_mia, supervisor_sam, hr_hana, agent_alice, client_in_a):
    client.force_login(manager_mia)
    response = client.get(reverse("api-client-export"))
    assert response.status_code == 200 and "Jeanne Martin" in response.content.decode()
    assert client.get(reverse("clients:client-export")).status_code == 200
    assert ClientAccessLog.objects.filter(via="export", user=manager_mia).count() == 2
    for user in (supervisor_sam, hr_hana, agent_alice.user):
        client.force_login(user)
        assert client.get(reverse("api-client-export")).status_code == 403
        assert client.get(reverse("clients:client-export")).status_code == 403


def test_the_admin_export_action_is_for_managers(client, hr_hana, manager_mia, client_in_a):
    data = {"action": "export_csv", "_selected_action": [client_in_a.pk]}
    client.force_login(manager_mia)
    response = client.post(reverse("admin:clients_client_changelist"), data)
    assert response["Content-Type"].startswith("text/csv")
    client.force_login(hr_hana)
    response = client.post(reverse("admin:clients_client_changelist"), data)
    assert not response.get("Content-Type", "").startswith("text/csv")


def test_client_list_has_no_n_plus_one(client, manager_mia, django_assert_max_num_queries):
    ClientFactory.create_batch(3)
    client.force_login(manager_mia)
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("api-client-list"))
    ClientFactory.create_batch(15)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("api-client-list"))
    assert response.json()["count"] == 18


def test_agent_client_list_has_no_n_plus_one(client, agent_alice, campaign_a, django_assert_max_num_queries):
    from clients.tests.factories import CampaignMemberFactory

    CampaignMemberFactory.create_batch(3, campaign=campaign_a)
    client.force_login(agent_alice.user)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("clients:client-list"))
    CampaignMemberFactory.create_batch(15, campaign=campaign_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("clients:client-list"))
    assert response.status_code == 200 and response.content.decode().count("/clients/") >= 18


def test_bad_client_ids_are_404_not_500(client, manager_mia):
    client.force_login(manager_mia)
    assert client.get("/clients/999999/").status_code == 404
    assert client.get("/api/clients/999999/").status_code == 404


def test_contact_details_change_through_the_api_with_field_errors(client, agent_alice, client_in_a, client_outside):
    client.force_login(agent_alice.user)
    url = reverse("api-client-detail", args=[client_in_a.pk])
    response = client.patch(url, {"email": "jeanne@example.test", "city": "LYON"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["email"] == "jeanne@example.test"
    response = client.patch(url, {"time_zone": "Mars/Olympus"}, content_type="application/json")
    assert response.status_code == 400 and "time_zone" in response.json()["errors"]
    response = client.patch(url, {"email": "not-an-email"}, content_type="application/json")
    assert response.status_code == 400
    outside = reverse("api-client-detail", args=[client_outside.pk])
    assert client.patch(outside, {"city": "X"}, content_type="application/json").status_code == 404
