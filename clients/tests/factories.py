from datetime import UTC, date, datetime, time

import factory

from clients.models import (
    Campaign,
    CampaignMember,
    Client,
    ClientPhone,
    ContactOutcome,
    Offer,
    RefusalReason,
    StayReason,
)


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client
        skip_postgeneration_save = True

    full_name = factory.Faker("name", locale="fr_FR")
    address_line = factory.Sequence(lambda n: f"{n + 1} rue de la Paix")
    postal_code = "75002"
    city = "PARIS"

    @factory.post_generation
    def numbers(self, create, extracted, **kwargs):
        """ClientFactory(numbers=["+33612345678"]); by default one unique mobile number."""
        if not create:
            return
        for number in extracted if extracted is not None else [f"+3361{self.pk:07d}"]:
            ClientPhone.objects.create(client=self, number=number)


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"offer-{n}")
    name = factory.Sequence(lambda n: f"Offer {n}")
    category = "internet"
    price = 39
    commitment_months = 12
    active_from = date(2020, 1, 1)


class RefusalReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RefusalReason
        django_get_or_create = ("code",)

    code = "too_expensive"
    label = "Too expensive"
    reoffer_rule = RefusalReason.ReofferRule.CHEAPER


class StayReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StayReason
        django_get_or_create = ("code",)

    code = "commitment"
    label = "Still under commitment"


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Campaign {n}")
    status = Campaign.Status.RUNNING
    offer = factory.SubFactory(OfferFactory)
    starts_at = datetime(2020, 1, 1, tzinfo=UTC)
    # Every hour of every day, so tests do not depend on the clock; hours are tested apart.
    calling_hours_start = time(0, 0)
    calling_hours_end = time(23, 59, 59)
    calling_weekdays = "1234567"

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.teams.set(extracted)

    @factory.post_generation
    def agents(self, create, extracted, **kwargs):
        if create and extracted:
            self.agents.set(extracted)


class CampaignMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignMember

    campaign = factory.SubFactory(CampaignFactory)
    client = factory.SubFactory(ClientFactory)


class ContactOutcomeFactory(factory.django.DjangoModelFactory):
    """A recorded outcome written directly (history set-up); tests of the rules use outcome_record."""

    class Meta:
        model = ContactOutcome

    client = factory.SubFactory(ClientFactory)
    kind = ContactOutcome.Kind.NO_ANSWER
    by = factory.SubFactory("agents.tests.factories.UserFactory")


def make_call(*, client, agent=None, at=None, queue=None, **fields):
    """A finished call of the history (for scope and timeline tests), without routing."""
    from django.utils import timezone

    from calls.models import Call
    from calls.tests.factories import QueueFactory

    at = at or timezone.now()
    state = Call.State.COMPLETED if agent is not None else Call.State.ABANDONED
    return Call.objects.create(
        external_id=f"hist-{Call.objects.count() + 1}-{client.pk}",
        client=client,
        caller_number=client.phones.values_list("number", flat=True).first() or "+33100000000",
        queue=queue or QueueFactory(slug="history", name="History"),
        agent=agent,
        state=state,
        offered_at=at,
        answered_at=at if agent else None,
        ended_at=at,
        talk_s=120 if agent else 0,
        **fields,
    )
