"""A new offer answers recorded refusals: the rule per reason picks exactly the right clients."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Campaign, RefusalReason
from clients.selectors import reoffer_clients
from clients.services import offer_publish
from clients.tests.factories import (
    CampaignFactory,
    ClientFactory,
    ContactOutcomeFactory,
    OfferFactory,
    RefusalReasonFactory,
)
from contactcenter.errors import Conflict

pytestmark = pytest.mark.django_db
Rule = RefusalReason.ReofferRule


@pytest.fixture
def world(team_a, agent_alice):
    """Refusals recorded over the past weeks, one client per case (see the comments)."""
    fibre39 = OfferFactory(code="fibre39", name="Fibre 39", category="internet", price=39, commitment_months=12)
    mobile = OfferFactory(code="mobile", name="Mobile 5G", category="mobile", price=15, commitment_months=0)
    reasons = {
        code: RefusalReasonFactory(code=code, label=code, reoffer_rule=rule)
        for code, rule in [
            ("too_expensive", Rule.CHEAPER),
            ("has_provider", Rule.NO_COMMITMENT),
            ("no_need", Rule.NEW_SERVICE),
            ("bad_timing", Rule.ANY_OFFER),
            ("distrust", Rule.NONE),
        ]
    }
    campaign = CampaignFactory(name="Fibre spring", offer=fibre39, teams=[team_a])
    start = timezone.now() - timedelta(days=30)
    clients = {}

    def refused(name, offer, reason, days=0, **client_fields):
        client = clients.get(name) or ClientFactory(full_name=name, **client_fields)
        clients[name] = client
        ContactOutcomeFactory(
            client=client,
            kind="refused",
            offer=offer,
            refusal_reason=reasons[reason],
            campaign=campaign,
            by=agent_alice.user,
            created_at=start + timedelta(days=days),
        )
        return client

    refused("A too expensive", fibre39, "too_expensive")
    refused("B distrust", fibre39, "distrust")
    refused("C too expensive, do not call", fibre39, "too_expensive", do_not_call=True)
    d = refused("D too expensive, accepted since", fibre39, "too_expensive")
    ContactOutcomeFactory(
        client=d, kind="accepted", offer=mobile, by=agent_alice.user, created_at=start + timedelta(days=5)
    )
    refused("E too expensive then no need of mobile", fibre39, "too_expensive")
    refused("E too expensive then no need of mobile", mobile, "no_need", days=10)
    refused("F mobile too expensive", mobile, "too_expensive")
    refused("G no need of fibre", fibre39, "no_need")
    refused("H bad timing", fibre39, "bad_timing")
    refused("I has a provider", fibre39, "has_provider")
    j = ClientFactory(full_name="J refused without an offer")
    ContactOutcomeFactory(client=j, kind="refused", refusal_reason=reasons["bad_timing"], by=agent_alice.user)
    return clients, campaign


def names(queryset):
    return sorted(client.full_name[0] for client in queryset)


def test_a_cheaper_offer_of_the_same_category(world):
    fibre29 = OfferFactory(code="fibre29", name="Fibre 29", category="internet", price=29, commitment_months=12)
    # A: too expensive → cheaper; E: latest refusal is "no need" of mobile → fibre is another
    # service; H: bad timing → any offer. Not B (distrust), C (do not call), D (accepted
    # since), F (cheaper but another category), G (no need of this very service), I (still a
    # commitment), J (no offer refused).
    assert names(reoffer_clients(offer=fibre29)) == ["A", "E", "H"]


def test_an_offer_without_commitment_answers_those_who_have_a_provider(world):
    free = OfferFactory(code="fibre-free", name="Fibre libre", category="internet", price=45, commitment_months=0)
    assert names(reoffer_clients(offer=free)) == ["E", "H", "I"]


def test_a_new_service_answers_those_who_had_no_need(world):
    tv = OfferFactory(code="tv", name="TV", category="tv", price=50, commitment_months=12)
    assert names(reoffer_clients(offer=tv)) == ["E", "G", "H"]


def test_the_rule_is_data_editable_per_reason(world):
    RefusalReason.objects.filter(code="distrust").update(reoffer_rule=Rule.ANY_OFFER)
    tv = OfferFactory(code="tv", name="TV", category="tv", price=50, commitment_months=12)
    assert names(reoffer_clients(offer=tv)) == ["B", "E", "G", "H"]


def test_publishing_builds_a_running_reoffer_campaign_ready_to_call(world, team_a, agent_alice):
    clients, source = world
    fibre29 = OfferFactory(code="fibre29", name="Fibre 29", category="internet", price=29, commitment_months=12)
    campaign = offer_publish(offer=fibre29)
    fibre29.refresh_from_db()
    assert fibre29.published_at is not None
    assert campaign.is_reoffer and campaign.status == Campaign.Status.RUNNING and campaign.offer == fibre29
    assert sorted(m.client.full_name[0] for m in campaign.members.select_related("client")) == ["A", "E", "H"]
    assert list(campaign.teams.all()) == [team_a]  # the team that heard the refusals
    from clients.dialing import next_calling_time
    from clients.services import campaign_next_member

    # Ready to call within its calling hours (the test must not depend on the hour it runs at).
    opening = next_calling_time(campaign, "", timezone.now())
    assert campaign_next_member(campaign=campaign, agent=agent_alice, now=opening) is not None
    with pytest.raises(Conflict):
        offer_publish(offer=fibre29)
    assert Campaign.objects.filter(is_reoffer=True).count() == 1


def test_publishing_an_offer_that_answers_nobody_builds_no_campaign(world):
    dear = OfferFactory(code="fibre-dear", name="Fibre 99", category="internet", price=99, commitment_months=24)
    RefusalReason.objects.filter(code__in=["bad_timing", "no_need"]).update(reoffer_rule=Rule.NONE)
    assert offer_publish(offer=dear) is None
    assert not Campaign.objects.filter(is_reoffer=True).exists()


def test_publishing_through_the_api_is_for_managers(client, world, agent_alice, manager_mia):
    fibre29 = OfferFactory(code="fibre29", name="Fibre 29", category="internet", price=29, commitment_months=12)
    client.force_login(agent_alice.user)
    assert client.post(reverse("api-offer-publish", args=[fibre29.pk])).status_code == 403
    client.force_login(manager_mia)
    response = client.post(reverse("api-offer-publish", args=[fibre29.pk]))
    assert response.status_code == 200 and response.json()["clients"] == 3
    assert client.post(reverse("api-offer-publish", args=[fibre29.pk])).status_code == 409
