"""Factories and helpers for the quality app's tests.

Calls are made directly with calls.models (a completed, answered call of an agent), so
these tests depend only on the calls app's models.
"""

from datetime import datetime, time, timedelta
from itertools import count

import factory
from django.utils import timezone

from agents.tests.factories import AgentFactory, UserFactory
from calls.models import Call, Queue
from qa import services
from qa.models import Scorecard

_numbers = count(1)


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue
        django_get_or_create = ("slug",)

    name = "QA test queue"
    slug = "qa-test"


def at_local(day, hour: int = 10, minute: int = 0) -> datetime:
    """An aware datetime on a calendar day of the center's time zone."""
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_default_timezone())


class CallFactory(factory.django.DjangoModelFactory):
    """A completed inbound call the agent answered."""

    class Meta:
        model = Call

    external_id = factory.LazyFunction(lambda: f"qa-t-{next(_numbers)}")
    direction = Call.Direction.INBOUND
    caller_number = factory.LazyFunction(lambda: f"+336{next(_numbers):08d}")
    queue = factory.SubFactory(QueueFactory)
    agent = factory.SubFactory(AgentFactory)
    state = Call.State.COMPLETED
    offered_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    answered_at = factory.LazyAttribute(lambda c: c.offered_at + timedelta(seconds=20))
    ended_at = factory.LazyAttribute(lambda c: c.answered_at + timedelta(seconds=c.talk_s))
    talk_s = 240
    hold_s = 0
    wrap_up_s = 30
    end_reason = Call.EndReason.COMPLETED
    recording_url = factory.LazyAttribute(lambda c: f"https://recordings.example.test/{c.external_id}.mp3")


# A small scorecard whose answers are easy to compute by hand:
# greeting (w1, yes/no), identity checked (w2, yes/no), solution (w3, 0..4),
# personal data protected (w1, yes/no, critical, never N/A).
BASIC_SECTIONS = [
    {
        "title": "Opening",
        "criteria": [
            {"label": "Greets the client", "weight": 1},
            {"label": "Checks identity", "weight": 2},
        ],
    },
    {
        "title": "Handling",
        "criteria": [
            {"label": "Solves the request", "weight": 3, "scale": "points", "max_points": 4, "allows_na": False},
            {"label": "Protects personal data", "weight": 1, "is_critical": True, "allows_na": False},
        ],
    },
]


def make_scorecard(name: str = "Inbound service", sections=None) -> Scorecard:
    return services.scorecard_create(name=name, sections=sections or BASIC_SECTIONS)


def criteria_of(version) -> dict:
    """{label: criterion} of a scorecard version."""
    from qa.models import Criterion

    return {c.label: c for c in Criterion.objects.filter(section__version=version)}


def scores_payload(version, values: dict, comments: dict | None = None) -> list[dict]:
    """[{"criterion", "value", "comment"}] from {label: value}."""
    criteria = criteria_of(version)
    comments = comments or {}
    return [
        {"criterion": criteria[label].pk, "value": value, "comment": comments.get(label, "")}
        for label, value in values.items()
    ]


PERFECT = {
    "Greets the client": "yes",
    "Checks identity": "yes",
    "Solves the request": 4,
    "Protects personal data": "yes",
}


def submitted_review(*, reviewer, call=None, agent=None, values=None, scorecard=None):
    """A review of a call, scored with `values` (default: perfect) and submitted."""
    scorecard = scorecard or Scorecard.objects.first() or make_scorecard()
    call = call or CallFactory(**({"agent": agent} if agent else {}))
    review = services.review_start(reviewer=reviewer, call_id=call.pk, scorecard_id=scorecard.pk)
    services.review_save_scores(
        review=review, by=reviewer, scores=scores_payload(review.scorecard_version, values or PERFECT)
    )
    return services.review_submit(review=review, by=reviewer)


def qa_lead(username: str = "lena"):
    """A QA analyst who may resolve disputes (the qa.resolve_dispute permission)."""
    from django.contrib.auth.models import Permission

    user = UserFactory(username=username, first_name="Lena", roles=["qa_analyst"])
    user.user_permissions.add(Permission.objects.get(content_type__app_label="qa", codename="resolve_dispute"))
    return type(user).objects.get(pk=user.pk)  # fresh: no cached permissions


# --- What the system records: orders and contact outcomes (clients and orders apps) ---------------


def _client():
    from clients.models import Client

    return Client.objects.create(full_name=f"Client {next(_numbers)}")


def record_outcome(agent, at, *, kind: str = "accepted", campaign=None):
    from clients.models import ContactOutcome, RefusalReason

    reason = None
    if kind == "refused":
        reason, _ = RefusalReason.objects.get_or_create(code="qa-test-price", defaults={"label": "Too expensive"})
    return ContactOutcome.objects.create(
        client=_client(), kind=kind, agent=agent, by=agent.user, campaign=campaign, refusal_reason=reason, created_at=at
    )


def collections_campaign():
    from clients.models import Campaign

    campaign, _ = Campaign.objects.get_or_create(name="Recouvrement test", defaults={"kind": "collections"})
    return campaign


def record_order(agent, at, *, amount="0", status: str = "submitted", collections: bool = False):
    """An order the agent took at `at`; from a collections campaign's accepted outcome if asked."""
    from decimal import Decimal

    from orders.models import Order

    outcome = record_outcome(agent, at, campaign=collections_campaign()) if collections else None
    return Order.objects.create(
        client=outcome.client if outcome else _client(),
        outcome=outcome,
        agent=agent,
        taken_by=agent.user,
        status=status,
        amount=Decimal(amount),
        service="Test service",
        created_at=at,
    )
