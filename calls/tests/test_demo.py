"""The demo data: queues, presence rows and a consistent history, seeded idempotently."""

import io

import pytest
from django.db.models import Count

from agents import demo as agents_demo
from calls import demo
from calls.models import AgentPresence, Call, Callback, PresenceInterval, Queue

pytestmark = pytest.mark.django_db


def test_seed_creates_queues_history_and_presence_and_is_idempotent():
    out = io.StringIO()
    agents_demo.seed(stdout=out)
    demo.seed(stdout=out)

    assert set(Queue.objects.values_list("slug", flat=True)) >= {
        "service-client",
        "support-technique",
        "ventes",
        "ligne-anglophone",
    }
    assert Queue.objects.get(slug="ligne-anglophone").required_language_id == "en"
    assert Queue.objects.get(slug="service-client").teams.filter(name="Service client").exists()
    calls = Call.objects.filter(external_id__startswith=demo.PREFIX)
    assert calls.count() > 2000
    assert calls.filter(state=Call.State.ABANDONED).exists() and calls.filter(state=Call.State.COMPLETED).exists()
    assert Callback.objects.exists()
    assert AgentPresence.objects.count() == 30
    # Every agent's log is one chain: at most one open interval each.
    assert (
        not PresenceInterval.objects.filter(ended_at__isnull=True)
        .values("agent")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    # Answered calls were answered by an agent eligible for the queue, and while they were on shift.
    sample = calls.filter(state=Call.State.COMPLETED).select_related("queue", "agent").first()
    assert sample.agent.languages.filter(code=sample.queue.required_language_id).exists()

    before = (Call.objects.count(), PresenceInterval.objects.count(), Queue.objects.count())
    demo.seed(stdout=out)
    assert (Call.objects.count(), PresenceInterval.objects.count(), Queue.objects.count()) == before
