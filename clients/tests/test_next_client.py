""" "Next client": the next due member, atomically, within the dialing rules."""

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from agents.tests.factories import AgentFactory
from clients.dialing import next_calling_time, within_calling_hours
from clients.models import Campaign, CampaignMember
from clients.services import campaign_next_member, outcome_record
from clients.tests.factories import CampaignFactory, CampaignMemberFactory, ClientFactory
from contactcenter.errors import ApplicationError, Forbidden


def members(campaign, *due_in_minutes, **client_fields):
    now = timezone.now()
    return [
        CampaignMemberFactory(
            campaign=campaign, client=ClientFactory(**client_fields), next_attempt_at=now + timedelta(minutes=m)
        )
        for m in due_in_minutes
    ]


@pytest.mark.django_db
def test_next_client_hands_the_longest_due_member_and_locks_it(agent_alice, agent_arthur, campaign_a):
    late, early, future = members(campaign_a, -5, -30, 10)
    first = campaign_next_member(campaign=campaign_a, agent=agent_alice)
    assert first == early
    first.refresh_from_db()
    assert first.state == CampaignMember.State.CLAIMED and first.assigned_agent == agent_alice
    assert first.locked_until > timezone.now()
    assert campaign_next_member(campaign=campaign_a, agent=agent_arthur) == late
    assert campaign_next_member(campaign=campaign_a, agent=AgentFactory(team=agent_alice.team)) is None


@pytest.mark.django_db
def test_pressing_next_twice_gives_the_same_client_back(agent_alice, campaign_a):
    members(campaign_a, -2, -1)
    assert campaign_next_member(campaign=campaign_a, agent=agent_alice) == campaign_next_member(
        campaign=campaign_a, agent=agent_alice
    )


@pytest.mark.django_db
def test_a_claim_without_outcome_comes_back_when_its_lease_runs_out(agent_alice, agent_arthur, campaign_a):
    (member,) = members(campaign_a, -1)
    campaign_next_member(campaign=campaign_a, agent=agent_alice)
    assert campaign_next_member(campaign=campaign_a, agent=agent_arthur) is None
    later = timezone.now() + timedelta(minutes=30)
    assert campaign_next_member(campaign=campaign_a, agent=agent_arthur, now=later) == member


@pytest.mark.django_db
def test_after_an_outcome_the_agent_gets_the_next_one(agent_alice, campaign_a):
    first, second = members(campaign_a, -2, -1)
    assert campaign_next_member(campaign=campaign_a, agent=agent_alice) == first
    outcome_record(by=agent_alice.user, client=first.client, campaign=campaign_a, kind="no_answer")
    assert campaign_next_member(campaign=campaign_a, agent=agent_alice) == second


@pytest.mark.django_db
def test_members_past_their_attempts_are_not_handed(agent_alice, campaign_a):
    (member,) = members(campaign_a, -1)
    CampaignMember.objects.filter(pk=member.pk).update(attempts=campaign_a.max_attempts)
    assert campaign_next_member(campaign=campaign_a, agent=agent_alice) is None


@pytest.mark.django_db
def test_only_agents_on_the_campaign_may_pull(agent_bob, campaign_a):
    members(campaign_a, -1)
    with pytest.raises(Forbidden):
        campaign_next_member(campaign=campaign_a, agent=agent_bob)


@pytest.mark.django_db
def test_agents_named_on_a_campaign_may_pull_without_their_team(agent_bob, fibre):
    campaign = CampaignFactory(name="Named", offer=fibre, agents=[agent_bob])
    (member,) = members(campaign, -1)
    assert campaign_next_member(campaign=campaign, agent=agent_bob) == member


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Campaign.Status.DRAFT, Campaign.Status.PAUSED, Campaign.Status.FINISHED])
def test_only_running_campaigns_hand_clients(agent_alice, campaign_a, status):
    members(campaign_a, -1)
    Campaign.objects.filter(pk=campaign_a.pk).update(status=status)
    campaign_a.refresh_from_db()
    with pytest.raises(ApplicationError):
        campaign_next_member(campaign=campaign_a, agent=agent_alice)


