"""The confirmation summary the agent reads back, in the client's language."""

from datetime import date, time

import pytest
from django.urls import reverse

from agents.tests.factories import LanguageFactory
from orders.confirmation import order_confirmation_summary
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(agent_alice, fibre):
    fibre.needs_technician = True
    fibre.terms = "12 months"
    fibre.save()
    return OrderFactory(
        offer=fibre,
        agent=agent_alice,
        scheduled_date=date(2030, 5, 6),
        visit_from=time(8),
        visit_to=time(12),
        amount="39.00",
        payment_method="direct_debit",
        materials="Box",
    )


def test_summary_says_what_where_when_how_much_and_never_cash(order):
    text = order_confirmation_summary(order, language="en")
    assert order.reference in text and "Fibre 1 Gb/s" in text
    assert "12 RUE DE LA PAIX, 75002 PARIS" in text
    assert "between 8" in text and "39.00" in text and "direct debit" in text
    assert "never takes cash" in text


def test_summary_is_read_in_the_clients_language(order):
    order.client.preferred_language = LanguageFactory(code="fr", name="Français")
    order.client.save()
    text = order_confirmation_summary(order)
    assert "Vous commandez" in text and "prélèvement" in text and "ne prend jamais d’espèces" in text


def test_summary_api(client, order, agent_alice):
    client.force_login(agent_alice.user)
    response = client.get(reverse("api-order-summary", args=[order.pk]))
    assert response.status_code == 200 and order.reference in response.json()["text"]
