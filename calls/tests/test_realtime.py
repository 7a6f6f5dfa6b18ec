"""Pushes to desks and wallboards leave only after commit (calls/realtime.py)."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from calls import realtime
from calls.tests.factories import agent_with, make_available, offer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    # These tests check when pushes leave (after commit) and what they say, not Redis: the
    # in-memory layer lets one test listen across the event loops async_to_sync creates.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def listen(group: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


def received(channel: str) -> list[dict]:
    layer = get_channel_layer()

    async def drain():
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), timeout=0.2))
            except TimeoutError:
                return messages

    return async_to_sync(drain)()


def test_the_offer_reaches_the_agents_desk_only_after_commit(queue, billing, django_capture_on_commit_callbacks):
    agent = agent_with(skills=[billing])
    desk = listen(realtime.agent_group(agent.pk))
    board = listen(realtime.queue_group(queue.pk))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_available(agent)
        call = offer(queue)
    assert received(desk) == [] and received(board) == []  # nothing before the commit

    for callback in callbacks:
        callback()

    desk_messages = received(desk)
    offered = [m for m in desk_messages if m["type"] == "call.offered"]
    assert len(offered) == 1 and offered[0]["call"]["id"] == call.pk and offered[0]["call"]["state"] == "ringing"
    assert {m["type"] for m in desk_messages} >= {"call.offered", "presence.updated"}
    statuses = [m for m in received(board) if m["type"] == "queue.status"]
    assert statuses and statuses[-1]["queue"] == queue.pk and statuses[-1]["waiting"] == 0


def test_nothing_is_pushed_when_the_transaction_rolls_back(queue, django_capture_on_commit_callbacks):
    from django.db import transaction
    from django.utils import timezone

    from calls import services

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        try:
            with transaction.atomic():
                services.call_offer(
                    external_id="rolled-back",
                    queue=queue,
                    caller_number="+33612345678",
                    offered_at=timezone.now(),
                    cause="test",
                )
                raise RuntimeError("rollback")
        except RuntimeError:
            pass
    assert callbacks == []


def test_queue_status_sequence_grows_by_one_per_message(queue):
    board = listen(realtime.queue_group(queue.pk))
    realtime.push_queue_status(queue.pk)
    realtime.push_queue_status(queue.pk)
    seqs = [m["seq"] for m in received(board)]
    assert len(seqs) == 2 and seqs[1] == seqs[0] + 1


def test_one_status_push_per_queue_per_transaction(queue, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        realtime.queue_changed(queue.pk)
        realtime.queue_changed(queue.pk)
    assert len(callbacks) == 1


@pytest.fixture
def throttled(settings, queue, monkeypatch):
    """A 250 ms status window with a real (not eager) Celery: scheduled flushes are recorded."""
    from django.core.cache import cache

    from calls import tasks

    settings.CALLS_QUEUE_STATUS_INTERVAL_MS = 250
    for mark in ("window", "pending"):
        cache.delete(f"calls:queue-status-{mark}:{queue.pk}")
    scheduled = []
    monkeypatch.setattr(
        tasks.flush_queue_status, "apply_async", lambda args, countdown: scheduled.append((args, countdown))
    )
    return scheduled


def test_status_changes_within_a_window_fold_into_one_trailing_push(queue, billing, throttled):
    board = listen(realtime.queue_group(queue.pk))
    realtime.push_queue_status(queue.pk)  # the first change of the window goes out at once
    first = received(board)
    assert [m["waiting"] for m in first] == [0]

    offer(queue, external_id="w-1", route=False)  # both wait
    offer(queue, external_id="w-2", route=False)
    realtime.push_queue_status(queue.pk)
    realtime.push_queue_status(queue.pk)
    assert received(board) == []  # folded, not sent
    assert throttled == [((queue.pk,), 0.25)]  # one trailing push, at the window's end

    realtime.flush_queue_status(queue.pk)  # what the Celery task runs
    trailing = received(board)
    assert [m["waiting"] for m in trailing] == [2]  # the state at the end of the window
    assert trailing[0]["seq"] == first[0]["seq"] + 1  # no gap for the boards

    realtime.push_queue_status(queue.pk)  # inside the window the flush opened: scheduled again
    assert len(throttled) == 2 and received(board) == []


def test_an_interval_of_zero_pushes_every_change(queue, settings, throttled):
    settings.CALLS_QUEUE_STATUS_INTERVAL_MS = 0
    board = listen(realtime.queue_group(queue.pk))
    for _ in range(3):
        realtime.push_queue_status(queue.pk)
    assert len(received(board)) == 3 and throttled == []
