"""The order form and its state machine: draft → submitted → scheduled → completed, or
cancelled, or problem; illegal moves are refused with 409 and leave no trace."""

from datetime import time, timedelta

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from contactcenter.errors import ApplicationError, Conflict
from orders import services
from orders.addresses import address_normalise
from orders.models import Order
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db
S = Order.Status


@pytest.fixture
def draft(agent_alice, client_in_a, fibre):
    return services.order_create(
        by=agent_alice.user,
        client=client_in_a,
        offer=fibre,
        address_line="  12  rue de la   Paix ",
        postal_code="75 002",
        city="paris",
        payment_method="direct_debit",
    )


def tomorrow():
    return timezone.localdate() + timedelta(days=1)


def test_a_draft_takes_the_offers_price_and_a_normalised_address(draft, fibre, agent_alice):
    assert draft.status == S.DRAFT and draft.amount == fibre.price and draft.agent == agent_alice
    assert (draft.address_line, draft.postal_code, draft.city) == ("12 rue de la Paix", "75002", "PARIS")


def test_the_happy_path_writes_a_history_row_per_move(draft, agent_alice, supervisor_sam):
    services.order_submit(order=draft, by=agent_alice.user)
    services.order_schedule(
        order=draft, by=supervisor_sam, scheduled_date=tomorrow(), visit_from=time(8), visit_to=time(12)
    )
    order = services.order_complete(order=draft, by=supervisor_sam)
    assert order.status == S.COMPLETED
    assert [(h.from_status, h.to_status, h.by.username) for h in order.history.all()] == [
        ("", "draft", "alice"),
        ("draft", "submitted", "alice"),
        ("submitted", "scheduled", "sam"),
        ("scheduled", "completed", "sam"),
    ]


@pytest.mark.parametrize(
    "status, to",
    [
        (S.DRAFT, S.SCHEDULED),
        (S.DRAFT, S.COMPLETED),
        (S.SUBMITTED, S.COMPLETED),
        (S.COMPLETED, S.CANCELLED),
        (S.CANCELLED, S.SUBMITTED),
        (S.COMPLETED, S.PROBLEM),
        (S.PROBLEM, S.COMPLETED),
    ],
)
def test_illegal_moves_are_refused_and_change_nothing(status, to, manager_mia):
    order = OrderFactory(status=status, scheduled_date=tomorrow())
    with pytest.raises(Conflict):
        services.order_transition(
            order=order,
            to=to,
            by=manager_mia,
            note="x",
            scheduled_date=tomorrow(),
            description="x",
            assigned_to=manager_mia,
            due_at=timezone.now() + timedelta(hours=1),
        )
    order.refresh_from_db()
    assert order.status == status and not order.history.exists()


