"""The agent's side of the API, and who may see what (per role, through HTTP)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from calls import services
from calls.models import AgentPresence, Call, Callback, PresenceInterval
from calls.tests.factories import QueueFactory, agent_with, make_available, offer, presence_of

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def served_queue(queue, team_a):
    queue.teams.set([team_a])
    return queue


@pytest.fixture
def alice(agent_alice, billing):
    agent_alice.skill_levels.create(skill=billing, level=3)
    return agent_alice


@pytest.fixture
def bob(agent_bob, billing):
    agent_bob.skill_levels.create(skill=billing, level=3)
    return agent_bob


def test_status_available_break_offline(alice, served_queue):
    client = api(alice.user)
    response = client.post("/api/agents/me/status/", {"status": "available"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "available"

    response = client.post("/api/agents/me/status/", {"status": "break"}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    response = client.post("/api/agents/me/status/", {"status": "break", "reason": "missed"}, format="json")
    assert response.status_code == 400  # the system's reason, not the agent's
    response = client.post("/api/agents/me/status/", {"status": "break", "reason": "lunch"}, format="json")
    assert response.json() == {**response.json(), "state": "break", "reason": "lunch"}
    assert client.post("/api/agents/me/status/", {"status": "offline"}, format="json").json()["state"] == "offline"
    assert client.post("/api/agents/me/status/", {"status": "on_call"}, format="json").status_code == 400
    states = list(
        PresenceInterval.objects.filter(agent=alice).order_by("started_at", "pk").values_list("state", "reason")
    )
    assert states == [("offline", ""), ("available", ""), ("break", "lunch"), ("offline", "")]


def test_status_is_for_agents_only(supervisor_sam, client):
    assert api(supervisor_sam).post("/api/agents/me/status/", {"status": "available"}, format="json").status_code == 403
    assert client.post("/api/agents/me/status/", {"status": "available"}).status_code in (401, 403)


def test_going_available_routes_the_waiting_call(alice, served_queue):
    call = offer(served_queue)
    api(alice.user).post("/api/agents/me/status/", {"status": "available"}, format="json")
    call.refresh_from_db()
    assert call.state == Call.State.RINGING and call.agent == alice


def test_declining_a_ringing_call_puts_it_back_at_its_place(alice, bob, served_queue):
    make_available(alice, idle_for_s=100)
    call = offer(served_queue, at=timezone.now() - timedelta(seconds=40))
    assert call.agent == alice
    response = api(alice.user).post("/api/agents/me/status/", {"status": "break", "reason": "meeting"}, format="json")
    assert response.status_code == 200
    offered_at = call.offered_at
    assert Call.objects.get(pk=call.pk).state == Call.State.QUEUED
    make_available(bob)
    call.refresh_from_db()
    assert call.agent == bob and call.offered_at == offered_at and call.missed_count == 0


def test_status_change_is_refused_during_a_call(alice, served_queue):
    make_available(alice)
    call = offer(served_queue)
    client = api(alice.user)
    client.post(f"/api/calls/{call.pk}/accept/")
    response = client.post("/api/agents/me/status/", {"status": "break", "reason": "lunch"}, format="json")
    assert response.status_code == 409
    assert presence_of(alice).state == AgentPresence.State.ON_CALL


def test_accept_end_wrap_up_escalate(alice, served_queue):
    make_available(alice)
    call = offer(served_queue)
    client = api(alice.user)

    response = client.post(f"/api/calls/{call.pk}/accept/")
    assert response.status_code == 200 and response.json()["state"] == "in_progress"
    assert client.post(f"/api/calls/{call.pk}/accept/").status_code == 200  # twice: nothing changes
    response = client.post(f"/api/calls/{call.pk}/escalate/", {"reason": "angry"}, format="json")
    assert response.status_code == 200 and response.json()["escalated"] is True
    assert client.post(f"/api/calls/{call.pk}/wrap-up/", {"disposition": "resolved"}, format="json").status_code == 409
    response = client.post(f"/api/calls/{call.pk}/end/", {"reason": "completed"}, format="json")
    assert response.json()["state"] == "wrap_up"
    response = client.post(f"/api/calls/{call.pk}/wrap-up/", {"disposition": "nope"}, format="json")
    assert response.status_code == 400 and "disposition" in response.json()["errors"]
    follow_up = timezone.now() + timedelta(days=1)
    response = client.post(
        f"/api/calls/{call.pk}/wrap-up/",
        {"disposition": "follow-up", "notes": "wants a quote", "follow_up_at": follow_up.isoformat()},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "completed" and body["disposition"] == "follow-up" and body["notes"] == "wants a quote"
    assert presence_of(alice).state == AgentPresence.State.AVAILABLE
    callback = Callback.objects.get(kind=Callback.Kind.FOLLOW_UP)
    assert callback.owner == alice and callback.due_at == follow_up


def test_follow_up_in_the_past_is_refused(alice, served_queue):
    make_available(alice)
    call = offer(served_queue)
    client = api(alice.user)
    client.post(f"/api/calls/{call.pk}/accept/")
    client.post(f"/api/calls/{call.pk}/end/")
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    response = client.post(
        f"/api/calls/{call.pk}/wrap-up/", {"disposition": "sale", "follow_up_at": past}, format="json"
    )
    assert response.status_code == 400 and "follow_up_at" in response.json()["errors"]
    assert Call.objects.get(pk=call.pk).state == Call.State.WRAP_UP


def test_an_agent_cannot_act_on_someone_elses_call(alice, bob, served_queue, supervisor_sam):
    make_available(alice)
    call = offer(served_queue)
    for path in ("accept", "end", "wrap-up", "escalate"):
        assert (
            api(bob.user).post(f"/api/calls/{call.pk}/{path}/", {"disposition": "sale"}, format="json").status_code
            == 404
        )
        assert api(supervisor_sam).post(f"/api/calls/{call.pk}/{path}/").status_code == 403
    assert api(bob.user).post("/api/calls/999999/accept/").status_code == 404
    for path in ("accept", "end", "wrap-up", "escalate"):  # beyond any id the database can hold
        assert api(bob.user).post(f"/api/calls/{10**20}/{path}/", {"disposition": "sale"}).status_code == 404
    call.refresh_from_db()
    assert call.state == Call.State.RINGING and call.agent == alice


def test_call_list_is_scoped_per_role(
    alice, bob, served_queue, supervisor_sam, supervisor_sue, manager_mia, trainer_tom, qa_quinn
):
    make_available(alice)
    mine = offer(served_queue)
    make_available(bob)
    bobs = offer(served_queue)
    waiting = offer(served_queue)

    def ids(user):
        response = api(user).get("/api/calls/")
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids(alice.user) == {mine.pk}
    assert ids(bob.user) == {bobs.pk}
    assert ids(supervisor_sam) == {mine.pk}
    assert ids(supervisor_sue) == {bobs.pk}
    assert ids(manager_mia) == ids(qa_quinn) == {mine.pk, bobs.pk, waiting.pk}
    assert ids(trainer_tom) == set()
    assert api(bob.user).get(f"/api/calls/{mine.pk}/").status_code == 404
    assert api(alice.user).get(f"/api/calls/{mine.pk}/").status_code == 200


def test_call_list_has_no_n_plus_one(manager_mia, served_queue, django_assert_max_num_queries):
    from clients.models import Client, ClientPhone

    for i in range(3):
        offer(served_queue, caller=f"+3361234567{i}")
    client = api(manager_mia)
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/calls/").json()["results"]) == 3
    for i in range(15):
        c = Client.objects.create(full_name=f"C{i}")
        ClientPhone.objects.create(client=c, number=f"+336987654{i:02d}")
        agent = agent_with(skills=[served_queue.required_skill])
        make_available(agent)
        offer(served_queue, caller=f"+336987654{i:02d}")
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/calls/").json()["results"]) == 18


def test_queue_status_per_role(alice, served_queue, supervisor_sam, supervisor_sue, manager_mia, trainer_tom, billing):
    other = QueueFactory(slug="other", required_skill=billing)
    make_available(alice)
    offer(served_queue, at=timezone.now() - timedelta(seconds=50))  # rings for alice
    offer(served_queue, at=timezone.now() - timedelta(seconds=30))  # waits

    def slugs(user):
        response = api(user).get("/api/queues/status/")
        return response.status_code, [q["slug"] for q in response.json()] if response.status_code == 200 else None

    assert slugs(alice.user) == (200, ["billing-fr"])
    assert slugs(supervisor_sam) == (200, ["billing-fr"])
    assert slugs(supervisor_sue) == (200, [])
    assert sorted(slugs(manager_mia)[1]) == ["billing-fr", "other"]
    assert slugs(trainer_tom)[0] == 403
    row = next(q for q in api(manager_mia).get("/api/queues/status/").json() if q["slug"] == "billing-fr")
    assert row["waiting"] == 1 and 25 <= row["longest_wait_s"] <= 40
    assert row["agents"]["reserved"] == 1 and row["agents"]["available"] == 0
    assert row["today"]["offered"] == 2 and row["today"]["answered"] == 0
    assert other.pk != served_queue.pk


def test_queue_status_query_count_does_not_grow_with_queues(manager_mia, billing, django_assert_max_num_queries):
    for i in range(2):
        QueueFactory(slug=f"q{i}", required_skill=billing)
    make_available(agent_with(skills=[billing]))
    client = api(manager_mia)
    with django_assert_max_num_queries(10) as small:
        client.get("/api/queues/status/")
    for i in range(2, 12):
        QueueFactory(slug=f"q{i}", required_skill=billing)
        make_available(agent_with(skills=[billing]))
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get("/api/queues/status/").json()) == 12


def test_callbacks_list_shows_own_and_team_queue_callbacks(alice, bob, served_queue, manager_mia, client):
    # An abandoned caller in alice's team's queue.
    call = offer(served_queue)
    with transaction.atomic():
        services._call_abandon(call=call, now=timezone.now(), cause="test")

    def ids(user):
        return {row["id"] for row in api(user).get("/api/callbacks/").json()["results"]}

    callback = Callback.objects.get()
    assert ids(alice.user) == {callback.pk}
    assert ids(bob.user) == set()
    assert ids(manager_mia) == {callback.pk}
    assert client.get("/api/callbacks/").status_code in (401, 403)


def test_dispositions_are_listed(alice):
    codes = {row["code"] for row in api(alice.user).get("/api/dispositions/").json()}
    assert {"resolved", "sale", "complaint", "transferred", "information"} <= codes


def test_swagger_ui_and_schema_are_served_locally(client, manager_mia):
    client.force_login(manager_mia)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/telephony/events/", "/api/agents/me/status/", "/api/queues/status/", "/api/calls/{id}/wrap-up/"):
        assert path in text
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"cdn" not in docs.content.lower()
