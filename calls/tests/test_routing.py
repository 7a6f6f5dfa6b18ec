"""The rules of the floor, through the services: who gets which call."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from calls import acd, services
from calls.models import AgentPresence, Call, CallStateChange, PresenceInterval
from calls.tests.factories import QueueFactory, agent_with, make_available, offer, presence_of, ringing_for

pytestmark = pytest.mark.django_db


def test_calls_wait_in_arrival_order_and_a_free_agent_gets_the_longest_waiting(queue, billing):
    now = timezone.now()
    later = offer(queue, at=now - timedelta(seconds=10))
    first = offer(queue, at=now - timedelta(seconds=30))
    middle = offer(queue, at=now - timedelta(seconds=20))
    agent = agent_with(skills=[billing])

    make_available(agent)

    assert ringing_for(agent) == first
    for call in (later, middle):
        call.refresh_from_db()
        assert call.state == Call.State.QUEUED


def test_longest_idle_agent_gets_the_call_not_round_robin(queue, billing):
    recent = agent_with(skills=[billing])
    longest = agent_with(skills=[billing])
    middle = agent_with(skills=[billing])
    make_available(recent, idle_for_s=10)
    make_available(longest, idle_for_s=300)
    make_available(middle, idle_for_s=60)

    call = offer(queue)

    assert call.state == Call.State.RINGING
    assert call.agent == longest
    # And the next call goes to the next longest idle, not to whoever's turn it is.
    assert offer(queue).agent == middle


def test_agent_without_the_queue_skill_or_language_is_not_rung(queue, billing, en):
    no_skill = agent_with(skills=[], languages=["fr"])
    english_only = agent_with(skills=[billing], languages=["en"])
    make_available(no_skill, idle_for_s=500)
    make_available(english_only, idle_for_s=400)

    call = offer(queue)
    assert call.state == Call.State.QUEUED

    eligible = agent_with(skills=[billing], languages=["fr", "en"])
    make_available(eligible)
    call.refresh_from_db()
    assert call.agent == eligible


def test_queue_without_requirements_takes_any_agent(db):
    open_queue = QueueFactory(required_skill=None, required_language=None)
    agent = agent_with(skills=[], languages=["de"])
    make_available(agent)
    assert offer(open_queue).agent == agent


def test_higher_priority_queue_is_served_first(fr, billing):
    low = QueueFactory(slug="low", priority=0, required_skill=billing)
    high = QueueFactory(slug="high", priority=5, required_skill=billing)
    now = timezone.now()
    older_low = offer(low, at=now - timedelta(seconds=120))
    newer_high = offer(high, at=now - timedelta(seconds=5))
    agent = agent_with(skills=[billing])

    make_available(agent)

    assert ringing_for(agent) == newer_high
    older_low.refresh_from_db()
    assert older_low.state == Call.State.QUEUED


def test_agent_in_several_queues_is_never_rung_twice(fr, billing, en):
    sales = QueueFactory(slug="sales", required_skill=billing, required_language=fr)
    english = QueueFactory(slug="english", required_language=en)
    agent = agent_with(skills=[billing], languages=["fr", "en"])
    make_available(agent)

    a = offer(sales)
    b = offer(english)
    acd.route_waiting_calls()  # once more: nothing new may happen

    b.refresh_from_db()
    assert a.agent == agent and a.state == Call.State.RINGING
    assert b.state == Call.State.QUEUED and b.agent is None
    assert Call.objects.filter(agent=agent, state__in=Call.HELD_STATES).count() == 1
    assert presence_of(agent).state == AgentPresence.State.RESERVED


def test_the_database_refuses_a_second_held_call_for_an_agent(queue, billing):
    agent = agent_with(skills=[billing])
    make_available(agent)
    offer(queue)
    other = offer(queue)
    with pytest.raises(IntegrityError), transaction.atomic():
        Call.objects.filter(pk=other.pk).update(state=Call.State.RINGING, agent=agent)


def test_reservation_timeout_puts_the_call_back_at_its_original_place_and_the_agent_on_break(queue, billing):
    now = timezone.now()
    agent = agent_with(skills=[billing])
    make_available(agent)
    first = offer(queue, at=now - timedelta(seconds=60))
    assert first.agent == agent
    second = offer(queue, at=now - timedelta(seconds=30))

    # Nothing happens before the timeout.
    acd.route_waiting_calls(now=first.reservation_expires_at - timedelta(seconds=1))
    first.refresh_from_db()
    assert first.state == Call.State.RINGING

    acd.route_waiting_calls(now=first.reservation_expires_at + timedelta(seconds=1))

    first.refresh_from_db()
    assert first.state == Call.State.QUEUED and first.agent is None
    assert first.offered_at == now - timedelta(seconds=60)  # its original place
    assert first.missed_count == 1
    presence = presence_of(agent)
    assert presence.state == AgentPresence.State.BREAK and presence.reason == AgentPresence.Reason.MISSED
    # The next free agent gets the call that went back, before the one that arrived later.
    other = agent_with(skills=[billing])
    make_available(other)
    assert ringing_for(other) == first
    second.refresh_from_db()
    assert second.state == Call.State.QUEUED


def test_caller_hanging_up_while_waiting_leaves_the_queue_at_once(queue, billing):
    call = offer(queue)
    with transaction.atomic():
        services._call_abandon(call=call, now=timezone.now(), cause="test")
    call.refresh_from_db()
    assert call.state == Call.State.ABANDONED and call.end_reason == Call.EndReason.ABANDONED

    agent = agent_with(skills=[billing])
    make_available(agent)
    assert ringing_for(agent) is None
    assert presence_of(agent).state == AgentPresence.State.AVAILABLE


def test_caller_hanging_up_while_ringing_frees_the_agent_keeping_their_idle_rank(queue, billing):
    agent = agent_with(skills=[billing])
    make_available(agent, idle_for_s=120)
    idle_since = presence_of(agent).idle_since
    call = offer(queue)
    assert call.agent == agent

    with transaction.atomic():
        services._call_abandon(call=Call.objects.get(pk=call.pk), now=timezone.now(), cause="test")

    presence = presence_of(agent)
    assert presence.state == AgentPresence.State.AVAILABLE
    assert presence.idle_since == idle_since
    assert presence.current_call is None


def test_no_call_waits_while_an_eligible_agent_is_free(queue, billing):
    agents = [agent_with(skills=[billing]) for _ in range(3)]
    calls = [offer(queue) for _ in range(5)]
    for agent in agents:
        make_available(agent)
    states = sorted(Call.objects.filter(pk__in=[c.pk for c in calls]).values_list("state", flat=True))
    assert states.count(Call.State.RINGING) == 3
    assert states.count(Call.State.QUEUED) == 2
    assert not AgentPresence.objects.filter(state=AgentPresence.State.AVAILABLE).exists()


def test_every_move_writes_history_and_the_presence_log(queue, billing):
    agent = agent_with(skills=[billing])
    make_available(agent)
    call = offer(queue)
    services.call_accept(agent=agent, call_id=call.pk)
    services.call_end(agent=agent, call_id=call.pk)
    services.call_wrap_up(agent=agent, call_id=call.pk, disposition_code="resolved")

    moves = list(CallStateChange.objects.filter(call=call).values_list("from_state", "to_state"))
    assert moves == [
        ("", "queued"),
        ("queued", "ringing"),
        ("ringing", "in_progress"),
        ("in_progress", "wrap_up"),
        ("wrap_up", "completed"),
    ]
    log = list(
        PresenceInterval.objects.filter(agent=agent).order_by("started_at", "pk").values_list("state", "ended_at")
    )
    assert [state for state, _ in log] == ["offline", "available", "reserved", "on_call", "wrap_up", "available"]
    assert all(ended is not None for _, ended in log[:-1]) and log[-1][1] is None
    call.refresh_from_db()
    assert call.wait_s >= 0 and call.disposition.code == "resolved"
    assert presence_of(agent).state == AgentPresence.State.AVAILABLE


def test_wrap_up_longer_than_the_queue_allows_ends_and_frees_the_agent(queue, billing):
    agent = agent_with(skills=[billing])
    make_available(agent)
    call = offer(queue)
    services.call_accept(agent=agent, call_id=call.pk)
    services.call_end(agent=agent, call_id=call.pk)
    call.refresh_from_db()

    acd.route_waiting_calls(now=call.ended_at + timedelta(seconds=queue.wrap_up_s + 1))

    call.refresh_from_db()
    assert call.state == Call.State.COMPLETED and call.disposition is None
    assert presence_of(agent).state == AgentPresence.State.AVAILABLE
    # The outcome can still be given once, late.
    services.call_wrap_up(agent=agent, call_id=call.pk, disposition_code="information")
    call.refresh_from_db()
    assert call.disposition.code == "information"
    with pytest.raises(services.CallStateError):
        services.call_wrap_up(agent=agent, call_id=call.pk, disposition_code="sale")


def test_illegal_moves_raise_a_domain_error(queue):
    call = offer(queue)
    with pytest.raises(services.CallStateError):
        services.call_transition(call=call, to=Call.State.COMPLETED, now=timezone.now(), cause="test")
