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
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from agents.models import Agent, AgentSkill

from . import services
from .locks import commit_asynchronously, retry_on_conflict, take_routing_lock
from .models import AgentPresence, Call, Queue


def route_waiting_calls(*, now: datetime | None = None) -> list[Call]:
    """Run routing: expire overdue reservations and wrap-ups, then give every waiting call that
    has an eligible free agent to the right one. Returns the calls rung.

    Call it after the change that may create a match has committed (see calls/locks.py);
    running it again at once finds nothing to do. Without a free agent and a waiting call
    (and nothing overdue), no match is possible and the locked pass is skipped: that check
    runs after the change committed, and every later change that makes a match possible
    runs routing again after its own commit. Expiring creates such a change inside a pass,
    so a pass that expired something is followed by another, after its commit."""
    rung: list[Call] = []
    while _worth_a_pass(now or timezone.now()):
        made, expired = _pass(now=now)
        rung += made
        if not expired:
            break
    return rung


def _worth_a_pass(now: datetime) -> bool:
    """Whether a pass could do anything: something overdue, or a free agent and a waiting call."""
    overdue = Call.objects.filter(
        Q(state=Call.State.RINGING, reservation_expires_at__lte=now)
        | Q(state=Call.State.WRAP_UP, wrap_up_expires_at__lte=now)
    )
    if overdue.exists():
        return True
    return (
        AgentPresence.objects.filter(state=AgentPresence.State.AVAILABLE).exists()
        and Call.objects.filter(state=Call.State.QUEUED).exists()
    )


@retry_on_conflict
def _pass(*, now: datetime | None) -> tuple[list[Call], bool]:
    """One routing pass in its own transaction, under the routing lock. Returns (calls rung,
    whether it expired anything)."""
    with transaction.atomic():
        take_routing_lock()
        # Released at commit: not held across a disk flush (durability: see calls/locks.py).
        commit_asynchronously()
        # The clock is read once the lock is held: passes are ordered, and so are their times.
        now = now or timezone.now()
        queues = {q["id"]: q for q in Queue.objects.values(*_QUEUE_FIELDS)}
        expired = _expire(now=now)
        rung = []
        while True:
            made, retry = _match(now=now, queues=queues)
            rung += made
            if not retry:
                break
    return rung, expired


_QUEUE_FIELDS = ("id", "priority", "required_skill_id", "required_language_id", "reservation_timeout_s")


def _expire(*, now: datetime) -> bool:
    """Calls ringing past their reservation go back to their place, and the agent goes on break
    ("missed") so the next call does not ring on an empty desk. Wrap-ups longer than their
    queue's wrap-up time end: the call is completed (its outcome may still be recorded once)
    and the agent is free. One query finds both, in the common case nothing."""
    overdue = Q(state=Call.State.RINGING, reservation_expires_at__lte=now) | Q(
        state=Call.State.WRAP_UP, wrap_up_expires_at__lte=now
    )
    candidates = list(Call.objects.filter(overdue).values_list("pk", "state"))
    if not candidates:
        return False
    rang_out = [pk for pk, state in candidates if state == Call.State.RINGING]
    wrapped = [pk for pk, state in candidates if state == Call.State.WRAP_UP]
    # Lock order (locks.py): each call, then its agent's presence. The filter is checked again
    # on the locked row: an agent may have answered it in the meantime.
    for call in (
        Call.objects.select_for_update()
        .filter(pk__in=rang_out, state=Call.State.RINGING, reservation_expires_at__lte=now)
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
    for call in (
        Call.objects.select_for_update()
        .filter(pk__in=wrapped, state=Call.State.WRAP_UP, wrap_up_expires_at__lte=now)
        .order_by("pk")
    ):
        services._call_complete_wrap_up(call=call, now=now, cause="wrap-up time over")
    return True


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
            # The pass read its clock when it took the lock; the transaction that put this call
            # back in the queue may have read its own a moment later, and committed before we
            # locked the row. Ring no earlier than the call's last save, so its history (and
            # the presence log: one agent's hold ends before the next one's starts) stays in order.
            services._call_ring(
                call=call,
                presence=presence,
                now=max(now, call.updated_at),
                reservation_timeout_s=queues[queue_id]["reservation_timeout_s"],
            )
            rung.append(call)
            break
    return rung, retry
