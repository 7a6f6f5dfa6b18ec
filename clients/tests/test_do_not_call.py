"""Do-not-call is honoured at once and for good, in every path: the outcome, campaigns,
"next client", manual dial (service, API, page) and the back office. (Imports: test_import.)"""

import pytest
from django.urls import reverse

from clients.models import CampaignMember, DoNotCallNumber
from clients.services import (
    DoNotCallError,
    campaign_add_clients,
    campaign_next_member,
    client_check_dialable,
    client_update,
    number_check_dialable,
    outcome_record,
)
from clients.tests.factories import CampaignFactory, CampaignMemberFactory, ClientFactory

pytestmark = pytest.mark.django_db


def test_a_do_not_call_outcome_flips_the_flag_and_empties_every_queue(agent_alice, campaign_a, client_in_a, team_a):
    other = CampaignMemberFactory(campaign=CampaignFactory(name="Another", teams=[team_a]), client=client_in_a)
    outcome_record(by=agent_alice.user, client=client_in_a, campaign=campaign_a, kind="do_not_call")
    client_in_a.refresh_from_db()
    assert client_in_a.do_not_call
    assert set(CampaignMember.objects.filter(client=client_in_a).values_list("state", flat=True)) == {"excluded"}
    other.refresh_from_db()
    assert other.state == "excluded"
    assert set(DoNotCallNumber.objects.values_list("number", flat=True)) == set(
        client_in_a.phones.values_list("number", flat=True)
    )


def test_next_client_never_hands_a_do_not_call_client(agent_alice, campaign_a, client_in_a):
    # Even if the flag was set behind the services' back, the claim query leaves the client out.
    type(client_in_a).objects.filter(pk=client_in_a.pk).update(do_not_call=True)
    assert campaign_next_member(campaign=campaign_a, agent=agent_alice) is None


def test_do_not_call_clients_are_never_added_to_a_campaign(campaign_a):
    callable_client, refuser = ClientFactory(), ClientFactory(do_not_call=True)
    added, refused = campaign_add_clients(campaign=campaign_a, clients=[callable_client, refuser])
    assert (added, refused) == (1, 1)
    assert not CampaignMember.objects.filter(client=refuser).exists()


def test_manual_dial_refuses_a_do_not_call_client():
    refuser = ClientFactory(do_not_call=True, numbers=["+33612345678"])
    with pytest.raises(DoNotCallError):
        client_check_dialable(client=refuser)
    assert client_check_dialable(client=ClientFactory(numbers=["+33698765432"])) == "+33698765432"


def test_manual_dial_refuses_a_number_on_the_list_whoever_owns_it():
    DoNotCallNumber.objects.create(number="+33612345678")
    with pytest.raises(DoNotCallError):
        number_check_dialable(number="06 12 34 56 78")
    assert number_check_dialable(number="06 98 76 54 32") == "+33698765432"


def test_manual_dial_api_and_page(client, agent_alice, client_in_a):
    client.force_login(agent_alice.user)
    response = client.post(reverse("api-client-dial", args=[client_in_a.pk]))
    assert response.status_code == 200 and response.json()["number"].startswith("+33")
    client.post(reverse("api-client-do-not-call", args=[client_in_a.pk]))
    response = client.post(reverse("api-client-dial", args=[client_in_a.pk]))
    assert response.status_code == 409 and response.json()["code"] == "do_not_call"
    page = client.post(reverse("clients:client-dial", args=[client_in_a.pk]), follow=True).content.decode()
    assert "asked never to be called" in page


def test_do_not_call_cannot_be_withdrawn(client, manager_mia, client_in_a):
    client_in_a.do_not_call = True
    client_in_a.save()
    with pytest.raises(DoNotCallError):
        client_update(client=client_in_a, do_not_call=False)
    client.force_login(manager_mia)
    response = client.patch(
        reverse("api-client-detail", args=[client_in_a.pk]), {"do_not_call": False}, content_type="application/json"
    )
    assert response.status_code == 409
    # The back office shows the flag read-only once set.
    page = client.get(reverse("admin:clients_client_change", args=[client_in_a.pk])).content.decode()
    assert 'name="do_not_call"' not in page
    client_in_a.refresh_from_db()
    assert client_in_a.do_not_call


def test_ticking_do_not_call_in_the_back_office_empties_the_queues(client, manager_mia, campaign_a, client_in_a):
    client.force_login(manager_mia)
    url = reverse("admin:clients_client_change", args=[client_in_a.pk])
    phone = client_in_a.phones.get()
    data = {
        "full_name": client_in_a.full_name,
        "country": "FR",
        "do_not_call": "on",
        "phones-TOTAL_FORMS": "1",
        "phones-INITIAL_FORMS": "1",
        "phones-0-id": phone.pk,
        "phones-0-client": client_in_a.pk,
        "phones-0-number": phone.number,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CampaignMember.objects.get(client=client_in_a).state == "excluded"
    assert DoNotCallNumber.objects.filter(number=phone.number).exists()


def test_a_number_added_to_the_list_in_the_back_office_is_normalised_and_flags_its_client(
    client, manager_mia, campaign_a, client_in_a
):
    number = client_in_a.phones.get().number
    client.force_login(manager_mia)
    url = reverse("admin:clients_donotcallnumber_add")
    response = client.post(url, {"number": "12", "source": "courrier"})
    assert response.status_code == 200 and "Not a valid phone number." in response.content.decode()
    response = client.post(url, {"number": "0" + number[3:], "source": "courrier"})
    assert response.status_code == 302
    assert DoNotCallNumber.objects.get().number == number
    client_in_a.refresh_from_db()
    assert client_in_a.do_not_call and CampaignMember.objects.get(client=client_in_a).state == "excluded"
