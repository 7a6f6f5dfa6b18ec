"""Who sees which order, the back-office list with its filters, CSV export (managers)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import ClientAccessLog
from orders.models import Order
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(agent_alice, agent_bob):
    today = timezone.localdate()
    return {
        "alice_draft": OrderFactory(agent=agent_alice, taken_by=agent_alice.user, status="draft", city="PARIS"),
        "alice_scheduled": OrderFactory(
            agent=agent_alice,
            taken_by=agent_alice.user,
            status="scheduled",
            scheduled_date=today + timedelta(days=2),
            city="LYON",
        ),
        "bob_problem": OrderFactory(agent=agent_bob, taken_by=agent_bob.user, status="problem", city="LYON"),
    }


def refs(response):
    assert response.status_code == 200
    return sorted(row["reference"] for row in response.json()["results"])


def test_agents_see_their_own_orders(client, orders, agent_alice, agent_bob):
    client.force_login(agent_alice.user)
    assert refs(client.get(reverse("api-order-list"))) == sorted(
        [orders["alice_draft"].reference, orders["alice_scheduled"].reference]
    )
    assert client.get(reverse("api-order-detail", args=[orders["bob_problem"].pk])).status_code == 404
    assert client.get(reverse("orders:order-detail", args=[orders["bob_problem"].pk])).status_code == 404
    response = client.post(
        reverse("api-order-transition", args=[orders["bob_problem"].pk]),
        {"to": "cancelled", "note": "x"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert Order.objects.get(pk=orders["bob_problem"].pk).status == "problem"


def test_supervisors_see_their_teams_orders_and_managers_all(client, orders, supervisor_sam, manager_mia, hr_hana):
    client.force_login(supervisor_sam)
    assert len(refs(client.get(reverse("api-order-list")))) == 2
    client.force_login(manager_mia)
    assert len(refs(client.get(reverse("api-order-list")))) == 3
    client.force_login(hr_hana)
    assert refs(client.get(reverse("api-order-list"))) == []
    assert client.get(reverse("orders:order-list")).status_code == 403


def test_filters_of_the_back_office_list(client, orders, manager_mia):
    client.force_login(manager_mia)
    assert refs(client.get(reverse("api-order-list"), {"status": "problem"})) == [orders["bob_problem"].reference]
    assert len(refs(client.get(reverse("api-order-list"), {"city": "lyon"}))) == 2
    soon = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert refs(client.get(reverse("api-order-list"), {"scheduled_from": soon})) == [
        orders["alice_scheduled"].reference
    ]
    page = client.get(reverse("orders:order-list"), {"status": ["draft", "problem"]}).content.decode()
    assert orders["alice_draft"].reference in page and orders["bob_problem"].reference in page
    assert orders["alice_scheduled"].reference not in page


def test_csv_export_is_for_managers_and_keeps_the_filters(client, orders, manager_mia, supervisor_sam, agent_alice):
    client.force_login(manager_mia)
    response = client.get(reverse("orders:order-export"), {"city": "lyon"})
    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200 and body.splitlines()[0].startswith("reference,status,client")
    assert len(body.strip().splitlines()) == 3  # header + the two Lyon orders
    assert client.get(reverse("api-order-export")).status_code == 200
    assert ClientAccessLog.objects.filter(via="export", user=manager_mia).count() == 2
    for user in (supervisor_sam, agent_alice.user):
        client.force_login(user)
        assert client.get(reverse("orders:order-export")).status_code == 403
        assert client.get(reverse("api-order-export")).status_code == 403


def test_order_list_has_no_n_plus_one(client, manager_mia, agent_alice, django_assert_max_num_queries):
    OrderFactory.create_batch(3, agent=agent_alice)
    client.force_login(manager_mia)
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("api-order-list"))
    OrderFactory.create_batch(12, agent=agent_alice)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("api-order-list")).json()["count"] == 15
    with django_assert_max_num_queries(15) as few_page:
        client.get(reverse("orders:order-list"))
    OrderFactory.create_batch(10, agent=agent_alice)
    with django_assert_max_num_queries(len(few_page.captured_queries)):
        client.get(reverse("orders:order-list"))


def test_orders_of_a_client_out_of_scope_cannot_be_created(client, agent_bob, client_in_a):
    client.force_login(agent_bob.user)
    response = client.post(
        reverse("api-order-list"), {"client": client_in_a.pk, "service": "x"}, content_type="application/json"
    )
    assert response.status_code == 404 and not Order.objects.exists()
