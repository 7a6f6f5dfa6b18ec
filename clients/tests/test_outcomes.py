"""Outcomes of contacts: the rules of each kind, and what follows for the campaign member."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from clients.models import CampaignMember, ContactOutcome
from clients.services import outcome_record
from clients.tests.factories import ContactOutcomeFactory
from contactcenter.errors import ApplicationError, Forbidden
from orders.models import Order

pytestmark = pytest.mark.django_db


def member_of(campaign, client):
    return CampaignMember.objects.get(campaign=campaign, client=client)


def post_outcome(http, *, to, **data):
    """POST /api/outcomes/ for the client `to` (the record, not the test client)."""
    return http.post(reverse("api-outcome-list"), {"client": to, **data}, content_type="application/json")


def test_refusal_without_a_reason_is_rejected_by_the_api(client, agent_alice, campaign_a, client_in_a):
    client.force_login(agent_alice.user)
    response = post_outcome(client, to=client_in_a.pk, campaign=campaign_a.pk, kind="refused")
    assert response.status_code == 400
    assert "refusal_reason" in response.json()["errors"]
    assert not ContactOutcome.objects.exists()
    assert member_of(campaign_a, client_in_a).attempts == 0


def test_refusal_without_a_reason_is_a_form_error_on_the_page(client, agent_alice, campaign_a, client_in_a):
    client.force_login(agent_alice.user)
    url = reverse("clients:client-outcome", args=[client_in_a.pk]) + f"?campaign={campaign_a.pk}"
    response = client.post(url, {"kind": "refused", "campaign": campaign_a.pk})
    assert response.status_code == 400
    assert "A refusal needs a reason." in response.content.decode()
    assert not ContactOutcome.objects.exists()


def test_the_database_refuses_a_refusal_without_reason_too(agent_alice, client_in_a):
    with pytest.raises(IntegrityError):
        ContactOutcomeFactory(client=client_in_a, kind="refused", refusal_reason=None, by=agent_alice.user)


def test_refusal_for_other_needs_the_clients_words(agent_alice, campaign_a, client_in_a, other_reason):
    with pytest.raises(ApplicationError) as error:
        outcome_record(
            by=agent_alice.user, client=client_in_a, campaign=campaign_a, kind="refused", refusal_reason=other_reason
        )
    assert "refusal_text" in error.value.fields
    outcome = outcome_record(
        by=agent_alice.user,
        client=client_in_a,
        campaign=campaign_a,
        kind="refused",
        refusal_reason=other_reason,
        refusal_text="Moving abroad",
    )
    assert outcome.refusal_text == "Moving abroad"


def test_refusal_keeps_who_when_which_offer_and_campaign(client, agent_alice, campaign_a, client_in_a, too_expensive):
    client.force_login(agent_alice.user)
    response = post_outcome(
        client, to=client_in_a.pk, campaign=campaign_a.pk, kind="refused", refusal_reason=too_expensive.pk
    )
    assert response.status_code == 201, response.json()
    outcome = ContactOutcome.objects.get()
    assert outcome.by == agent_alice.user and outcome.agent == agent_alice
    assert outcome.campaign == campaign_a and outcome.offer == campaign_a.offer  # the campaign's offer by default
    assert outcome.created_at <= timezone.now()
    member = member_of(campaign_a, client_in_a)
    assert member.state == CampaignMember.State.DONE and member.attempts == 1 and member.last_outcome == outcome


def test_a_reason_on_anything_but_a_refusal_is_rejected(agent_alice, client_in_a, too_expensive):
    with pytest.raises(ApplicationError) as error:
        outcome_record(by=agent_alice.user, client=client_in_a, kind="no_answer", refusal_reason=too_expensive)
    assert "refusal_reason" in error.value.fields


def test_accepted_opens_a_draft_order_in_the_same_transaction(client, agent_alice, campaign_a, client_in_a):
    client.force_login(agent_alice.user)
    response = post_outcome(client, to=client_in_a.pk, campaign=campaign_a.pk, kind="accepted")
    assert response.status_code == 201
    order = Order.objects.get(pk=response.json()["order"])
    assert order.status == Order.Status.DRAFT and order.client == client_in_a and order.offer == campaign_a.offer
    assert order.agent == agent_alice and order.amount == campaign_a.offer.price
    assert order.outcome.kind == "accepted"
    assert order.history.get().to_status == "draft"


def test_accepting_on_the_page_leads_to_the_order_form(client, agent_alice, campaign_a, client_in_a):
    client.force_login(agent_alice.user)
    url = reverse("clients:client-outcome", args=[client_in_a.pk]) + f"?campaign={campaign_a.pk}"
    response = client.post(url, {"kind": "accepted", "campaign": campaign_a.pk, "offer": campaign_a.offer_id})
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("orders:order-edit", args=[order.pk])


def test_callback_needs_a_future_time_and_requeues_the_member_then(agent_alice, campaign_a, client_in_a):
    with pytest.raises(ApplicationError) as error:
        outcome_record(by=agent_alice.user, client=client_in_a, campaign=campaign_a, kind="callback_requested")
    assert "callback_at" in error.value.fields
    with pytest.raises(ApplicationError):
        outcome_record(
            by=agent_alice.user,
            client=client_in_a,
            campaign=campaign_a,
            kind="callback_requested",
            callback_at=timezone.now() - timedelta(minutes=1),
        )
    at = timezone.now() + timedelta(days=1)
    outcome_record(
        by=agent_alice.user, client=client_in_a, campaign=campaign_a, kind="callback_requested", callback_at=at
    )
    member = member_of(campaign_a, client_in_a)
    assert member.state == CampaignMember.State.QUEUED and member.next_attempt_at == at


def test_no_answer_and_busy_are_retried_after_their_delay_until_max_attempts(agent_alice, campaign_a, client_in_a):
    campaign_a.max_attempts, campaign_a.retry_no_answer_min, campaign_a.retry_busy_min = 3, 120, 15
    campaign_a.save()
    outcome = outcome_record(by=agent_alice.user, client=client_in_a, campaign=campaign_a, kind="no_answer")
    member = member_of(campaign_a, client_in_a)
    assert member.state == "queued" and member.next_attempt_at == outcome.created_at + timedelta(minutes=120)
    outcome = outcome_record(by=agent_alice.user, client=client_in_a, campaign=campaign_a, kind="busy")
    member.refresh_from_db()
    assert member.state == "queued" and member.next_attempt_at == outcome.created_at + timedelta(minutes=15)
    outcome_record(by=agent_alice.user, client=client_in_a, campaign=campaign_a, kind="no_answer")
    member.refresh_from_db()
    assert member.state == CampaignMember.State.EXHAUSTED and member.attempts == 3


def test_wrong_number_ends_the_member(agent_alice, campaign_a, client_in_a):
    outcome_record(by=agent_alice.user, client=client_in_a, campaign=campaign_a, kind="wrong_number")
    assert member_of(campaign_a, client_in_a).state == CampaignMember.State.DONE


def test_an_agent_not_on_the_campaign_cannot_record_for_it(agent_bob, campaign_a, client_in_a):
    with pytest.raises(Forbidden):
        outcome_record(by=agent_bob.user, client=client_in_a, campaign=campaign_a, kind="no_answer")


def test_outcome_for_a_client_out_of_scope_is_404(client, agent_bob, client_in_a):
    client.force_login(agent_bob.user)
    assert post_outcome(client, to=client_in_a.pk, kind="no_answer").status_code == 404
    assert not ContactOutcome.objects.exists()


def test_outcome_list_shows_only_outcomes_of_visible_clients(client, agent_alice, agent_bob, campaign_a, client_in_a):
    outcome_record(by=agent_alice.user, client=client_in_a, campaign=campaign_a, kind="no_answer")
    client.force_login(agent_bob.user)
    assert client.get(reverse("api-outcome-list")).json()["count"] == 0
    client.force_login(agent_alice.user)
    assert client.get(reverse("api-outcome-list")).json()["count"] == 1


def test_bad_outcome_input_is_400_not_500(client, agent_alice, client_in_a):
    client.force_login(agent_alice.user)
    assert post_outcome(client, to=client_in_a.pk, kind="maybe").status_code == 400
    assert post_outcome(client, to="abc", kind="busy").status_code == 400
    assert post_outcome(client, to=client_in_a.pk, kind="callback_requested", callback_at="tomorrow").status_code == 400