def test_illegal_move_through_the_api_is_409(client, manager_mia):
    order = OrderFactory(status=S.COMPLETED)
    client.force_login(manager_mia)
    response = client.post(
        reverse("api-order-transition", args=[order.pk]), {"to": "submitted"}, content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"


def test_every_legal_move_of_the_table_is_accepted(manager_mia):
    for status, targets in Order.TRANSITIONS.items():
        for to in targets:
            order = OrderFactory(status=status, scheduled_date=tomorrow())
            services.order_transition(
                order=order,
                to=to,
                by=manager_mia,
                note="because",
                scheduled_date=tomorrow(),
                description="installers did not come",
                assigned_to=manager_mia,
                due_at=timezone.now() + timedelta(hours=4),
            )
            order.refresh_from_db()
            assert order.status == to


def test_an_incomplete_order_cannot_be_submitted(agent_alice, client_outside):
    order = services.order_create(by=agent_alice.user, client=client_outside, address_line="", postal_code="", city="")
    with pytest.raises(ApplicationError) as error:
        services.order_submit(order=order, by=agent_alice.user)
    assert {"offer", "address_line", "postal_code", "payment_method"} <= set(error.value.fields)
    order.refresh_from_db()
    assert order.status == S.DRAFT


def test_never_cash_to_the_technician(draft, agent_alice, client):
    with pytest.raises(ApplicationError) as error:
        services.order_update(order=draft, by=agent_alice.user, payment_method="cash")
    assert "Never cash" in error.value.fields["payment_method"]
    with pytest.raises(IntegrityError):
        Order.objects.filter(pk=draft.pk).update(payment_method="cash")


def test_api_refuses_cash_and_negative_amounts_with_field_errors(client, agent_alice, draft):
    client.force_login(agent_alice.user)
    url = reverse("api-order-detail", args=[draft.pk])
    response = client.patch(url, {"payment_method": "cash"}, content_type="application/json")
    assert response.status_code == 400 and "payment_method" in response.json()["errors"]
    response = client.patch(url, {"amount": "-5"}, content_type="application/json")
    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.payment_method == "direct_debit" and draft.amount >= 0


@pytest.mark.parametrize(
    "postal_code, country, ok",
    [
        ("75002", "FR", True),
        ("20000", "FR", True),
        ("7500", "FR", False),
        ("99000", "FR", False),
        ("1000", "BE", True),
        ("ABC", "FR", False),
    ],
)
def test_postal_codes_are_checked_per_country(postal_code, country, ok):
    address, errors = address_normalise(line="1 rue X", postal_code=postal_code, city="Ville", country=country)
    assert ("postal_code" not in errors) is ok
    assert address.city == "VILLE"


def test_a_bad_postal_code_is_refused_at_once(draft, agent_alice):
    with pytest.raises(ApplicationError) as error:
        services.order_update(order=draft, by=agent_alice.user, postal_code="7500")
    assert "postal_code" in error.value.fields


def test_a_technician_visit_needs_a_window_in_order(draft, agent_alice, fibre):
    fibre.needs_technician = True
    fibre.save()
    services.order_submit(order=draft, by=agent_alice.user)
    with pytest.raises(ApplicationError):
        services.order_schedule(order=draft, by=agent_alice.user, scheduled_date=tomorrow())
    with pytest.raises(ApplicationError):
        services.order_schedule(
            order=draft, by=agent_alice.user, scheduled_date=tomorrow(), visit_from=time(14), visit_to=time(10)
        )
    with pytest.raises(ApplicationError):
        services.order_schedule(
            order=draft,
            by=agent_alice.user,
            scheduled_date=timezone.localdate() - timedelta(days=1),
            visit_from=time(8),
            visit_to=time(10),
        )
    draft.refresh_from_db()
    assert draft.status == S.SUBMITTED


def test_once_submitted_only_the_scheduling_fields_change(draft, agent_alice):
    services.order_submit(order=draft, by=agent_alice.user)
    with pytest.raises(Conflict):
        services.order_update(order=draft, by=agent_alice.user, amount=1)
    services.order_update(order=draft, by=agent_alice.user, materials="Box fibre, ONT")
    draft.refresh_from_db()
    assert draft.materials == "Box fibre, ONT"


def test_cancelling_needs_a_reason(draft, agent_alice):
    with pytest.raises(ApplicationError):
        services.order_cancel(order=draft, by=agent_alice.user, reason=" ")
    services.order_cancel(order=draft, by=agent_alice.user, reason="Client changed their mind")
    assert draft.history.last().note == "Client changed their mind"


def test_order_form_from_the_desk(client, agent_alice, client_in_a, fibre):
    client.force_login(agent_alice.user)
    url = reverse("orders:order-create") + f"?client={client_in_a.pk}"
    page = client.get(url).content.decode()
    assert client_in_a.address_line in page
    response = client.post(
        url,
        {
            "offer": fibre.pk,
            "address_line": "3 place Bellecour",
            "postal_code": "69002",
            "city": "Lyon",
            "country": "FR",
            "amount": "39.00",
            "payment_method": "card",
        },
    )
    order = Order.objects.get()
    assert response["Location"] == reverse("orders:order-detail", args=[order.pk])
    assert order.city == "LYON" and order.taken_by == agent_alice.user
    response = client.post(reverse("orders:order-transition", args=[order.pk]), {"to": "submitted"}, follow=True)
    assert "The order is now submitted" in response.content.decode()


def test_order_form_shows_errors_instead_of_failing(client, agent_alice, client_in_a):
    client.force_login(agent_alice.user)
    url = reverse("orders:order-create") + f"?client={client_in_a.pk}"
    response = client.post(
        url, {"postal_code": "123", "city": "Lyon", "address_line": "x", "country": "FR", "amount": "1"}
    )
    assert response.status_code == 400 and "is not a postal code of FR" in response.content.decode()
    assert not Order.objects.exists()
