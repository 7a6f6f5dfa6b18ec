"""Callbacks: after an abandon, a dropped call, a follow-up, and virtual hold."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from calls import services, tasks
from calls.models import AgentPresence, Call, Callback, CallbackStateChange
from calls.tests.factories import QueueFactory, agent_with, make_available, offer, presence_of, ringing_for

pytestmark = pytest.mark.django_db


def abandon(call, *, at=None):
    with transaction.atomic():
        services._call_abandon(call=Call.objects.get(pk=call.pk), now=at or timezone.now(), cause="test")


def test_an_abandoned_call_creates_one_callback(queue):
    call = offer(queue, at=timezone.now() - timedelta(seconds=40))
    abandon(call)
    callback = Callback.objects.get()
    assert callback.kind == Callback.Kind.ABANDONED and callback.state == Callback.State.PENDING
    assert callback.number == call.caller_number and callback.queue == queue and callback.owner is None
    assert callback.due_at > timezone.now() + timedelta(seconds=queue.callback_delay_s - 5)
    # Calling again cancels it; hanging up again makes a new one: one open callback at a time.
    abandon(offer(queue))
    assert Callback.objects.filter(state__in=Callback.OPEN_STATES).count() == 1


def test_two_calls_of_the_same_caller_abandoned_make_one_callback(queue):
    first, second = offer(queue), offer(queue)
    abandon(first)
    abandon(second)
    assert Callback.objects.count() == 1


def test_no_callback_when_the_queue_rule_says_no(fr, billing):
    off = QueueFactory(slug="off", callback_on_abandon=False)
    abandon(offer(off))
    short = QueueFactory(slug="short", callback_min_wait_s=30)
    abandon(offer(short))  # hung up at once
    assert not Callback.objects.exists()


def test_a_due_callback_is_routed_like_a_call_and_completed_when_reached(queue, billing):
    call = offer(queue)
    abandon(call)
    callback = Callback.objects.get()
    agent = agent_with(skills=[billing])
    make_available(agent)

    assert services.callbacks_dispatch_due() == []  # not due yet
    later = callback.due_at + timedelta(seconds=1)
    [callback_call] = services.callbacks_dispatch_due(now=later)

    callback.refresh_from_db()
    callback_call.refresh_from_db()
    assert callback.state == Callback.State.DISPATCHED and callback.attempts == 1
    assert callback_call.direction == Call.Direction.OUTBOUND and callback_call.callback == callback
    assert callback_call.external_id == f"cb-{callback.pk}-1"
    assert callback_call.state == Call.State.RINGING and callback_call.agent == agent

    services.call_accept(agent=agent, call_id=callback_call.pk)
    services.call_end(agent=agent, call_id=callback_call.pk, reason="completed")
    callback.refresh_from_db()
    assert callback.state == Callback.State.COMPLETED
    assert list(
        CallbackStateChange.objects.filter(callback=callback).order_by("pk").values_list("to_state", flat=True)
    ) == [
        "pending",
        "dispatched",
        "completed",
    ]


def test_unanswered_callback_is_tried_again_then_fails(fr, billing):
    q = QueueFactory(slug="retry", required_skill=billing, callback_max_attempts=2, callback_retry_s=600)
    abandon(offer(q))
    callback = Callback.objects.get()
    agent = agent_with(skills=[billing])
    make_available(agent)
    now = callback.due_at
    for attempt in (1, 2):
        [call] = services.callbacks_dispatch_due(now=now)
        services.call_accept(agent=agent, call_id=call.pk)
        services.call_end(agent=agent, call_id=call.pk, reason="no_answer")
        services.call_wrap_up(agent=agent, call_id=call.pk, disposition_code="no-answer")
        callback.refresh_from_db()
        assert callback.attempts == attempt
        now = callback.due_at + timedelta(seconds=1)
    assert callback.state == Callback.State.FAILED
    assert services.callbacks_dispatch_due(now=now + timedelta(days=1)) == []


def test_a_dropped_call_is_called_back_by_the_same_agent_only(queue, billing):
    agent = agent_with(skills=[billing])
    other = agent_with(skills=[billing])
    make_available(agent)
    call = offer(queue)
    services.call_accept(agent=agent, call_id=call.pk)
    services.call_end(agent=agent, call_id=call.pk, reason="dropped")
    callback = Callback.objects.get()
    assert callback.kind == Callback.Kind.DROPPED and callback.owner == agent

    make_available(other, idle_for_s=3600)  # idle much longer: still not theirs
    [callback_call] = services.callbacks_dispatch_due()
    callback_call.refresh_from_db()
    assert callback_call.state == Call.State.QUEUED and callback_call.reserved_for == agent
    assert presence_of(other).state == AgentPresence.State.AVAILABLE

    services.call_wrap_up(agent=agent, call_id=call.pk, disposition_code="resolved")
    callback_call.refresh_from_db()
    assert callback_call.state == Call.State.RINGING and callback_call.agent == agent


def test_virtual_hold_keeps_the_callers_place(queue, billing):
    now = timezone.now()
    first = offer(queue, at=now - timedelta(seconds=90), caller="+33611111111")
    offer(queue, at=now - timedelta(seconds=60), caller="+33622222222")
    with transaction.atomic():
        services._call_request_callback(call=Call.objects.get(pk=first.pk), now=now, cause="test")
    # The caller hangs up: they keep their place.
    abandon(first)
    first.refresh_from_db()
    assert first.state == Call.State.QUEUED and first.virtual_hold
    callback = Callback.objects.get(kind=Callback.Kind.VIRTUAL_HOLD)
    assert callback.state == Callback.State.DISPATCHED and first.callback == callback

    agent = agent_with(skills=[billing])
    make_available(agent)
    assert ringing_for(agent) == first  # offered when its place reached the head of the queue
    services.call_accept(agent=agent, call_id=first.pk)
    services.call_end(agent=agent, call_id=first.pk, reason="completed")
    callback.refresh_from_db()
    assert callback.state == Callback.State.COMPLETED


def test_a_caller_who_calls_again_cancels_their_pending_callback(queue):
    abandon(offer(queue))
    offer(queue)
    assert Callback.objects.get().state == Callback.State.CANCELLED


def test_dispatch_task_is_idempotent(queue, billing):
    abandon(offer(queue))
    callback = Callback.objects.get()
    Callback.objects.filter(pk=callback.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    tasks.dispatch_callback.run(callback.pk)
    tasks.dispatch_callback.run(callback.pk)
    tasks.sweep.run()
    assert Call.objects.filter(callback=callback).count() == 1
    callback.refresh_from_db()
    assert callback.attempts == 1


def test_tasks_are_enqueued_only_after_commit(queue, django_capture_on_commit_callbacks):
    with (
        mock.patch.object(tasks.dispatch_callback, "apply_async") as enqueue,
        django_capture_on_commit_callbacks(execute=False) as on_commit,
    ):
        abandon(offer(queue))
        assert not enqueue.called
    for callback in on_commit:
        with mock.patch.object(tasks.dispatch_callback, "apply_async") as enqueue:
            callback()
            if enqueue.called:
                break
    callback_row = Callback.objects.get()
    enqueue.assert_called_once_with((callback_row.pk,), eta=callback_row.due_at)


def test_a_worker_dying_after_the_claim_loses_no_callback(queue, billing):
    abandon(offer(queue))
    callback = Callback.objects.get()
    due = callback.due_at + timedelta(seconds=1)

    class WorkerDied(Exception):
        pass

    # The worker claims the callback, then dies before its call exists (the claim and the
    # call are one transaction, so the claim goes with it).
    with mock.patch.object(Call.objects, "create", side_effect=WorkerDied), pytest.raises(WorkerDied):
        services.callbacks_dispatch_due(now=due)
    callback.refresh_from_db()
    assert callback.state == Callback.State.PENDING and callback.attempts == 0

    # The message is redelivered (acks_late) or the sweep runs: it is dispatched, once.
    services.callbacks_dispatch_due(now=due)
    services.callbacks_dispatch_due(now=due)
    callback.refresh_from_db()
    assert callback.state == Callback.State.DISPATCHED and callback.attempts == 1
    assert Call.objects.filter(callback=callback).count() == 1


def test_the_opportunistic_sweep_dispatches_due_callbacks_without_beat(queue, settings, client):
    from django.core.cache import cache

    settings.CALLS_SWEEP_INTERVAL_S = 5
    cache.delete("calls:sweep")
    abandon(offer(queue))
    Callback.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    assert Callback.objects.get().state == Callback.State.PENDING
    from calls.tests.test_telephony_api import event, post

    post(client, event(call_id="other", caller="+33698765432"))
    assert Callback.objects.get().state == Callback.State.DISPATCHED
