"""Campaign progress for supervisors and the provider survey report."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.selectors import campaign_progress
from clients.services import campaign_set_status, outcome_record, provider_survey_record
from clients.tests.factories import CampaignMemberFactory, ClientFactory, RefusalReasonFactory, StayReasonFactory
from contactcenter.errors import ApplicationError, Conflict

pytestmark = pytest.mark.django_db


@pytest.fixture
def worked_campaign(campaign_a, agent_alice, too_expensive):
    """Five members: accepted; refused (too expensive); refused (no need) after a no answer;
    two no answers; one untouched."""
    no_need = RefusalReasonFactory(code="no_need", label="No need")
    m = [CampaignMemberFactory(campaign=campaign_a) for _ in range(5)]

    def record(member, kind, **kwargs):
        outcome_record(by=agent_alice.user, client=member.client, campaign=campaign_a, kind=kind, **kwargs)

    record(m[0], "accepted")
    record(m[1], "refused", refusal_reason=too_expensive)
    record(m[2], "no_answer")
    record(m[2], "refused", refusal_reason=no_need)
    record(m[3], "no_answer")
    record(m[3], "busy")
    return campaign_a


def test_progress_counts_reached_accepted_refusals_by_reason_conversion_and_attempts(worked_campaign):
    progress = campaign_progress(campaign=worked_campaign)
    assert progress["members"] == 5
    assert progress["reached"] == 3 and progress["accepted"] == 1 and progress["refused"] == 2
    assert {(r["code"], r["count"]) for r in progress["refused_by_reason"]} == {("too_expensive", 1), ("no_need", 1)}
    assert progress["conversion_rate_pct"] == pytest.approx(33.3)
    # 6 attempts over the 4 members tried.
    assert progress["attempts"] == 6 and progress["attempts_per_contact"] == 1.5
    assert progress["by_state"]["done"] == 3 and progress["by_state"]["queued"] == 2


def test_progress_page_and_api_are_for_supervisors(
    client, worked_campaign, supervisor_sam, agent_alice, supervisor_sue
):
    client.force_login(supervisor_sam)
    response = client.get(reverse("api-campaign-progress", args=[worked_campaign.pk]))
    assert response.status_code == 200 and response.json()["accepted"] == 1
    page = client.get(reverse("clients:campaign-detail", args=[worked_campaign.pk])).content.decode()
    assert "Conversion rate" in page and "33.3" in page
    client.force_login(agent_alice.user)
    assert client.get(reverse("api-campaign-progress", args=[worked_campaign.pk])).status_code == 403
    assert (
        "Conversion rate"
        not in client.get(reverse("clients:campaign-detail", args=[worked_campaign.pk])).content.decode()
    )
    client.force_login(supervisor_sue)  # not her team's campaign
    assert client.get(reverse("api-campaign-progress", args=[worked_campaign.pk])).status_code == 404


def test_campaign_lists_follow_the_scope(client, campaign_a, agent_alice, agent_bob, manager_mia):
    for user, expected in ((agent_alice.user, [campaign_a.pk]), (agent_bob.user, []), (manager_mia, [campaign_a.pk])):
        client.force_login(user)
        assert [c["id"] for c in client.get(reverse("api-campaign-list")).json()["results"]] == expected


def test_campaign_members_api_has_no_n_plus_one(client, campaign_a, supervisor_sam, django_assert_max_num_queries):
    CampaignMemberFactory.create_batch(3, campaign=campaign_a)
    client.force_login(supervisor_sam)
    url = reverse("api-campaign-members", args=[campaign_a.pk])
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    CampaignMemberFactory.create_batch(12, campaign=campaign_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).json()["count"] == 15


def test_supervisors_add_clients_to_their_campaign_and_do_not_call_ones_are_refused(
    client, campaign_a, supervisor_sam, agent_alice, manager_mia
):
    callable_client, refuser = ClientFactory(), ClientFactory(do_not_call=True)
    url = reverse("api-campaign-members", args=[campaign_a.pk])
    client.force_login(agent_alice.user)
    assert client.post(url, {"clients": [callable_client.pk]}, content_type="application/json").status_code == 403
    client.force_login(manager_mia)
    response = client.post(url, {"clients": [callable_client.pk, refuser.pk]}, content_type="application/json")
    assert response.json() == {"added": 1, "refused_do_not_call": 1}


def test_campaign_status_moves_by_its_table(campaign_a, manager_mia):
    campaign_set_status(campaign=campaign_a, to="paused", by=manager_mia)
    campaign_set_status(campaign=campaign_a, to="running", by=manager_mia)
    campaign_set_status(campaign=campaign_a, to="finished", by=manager_mia)
    with pytest.raises(Conflict):
        campaign_set_status(campaign=campaign_a, to="running", by=manager_mia)
    assert [(c.from_status, c.to_status) for c in campaign_a.status_changes.all()] == [
        ("running", "paused"),
        ("paused", "running"),
        ("running", "finished"),
    ]


def test_provider_survey_is_counted_per_reason(client, agent_alice, client_in_a, supervisor_sam):
    commitment = StayReasonFactory(code="commitment", label="Still under commitment")
    price = StayReasonFactory(code="price", label="Cheaper")
    other = StayReasonFactory(code="other", label="Other", requires_text=True)
    client_in_a.current_provider = "Orange"
    client_in_a.save()
    provider_survey_record(by=agent_alice.user, client=client_in_a, reason=commitment)
    provider_survey_record(by=agent_alice.user, client=client_in_a, reason=commitment, provider="SFR")
    client.force_login(agent_alice.user)
    response = client.post(
        reverse("api-provider-survey"),
        {"client": client_in_a.pk, "reason": price.pk, "satisfaction": 4},
        content_type="application/json",
    )
    assert response.status_code == 201
    with pytest.raises(ApplicationError):
        provider_survey_record(by=agent_alice.user, client=client_in_a, reason=other)
    assert client.get(reverse("api-provider-survey")).status_code == 403
    client.force_login(supervisor_sam)
    report = client.get(reverse("api-provider-survey")).json()
    assert report["total"] == 3
    assert [(r["code"], r["count"]) for r in report["by_reason"]] == [("commitment", 2), ("price", 1)]
    assert {(r["provider"], r["count"]) for r in report["by_provider"]} == {("Orange", 2), ("SFR", 1)}
    page = client.get(reverse("clients:provider-survey-report")).content.decode()
    assert "Still under commitment" in page


def test_survey_form_on_the_client_page(client, agent_alice, client_in_a):
    reason = StayReasonFactory(code="habit", label="Habit")
    client.force_login(agent_alice.user)
    response = client.post(
        reverse("clients:client-survey", args=[client_in_a.pk]), {"provider": "Free", "reason": reason.pk}, follow=True
    )
    assert "Answer recorded." in response.content.decode()
    assert client_in_a.provider_survey_answers.get().provider == "Free"


def test_an_outcome_on_a_finished_campaign_is_refused(campaign_a, client_in_a, agent_alice):
    campaign_set_status(campaign=campaign_a, to="finished")
    campaign_a.refresh_from_db()
    with pytest.raises(ApplicationError):
        outcome_record(
            by=agent_alice.user,
            client=client_in_a,
            campaign=campaign_a,
            kind="callback_requested",
            callback_at=timezone.now() + timedelta(hours=1),
        )