@pytest.mark.django_db
def test_calling_hours_are_read_in_the_clients_own_time_zone(agent_alice, campaign_a):
    campaign_a.calling_hours_start, campaign_a.calling_hours_end = time(9), time(20)
    campaign_a.save()
    # 19:30 UTC on a Wednesday: 20:30 in Paris (closed), 15:30 in Montreal (open).
    now = datetime(2025, 3, 12, 19, 30, tzinfo=UTC)
    paris = CampaignMemberFactory(
        campaign=campaign_a, client=ClientFactory(time_zone="Europe/Paris"), next_attempt_at=now - timedelta(hours=2)
    )
    montreal = CampaignMemberFactory(
        campaign=campaign_a,
        client=ClientFactory(time_zone="America/Montreal"),
        next_attempt_at=now - timedelta(hours=1),
    )
    assert campaign_next_member(campaign=campaign_a, agent=agent_alice, now=now) == montreal
    paris.refresh_from_db()
    # Moved to the next opening where the client lives: 09:00 Paris on Thursday.
    assert paris.state == "queued" and paris.next_attempt_at == datetime(2025, 3, 13, 8, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_crowd_out_of_hours_at_the_head_does_not_hide_the_callable_ones(agent_alice, campaign_a):
    campaign_a.calling_hours_start, campaign_a.calling_hours_end = time(9), time(20)
    campaign_a.save()
    now = datetime(2025, 3, 12, 14, 0, tzinfo=UTC)  # 15:00 in Paris, 23:00 in Tokyo
    tokyo = [
        CampaignMemberFactory(
            campaign=campaign_a, client=ClientFactory(time_zone="Asia/Tokyo"), next_attempt_at=now - timedelta(hours=5)
        )
        for _ in range(60)
    ]
    paris = CampaignMemberFactory(campaign=campaign_a, client=ClientFactory(), next_attempt_at=now - timedelta(hours=1))
    assert campaign_next_member(campaign=campaign_a, agent=agent_alice, now=now) == paris
    # The Tokyo members wait for 09:00 in Tokyo (00:00 UTC), unclaimed.
    assert set(CampaignMember.objects.filter(pk__in=[m.pk for m in tokyo]).values_list("state", "next_attempt_at")) == {
        ("queued", datetime(2025, 3, 13, 0, 0, tzinfo=UTC))
    }


@pytest.mark.django_db
def test_an_unset_zone_means_the_centers(campaign_a, settings):
    settings.TIME_ZONE = "Europe/Paris"
    campaign_a.calling_hours_start, campaign_a.calling_hours_end, campaign_a.calling_weekdays = (
        time(9),
        time(20),
        "12345",
    )
    at = datetime(2025, 3, 12, 7, 30, tzinfo=UTC)  # 08:30 in Paris
    assert not within_calling_hours(campaign_a, "", at)
    assert within_calling_hours(campaign_a, "", at + timedelta(hours=1))
    # Friday 20:00 in Paris → Monday 09:00.
    friday_evening = datetime(2025, 3, 14, 19, 0, tzinfo=UTC)
    assert next_calling_time(campaign_a, "", friday_evening) == datetime(2025, 3, 17, 8, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_next_client_api(client, agent_alice, agent_bob, campaign_a):
    (member,) = members(campaign_a, -1)
    client.force_login(agent_alice.user)
    response = client.post(reverse("api-campaign-next", args=[campaign_a.pk]))
    assert response.status_code == 200
    assert response.json()["id"] == member.pk and response.json()["client"]["id"] == member.client_id
    outcome_record(by=agent_alice.user, client=member.client, campaign=campaign_a, kind="wrong_number")
    assert client.post(reverse("api-campaign-next", args=[campaign_a.pk])).status_code == 204
    client.force_login(agent_bob.user)
    assert client.post(reverse("api-campaign-next", args=[campaign_a.pk])).status_code == 404


@pytest.mark.django_db
def test_next_client_button_opens_the_record_in_the_campaign(client, agent_alice, campaign_a):
    (member,) = members(campaign_a, -1)
    client.force_login(agent_alice.user)
    response = client.post(reverse("clients:campaign-next", args=[campaign_a.pk]))
    assert (
        response["Location"] == reverse("clients:client-detail", args=[member.client_id]) + f"?campaign={campaign_a.pk}"
    )
    page = client.get(response["Location"]).content.decode()
    assert campaign_a.name in page and "Record the outcome" in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_agents_pulling_at_once_never_get_the_same_member(require_postgres, team_a, fibre):
    campaign = CampaignFactory(name="Rush", offer=fibre, teams=[team_a])
    agents = [AgentFactory(team=team_a) for _ in range(20)]
    now = timezone.now()
    CampaignMember.objects.bulk_create(
        CampaignMember(campaign=campaign, client=ClientFactory(), next_attempt_at=now - timedelta(seconds=i))
        for i in range(100)
    )
    handed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(len(agents))

    def pull(agent):
        try:
            start.wait()
            for _ in range(4):
                member = campaign_next_member(campaign=campaign, agent=agent)
                if member is None:
                    break
                with lock:
                    handed.append(member.pk)
                # Finish with the member so the agent may pull another (attempts left: requeued later).
                CampaignMember.objects.filter(pk=member.pk).update(
                    state="queued", next_attempt_at=now + timedelta(hours=1), assigned_agent=None, locked_until=None
                )
        except BaseException as exc:  # noqa: BLE001 -- reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pull, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(handed) == 80
    assert len(set(handed)) == len(handed), "a member was handed twice"
