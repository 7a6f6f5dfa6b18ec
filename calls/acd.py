"""ACD routing: one pass, in one transaction, matches waiting calls with free agents.

The rules of the floor:
- calls wait in order: the queue's priority first (higher first), then arrival
  (offered_at, which a call keeps when its reservation times out);
- a free agent gets the longest-waiting call they are eligible for; of several free
  eligible agents, the one idle the longest gets it (ACD, not round-robin);
- eligible means holding the queue's required skill and language; a callback owned by
  an agent (a dropped call, a follow-up) waits for that agent only;
- a call rings on one desk at a time and an agent has one call at a time, whatever
  queues they are in (AgentPresence.state and Call's call_one_held_per_agent constraint);
- a call that rings longer than its queue's reservation timeout goes back to its place
  and the agent goes on break ("missed"); wrap-ups longer than the queue's wrap-up time
  end, and the agent is free.

Why the pass is sound under concurrency is written in calls/locks.py.
"""

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agents.models import Agent, AgentSkill

from . import services
from .locks import commit_asynchronously, retry_on_conflict, take_routing_lock
from .models import AgentPresence, Call, Queue


@retry_on_conflict
def route_waiting_calls(*, now: datetime | None = None, then: Callable[[], object] | None = None) -> list[Call]:
    """Run one routing pass: expire overdue reservations and wrap-ups, then give every
    waiting call that has an eligible free agent to the right one. Returns the calls rung.

    Call it after the change that may create a match has committed (see calls/locks.py);
    running it again at once finds nothing to do. `then` runs inside the pass's transaction
    once matching is done (the telephony API stores its answer there: one commit fewer)."""
    with transaction.atomic():
        take_routing_lock()
        # Released at commit: not held across a disk flush (durability: see calls/locks.py).
        commit_asynchronously()
        # The clock is read once the lock is held: passes are ordered, and so are their times.
        now = now or timezone.now()
        queues = {q["id"]: q for q in Queue.objects.values(*_QUEUE_FIELDS)}
        _expire_reservations(now=now)
        _expire_wrap_ups(now=now, queues=queues)
        rung = []
        while True:
            made, retry = _match(now=now, queues=queues)
            rung += made
            if not retry:
                break
        if then is not None:
            then()
    return rung


_QUEUE_FIELDS = ("id", "priority", "required_skill_id", "required_language_id", "reservation_timeout_s", "wrap_up_s")


def _expire_reservations(*, now: datetime) -> None:
    """Calls ringing past their reservation go back to their place; the agent goes on break
    ("missed") so the next call does not ring on an empty desk."""
    # Lock order (locks.py): each call, then its agent's presence.
    for call in (
        Call.objects.select_for_update()
        .filter(state=Call.State.RINGING, reservation_expires_at__lte=now)
        .order_by("pk")
    ):
        presence = services._presence_for_update(agent_id=call.agent_id, now=now)
        services._call_requeue(call=call, now=now, cause="reservation timeout", missed=True)
        if presence.state == AgentPresence.State.RESERVED and presence.current_call_id == call.pk:
            services.presence_transition(
                presence=presence,
                to=AgentPresence.State.BREAK,
                reason=AgentPresence.Reason.MISSED,
                now=now,
                cause=f"missed {call.external_id}",
            )


def _expire_wrap_ups(*, now: datetime, queues: dict) -> None:
    """Wrap-ups longer than their queue's wrap-up time end: the call is completed (its outcome
    may still be recorded once) and the agent is free."""
    limits = [q["wrap_up_s"] for q in queues.values() if q["wrap_up_s"]]
    if not limits:
        return
    candidates = Call.objects.filter(
        state=Call.State.WRAP_UP, queue__wrap_up_s__gt=0, ended_at__lte=now - timedelta(seconds=min(limits))
    ).values_list("pk", "queue_id", "ended_at")
    overdue = [
        pk
        for pk, queue_id, ended_at in candidates
        if ended_at + timedelta(seconds=queues[queue_id]["wrap_up_s"]) <= now
    ]
    for call in Call.objects.select_for_update().filter(pk__in=overdue, state=Call.State.WRAP_UP).order_by("pk"):
        services._call_complete_wrap_up(call=call, now=now, cause="wrap-up time over")


def _match(*, now: datetime, queues: dict) -> tuple[list[Call], bool]:
    """Greedy matching in queue order. Returns (calls rung, whether to look again because a
    row changed under us)."""
    free = list(
        AgentPresence.objects.filter(state=AgentPresence.State.AVAILABLE)
        .order_by(F("idle_since").asc(nulls_first=True), "agent_id")
        .values_list("agent_id", flat=True)
    )
    if not free:
        return [], False
    skills = defaultdict(set)
    for agent_id, skill_id in AgentSkill.objects.filter(agent_id__in=free).values_list("agent_id", "skill_id"):
        skills[agent_id].add(skill_id)
    languages = defaultdict(set)
    for agent_id, language_id in Agent.languages.through.objects.filter(agent_id__in=free).values_list(
        "agent_id", "language_id"
    ):
        languages[agent_id].add(language_id)
    eligible = {
        agent_id: {
            queue_id
            for queue_id, q in queues.items()
            if (q["required_skill_id"] is None or q["required_skill_id"] in skills[agent_id])
            and (q["required_language_id"] is None or q["required_language_id"] in languages[agent_id])
        }
        for agent_id in free
    }
    # For each queue, as many head calls as it has free eligible agents: no more can be rung now.
    wanted = defaultdict(int)
    for queue_ids in eligible.values():
        for queue_id in queue_ids:
            wanted[queue_id] += 1
    candidates = []
    for queue_id, count in wanted.items():
        candidates += (
            Call.objects.filter(queue_id=queue_id, state=Call.State.QUEUED, reserved_for__isnull=True)
            .order_by("offered_at", "pk")
            .values_list("pk", "queue_id", "offered_at", "reserved_for_id")[:count]
        )
    candidates += Call.objects.filter(state=Call.State.QUEUED, reserved_for_id__in=free).values_list(
        "pk", "queue_id", "offered_at", "reserved_for_id"
    )
    if not candidates:
        return [], False
    candidates.sort(key=lambda c: (-queues[c[1]]["priority"], c[2], c[0]))

    taken: set[int] = set()
    rung: list[Call] = []
    retry = False
    for call_id, queue_id, _offered_at, owner_id in candidates:
        if owner_id is not None:
            choices = [owner_id] if owner_id not in taken else []
        else:
            choices = [a for a in free if a not in taken and queue_id in eligible[a]]
        if not choices:
            continue
        # Lock order (locks.py): the call, then the agent's presence. FOR UPDATE waits for a
        # short transaction holding the row, then re-reads it: the filter is checked again.
        call = Call.objects.select_for_update().filter(pk=call_id, state=Call.State.QUEUED).first()
        if call is None:
            retry = True  # abandoned meanwhile: a call further back may now be reachable
            continue
        for agent_id in choices:
            presence = (
                AgentPresence.objects.select_for_update()
                .filter(agent_id=agent_id, state=AgentPresence.State.AVAILABLE)
                .first()
            )
            taken.add(agent_id)
            if presence is None:
                retry = True  # went on break meanwhile
                continue
            services._call_ring(
                call=call, presence=presence, now=now, reservation_timeout_s=queues[queue_id]["reservation_timeout_s"]
            )
            rung.append(call)
            break
    return rung, retry
