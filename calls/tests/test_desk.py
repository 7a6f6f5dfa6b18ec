"""The agent desk page and the state a (re)connecting desk receives."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calls import selectors, services
from calls.models import Announcement, AnnouncementReceipt, Call
from calls.tests.factories import QueueFactory, agent_with, make_available, offer
from clients.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_only_agents_open_the_desk(client, agent_alice, supervisor_sam, hr_hana):
    url = reverse("calls:desk")
    assert client.get(url).status_code == 302  # to the sign-in page
    for user in (supervisor_sam, hr_hana):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.force_login(agent_alice.user)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    # Everything the page loads comes from this server: no CDN.
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html
    assert "/static/calls/desk.js" in html and 'id="desk-initial"' in html
    # The keyboard shortcuts are on the page.
    for key in ("A", "E", "W", "X"):
        assert f"<kbd>{key}</kbd>" in html


def test_an_incoming_call_pops_with_the_callers_client_record_and_history(team_a, fr):
    queue = QueueFactory(name="Q", slug="pop", required_language=fr, teams=[team_a])
    agent = agent_with(team=team_a, username="popper")
    known = ClientFactory(full_name="Jeanne Client", numbers=["+33611112222"])
    # An earlier call of the same client is part of the history.
    earlier = offer(queue, caller="+33611112222", route=False)
    Call.objects.filter(pk=earlier.pk).update(client=known, state=Call.State.ABANDONED)
    make_available(agent)
    call = offer(queue, caller="+33611112222")
    Call.objects.filter(pk=call.pk).update(client=known)
    state = selectors.desk_state(agent=agent)
    assert state["presence"]["state"] == "reserved"
    card = state["call"]
    assert card["id"] == call.pk and card["state"] == "ringing"
    assert card["client"]["name"] == "Jeanne Client"
    assert card["client"]["links"]["order"] == f"/orders/new/?client={known.pk}"
    assert card["client"]["links"]["outcome"] == f"/clients/{known.pk}/outcome/"
    assert len(card["client"]["history"]) == 1  # the earlier call, not this one


def test_an_unknown_caller_pops_with_the_number_only(team_a, fr):
    queue = QueueFactory(name="Q", slug="unknown", required_language=fr, teams=[team_a])
    agent = agent_with(team=team_a, username="nobody")
    make_available(agent)
    offer(queue, caller="+33699998888")
    card = selectors.desk_state(agent=agent)["call"]
    assert card["caller_number"] == "+33699998888" and card["client"] is None


def test_my_day_counts_calls_handled_and_aht_against_targets(team_a, fr):
    queue = QueueFactory(name="Q", slug="day", required_language=fr, teams=[team_a])
    agent = agent_with(team=team_a, username="dayer")
    agent.calls_per_day_target = 40
    agent.aht_target_s = 200
    agent.save(update_fields=["calls_per_day_target", "aht_target_s"])
    make_available(agent)
    call = offer(queue)
    services.call_accept(agent=agent, call_id=call.pk)
    services.call_end(agent=agent, call_id=call.pk)
    services.call_wrap_up(agent=agent, call_id=call.pk, disposition_code=_disposition())
    Call.objects.filter(pk=call.pk).update(talk_s=100, hold_s=20, wrap_up_s=30)
    day = selectors.desk_state(agent=agent)["my_day"]
    assert day == {"handled": 1, "target": 40, "aht_s": 150.0, "aht_target_s": 200}


def _disposition():
    from calls.models import Disposition

    return Disposition.objects.get_or_create(code="resolved", defaults={"label": "Resolved"})[0].code


def test_the_desk_lists_its_teams_announcements_with_what_it_read(team_a, team_b, supervisor_sam):
    agent = agent_with(team=team_a, username="reader")
    mine = services.announcement_post(
        author=supervisor_sam, body="For team A", team_ids=[team_a.pk], allowed_team_ids=[team_a.pk, team_b.pk]
    )
    services.announcement_post(
        author=supervisor_sam, body="For team B", team_ids=[team_b.pk], allowed_team_ids=[team_a.pk, team_b.pk]
    )
    services.announcement_mark_read(agent=agent, announcement_id=mine.pk)
    services.announcement_mark_read(agent=agent, announcement_id=mine.pk)  # twice: one receipt
    listed = selectors.desk_state(agent=agent)["announcements"]
    assert [(a["body"], a["read"]) for a in listed] == [("For team A", True)]
    assert AnnouncementReceipt.objects.filter(announcement=mine).count() == 1


def test_an_announcement_goes_only_to_the_authors_teams(client, team_a, team_b, supervisor_sam):
    client.force_login(supervisor_sam)
    url = reverse("calls:announcement-create")
    client.post(url, {"body": "Hello B", "teams": [team_b.pk]})
    client.post(url, {"body": "", "teams": [team_a.pk]})
    client.post(url, {"body": "x", "teams": ["nonsense"]})
    assert not Announcement.objects.exists()
    response = client.post(url, {"body": "Hello A", "teams": [team_a.pk]})
    assert response.status_code == 302
    assert list(Announcement.objects.values_list("body", flat=True)) == ["Hello A"]


def test_an_agent_cannot_post_an_announcement(client, agent_alice, team_a):
    client.force_login(agent_alice.user)
    response = client.post(reverse("calls:announcement-create"), {"body": "Hi", "teams": [team_a.pk]})
    assert response.status_code == 403
    assert not Announcement.objects.exists()


def test_old_announcements_leave_the_desk(team_a, supervisor_sam):
    agent = agent_with(team=team_a, username="old")
    old = services.announcement_post(
        author=supervisor_sam, body="Last week", team_ids=[team_a.pk], allowed_team_ids=[team_a.pk]
    )
    Announcement.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    assert selectors.desk_state(agent=agent)["announcements"] == []


def test_the_desk_state_takes_a_bounded_number_of_queries(django_assert_max_num_queries, team_a, supervisor_sam):
    agent = agent_with(team=team_a, username="bounded")
    for i in range(5):
        QueueFactory(name=f"Q{i}", slug=f"bq{i}", teams=[team_a])
        services.announcement_post(
            author=supervisor_sam, body=f"n{i}", team_ids=[team_a.pk], allowed_team_ids=[team_a.pk]
        )
    with django_assert_max_num_queries(10):
        state = selectors.desk_state(agent=agent)
    assert len(state["queues"]) == 5 and len(state["announcements"]) == 5
