"""The client record's one timeline: calls, outcomes, orders, callbacks, newest first."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.models import Callback
from calls.tests.factories import QueueFactory
from clients.selectors import client_timeline
from clients.tests.factories import ContactOutcomeFactory, StayReasonFactory, make_call
from orders.services import order_create

pytestmark = pytest.mark.django_db


def history(client, agent, *, days_ago: int):
    """One day of contacts with a client: a call, its outcome, an order, a callback, a survey answer."""
    at = timezone.now() - timedelta(days=days_ago)
    make_call(client=client, agent=agent, at=at)
    ContactOutcomeFactory(
        client=client, kind="no_answer", by=agent.user, agent=agent, created_at=at + timedelta(minutes=1)
    )
    order = order_create(by=agent.user, client=client, service=f"Ride {days_ago}")
    type(order).objects.filter(pk=order.pk).update(created_at=at + timedelta(minutes=2))
    callback = Callback.objects.create(
        kind=Callback.Kind.FOLLOW_UP,
        number="+33612345678",
        client=client,
        queue=QueueFactory(slug="history", name="History"),
        owner=agent,
        due_at=at + timedelta(days=1),
    )
    Callback.objects.filter(pk=callback.pk).update(created_at=at + timedelta(minutes=3))
    client.provider_survey_answers.create(
        provider="Orange", reason=StayReasonFactory(), by=agent.user, created_at=at + timedelta(minutes=4)
    )


def test_timeline_merges_every_kind_of_contact_newest_first(agent_alice, client_in_a):
    history(client_in_a, agent_alice, days_ago=3)
    history(client_in_a, agent_alice, days_ago=1)
    entries = client_timeline(client=client_in_a)
    assert [e.kind for e in entries] == ["survey", "callback", "order", "outcome", "call"] * 2
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    assert entries[2].title.startswith("Order CMD-") and entries[2].url == reverse(
        "orders:order-detail", args=[entries[2].obj.pk]
    )


def test_the_record_page_shows_the_timeline_without_n_plus_one(
    client, agent_alice, client_in_a, django_assert_max_num_queries
):
    history(client_in_a, agent_alice, days_ago=5)
    client.force_login(agent_alice.user)
    url = reverse("clients:client-detail", args=[client_in_a.pk])
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    for day in range(4):
        history(client_in_a, agent_alice, days_ago=day)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count("Ride ") == 5 and page.count("Stays with Orange") == 5


def test_timeline_api(client, agent_alice, client_in_a):
    history(client_in_a, agent_alice, days_ago=1)
    client.force_login(agent_alice.user)
    data = client.get(reverse("api-client-timeline", args=[client_in_a.pk])).json()
    assert [row["kind"] for row in data] == ["survey", "callback", "order", "outcome", "call"]
