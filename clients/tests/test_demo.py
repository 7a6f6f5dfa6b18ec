"""The demo data of the client base and orders: what the issue asks for, idempotent, and
every page of the desk and back office renders with it."""

import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from agents import demo as agents_demo
from agents.models import User
from clients import demo as clients_demo
from clients.models import Campaign, Client, ContactOutcome, Offer
from orders import demo as orders_demo
from orders.models import FollowUp, Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    for module in (agents_demo, clients_demo, orders_demo):
        module.seed(stdout=io.StringIO())


@pytest.fixture
def office_hours(monkeypatch):
    """The demo's campaign calls on weekdays from 9:00 to 20:00 in its clients' zone (Paris):
    the clock reads 10:30 there on a weekday, and runs on, so the desk has someone to call
    whatever the hour and the day the tests run."""
    paris = ZoneInfo("Europe/Paris")
    real_now = timezone.now
    started = real_now()
    day = started.astimezone(paris).date()
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    opening = datetime.combine(day, time(10, 30), tzinfo=paris)
    monkeypatch.setattr(timezone, "now", lambda: opening + (real_now() - started))


def counts():
    return (
        Client.objects.count(),
        Offer.objects.count(),
        Campaign.objects.count(),
        ContactOutcome.objects.count(),
        Order.objects.count(),
        FollowUp.objects.count(),
    )


def test_demo_has_clients_offers_a_running_campaign_with_refusals_and_orders_in_every_state(demo):
    assert Client.objects.count() >= 50 and Client.objects.filter(do_not_call=True).exists()
    assert Offer.objects.count() >= 5
    campaign = Campaign.objects.get(name=clients_demo.CAMPAIGN)
    assert campaign.status == Campaign.Status.RUNNING
    assert campaign.outcomes.filter(kind="refused").values("refusal_reason").distinct().count() >= 4
    assert campaign.outcomes.filter(kind="accepted").exists()
    assert set(Order.objects.values_list("status", flat=True)) == set(Order.Status.values)
    assert FollowUp.objects.filter(escalated_to__isnull=False).exists()
    assert Campaign.objects.filter(is_reoffer=True, status="running").get().members.exists()
    before = counts()
    for module in (agents_demo, clients_demo, orders_demo):
        module.seed(stdout=io.StringIO())
    assert counts() == before


def test_demo_pages_render_for_the_agent_and_the_manager(client, office_hours, demo):
    campaign = Campaign.objects.get(name=clients_demo.CAMPAIGN)
    client.force_login(User.objects.get(username="agent"))
    assert client.get(reverse("clients:campaign-list")).status_code == 200
    response = client.post(reverse("clients:campaign-next", args=[campaign.pk]))
    assert response.status_code == 302 and "/clients/" in response["Location"]
    record = client.get(response["Location"])
    assert record.status_code == 200 and "Fibre 1 Gb/s" in record.content.decode()
    assert client.get(response["Location"].replace("/?", "/outcome/?")).status_code == 200
    client.force_login(User.objects.get(username="manager"))
    for url in (
        reverse("clients:client-list"),
        reverse("clients:campaign-detail", args=[campaign.pk]),
        reverse("clients:provider-survey-report"),
        reverse("orders:order-list"),
        reverse("orders:followup-list"),
        reverse("orders:order-detail", args=[Order.objects.filter(status="problem").first().pk]),
        reverse("orders:order-edit", args=[Order.objects.filter(status="draft").first().pk]),
        reverse("admin:clients_client_changelist"),
        reverse("admin:clients_client_import"),
        reverse("admin:clients_campaign_changelist"),
        reverse("admin:clients_offer_changelist"),
        reverse("admin:clients_refusalreason_changelist"),
        reverse("admin:clients_clientaccesslog_changelist"),
        reverse("admin:orders_order_changelist"),
    ):
        assert client.get(url).status_code == 200, url
