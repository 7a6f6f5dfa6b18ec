import factory

from agents.tests.factories import UserFactory
from clients.tests.factories import ClientFactory
from orders.models import Order


class OrderFactory(factory.django.DjangoModelFactory):
    """An order written directly in a given status (set-up); the rules are tested through services."""

    class Meta:
        model = Order

    client = factory.SubFactory(ClientFactory)
    service = "Installation fibre"
    address_line = "12 RUE DE LA PAIX"
    postal_code = "75002"
    city = "PARIS"
    amount = 49
    payment_method = Order.PaymentMethod.CARD
    taken_by = factory.SubFactory(UserFactory)
