"""Factories and small helpers for the calls app's tests."""

from datetime import timedelta

import factory
from django.db import transaction
from django.utils import timezone

from agents.models import AgentSkill
from agents.tests.factories import AgentFactory, LanguageFactory, SkillFactory, UserFactory
from calls import acd, services
from calls.models import AgentPresence, Call, Queue

__all__ = ["AgentFactory", "LanguageFactory", "SkillFactory", "UserFactory", "QueueFactory"]


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Queue {n}")
    slug = factory.Sequence(lambda n: f"queue-{n}")
    reservation_timeout_s = 15
    wrap_up_s = 60
    callback_delay_s = 120

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.teams.set(extracted)


_seq = iter(range(1, 10**9))


def offer(queue, *, caller="+33612345678", at=None, external_id=None, route=True) -> Call:
    """A caller reaches the queue (what call.offered does), then routing runs."""
    at = at or timezone.now()
    with transaction.atomic():
        call, _created = services.call_offer(
            external_id=external_id or f"t-{next(_seq)}",
            queue=queue,
            caller_number=caller,
            offered_at=at,
            cause="test",
        )
    if route:
        acd.route_waiting_calls()
    call.refresh_from_db()
    return call


def agent_with(*, skills=(), languages=("fr",), team=None, username=None):
    kwargs = {"languages": list(languages)}
    if team is not None:
        kwargs["team"] = team
    if username:
        kwargs["user"] = UserFactory(username=username, roles=["agent"])
    agent = AgentFactory(**kwargs)
    for skill in skills:
        AgentSkill.objects.create(agent=agent, skill=skill, level=3)
    return agent


def make_available(agent, *, idle_for_s: int | None = None) -> AgentPresence:
    """The agent signs in as available (idle for idle_for_s seconds, if given), and routing runs."""
    presence = services.agent_set_status(agent=agent, status=AgentPresence.State.AVAILABLE)
    if idle_for_s is not None:
        AgentPresence.objects.filter(pk=presence.pk).update(idle_since=timezone.now() - timedelta(seconds=idle_for_s))
        presence.refresh_from_db()
    return presence


def presence_of(agent) -> AgentPresence:
    return AgentPresence.objects.get(agent=agent)


def ringing_for(agent) -> Call | None:
    return Call.objects.filter(agent=agent, state=Call.State.RINGING).first()
