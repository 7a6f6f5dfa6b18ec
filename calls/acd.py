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

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from agents.models import Agent, AgentSkill

from . import services
from .locks import (
    ASYNC_COMMIT_SQL,
    NO_REQUEST,
    ROUTING_REQUESTS,
    request_routing_pass,
    retry_on_conflict,
    try_routing_lock,
)
from .models import AgentPresence, Call, Queue


def route_waiting_calls(*, now: datetime | None = None) -> list[Call]:
    """Run routing: expire overdue reservations and wrap-ups, then give every waiting call that
    has an eligible free agent to the right one. Returns the calls this process's passes rang.

    Call it after the change that may create a match has committed (see calls/locks.py);
    running it again at once finds nothing to do. Without a free agent and a waiting call
    (and nothing overdue), no match is possible and no pass runs: that check runs after the
    change committed, and every later change that makes a match possible runs routing again
    after its own commit. If another pass holds the routing lock, this request is handed to it
    and nothing is waited for: that pass looks again after its commit. After its own pass, this
    one looks again when requests came in meanwhile, or when its pass expired something (which
    creates such a change inside the pass)."""
    rung: list[Call] = []
    asked: int | None = None  # the request count our last pass took with the lock
    expired = False
    while True:
        if asked == NO_REQUEST and not expired:
            break  # SQLite: passes are serialised, nobody handed a request to ours
        worth, requests = _worth_a_pass(now or timezone.now())
        if asked is not None and not expired and requests == asked:
            break  # nobody asked while our pass ran: it saw every change committed before
        if not worth:
            break
        outcome = _pass(now=now)
        if outcome is None:
            break  # another pass holds the lock: it looks again after its commit
        made, expired, asked = outcome
        rung += made
    return rung


@dataclass
class Routed:
    """What a routing pass run inside a service's transaction did (route_in_transaction)."""

    calls: list[Call]  # the calls it rang
    usernames: dict[int, str]  # agent id → username, for the agents it read as free


def route_in_transaction(*, now: datetime | None = None) -> Routed:
    """A routing pass inside the caller's transaction, for a service that has just put a call in
    a queue (call.offered): the call is matched before its transaction commits, so a caller who
    can be answered at once rings at once, with no transaction of its own.

    The caller must still run route_waiting_calls() after its commit: this pass read the floor
    before the new call was committed, and an agent freed meanwhile checks (without the lock)
    for waiting calls that cannot include it yet; the check after the commit closes that gap
    (calls/locks.py). The routing lock is taken here, after the caller's inserts and before
    anything this pass reads, so the pass sees its own new call and everything committed
    before it; it is released when the caller commits. The caller must not hold row locks a
    pass could wait for (only its new call, its event row and the number's callbacks, which no
    pass touches). Overdue reservations and wrap-ups are not expired here, and then nothing is
    matched (an expired call goes back before newer ones): the pass after the commit does both.
    If another pass holds the routing lock, nothing is matched here either, and nothing waited
    for: the check after the commit asks for a pass, and the holder runs it (calls/locks.py)."""
    if not try_routing_lock():
        return Routed(calls=[], usernames={})
    now = now or timezone.now()
    rung, _expired, _overdue, usernames = _route_locked(now=now, expire=False)
    return Routed(calls=rung, usernames=usernames)


def agent_free(*, commit_async: bool = False) -> bool:
    """Whether any agent is available (read without the routing lock: a hint, see
    route_in_transaction's callers). With commit_async, the current transaction also commits
    asynchronously (locks.commit_asynchronously), in the same round trip on PostgreSQL."""
    if connection.vendor != "postgresql":
        return AgentPresence.objects.filter(state=AgentPresence.State.AVAILABLE).exists()
    sql = f"SELECT EXISTS (SELECT 1 FROM {AgentPresence._meta.db_table} WHERE state = %s)"  # noqa: S608 -- model's table
    if commit_async:
        sql += f", {ASYNC_COMMIT_SQL}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [AgentPresence.State.AVAILABLE])
        return cursor.fetchone()[0]


def _overdue(now: datetime) -> Q:
    """Calls past their time: ringing past the reservation, or in wrap-up past the queue's limit."""
    return Q(state=Call.State.RINGING, reservation_expires_at__lte=now) | Q(
        state=Call.State.WRAP_UP, wrap_up_expires_at__lte=now
    )


# _overdue in the raw queries of PostgreSQL (a call aliased c, the time as %(now)s).
_OVERDUE_SQL = (
    "((c.state = 'ringing' AND c.reservation_expires_at <= %(now)s)"
    " OR (c.state = 'wrap_up' AND c.wrap_up_expires_at <= %(now)s))"
)


def _worth_a_pass(now: datetime) -> tuple[bool, int | None]:
    """Whether a pass could do anything (something overdue, or a free agent and a waiting call),
    and how many passes were requested so far (PostgreSQL; None on SQLite)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_worth_a_pass_sql(), {"now": now})
            worth, requests = cursor.fetchone()
            return worth, requests
    if Call.objects.filter(_overdue(now)).exists():
        return True, None
    worth = (
        AgentPresence.objects.filter(state=AgentPresence.State.AVAILABLE).exists()
        and Call.objects.filter(state=Call.State.QUEUED).exists()
    )
    return worth, None


@functools.cache
def _worth_a_pass_sql() -> str:
    call, presence = Call._meta.db_table, AgentPresence._meta.db_table
    return f"""
        SELECT EXISTS (
            SELECT 1 FROM {call} c WHERE {_OVERDUE_SQL}
        ) OR (
            EXISTS (SELECT 1 FROM {presence} WHERE state = 'available')
            AND EXISTS (SELECT 1 FROM {call} WHERE state = 'queued')
        ), (SELECT last_value FROM {ROUTING_REQUESTS})
    """  # noqa: S608 -- names from the models' metadata; values are bound


@retry_on_conflict
def _pass(*, now: datetime | None) -> tuple[list[Call], bool, int] | None:
    """One routing pass in its own transaction, under the routing lock. Returns (calls rung,
    whether it expired anything, the request count taken with the lock), or None if another
    pass holds the lock (it runs this one's request after its commit, calls/locks.py)."""
    with transaction.atomic():
        # Committed asynchronously, so the lock is not held across a disk flush (calls/locks.py).
        asked = request_routing_pass()
        if asked is None:
            return None
        # The clock is read once the lock is held: passes are ordered, and so are their times.
        now = now or timezone.now()
        rung, expired, _overdue, _usernames = _route_locked(now=now, expire=True)
    return rung, expired, asked


def _route_locked(*, now: datetime, expire: bool) -> tuple[list[Call], bool, bool, dict[int, str]]:
    """The body of a pass, under the routing lock. Returns (calls rung, whether it expired
    something, whether something overdue was left, usernames of the free agents)."""
    rung: list[Call] = []
    expired = False
    usernames: dict[int, str] = {}
    while True:
        floor = _read_floor(now=now)
        usernames.update(floor.usernames)
        if floor.overdue and not expired:
            if not expire:
                return rung, False, True, usernames
            # Once per pass: what became overdue meanwhile is for the next pass (which follows,
            # since this one expired something).
            _expire(candidates=floor.overdue, now=now)
            expired = True
            continue
        made, retry = _match(floor=floor, now=now)
        rung += made
        if not retry:
            return rung, expired, False, usernames


# --- What a pass reads -------------------------------------------------------------------


@dataclass
class _Floor:
    """What a pass needs to know, read under the routing lock."""

    free: list[int] = field(default_factory=list)  # available agents, longest idle first
    eligible: dict[int, set[int]] = field(default_factory=dict)  # agent id → queues they may take
    usernames: dict[int, str] = field(default_factory=dict)  # agent id → username (for answers)
    # Waiting calls that could be rung now, in routing order: (call id, queue id, owner agent id).
    candidates: list[tuple[int, int, int | None]] = field(default_factory=list)
    overdue: list[tuple[int, str]] = field(default_factory=list)  # (call id, state) past their time
    reservation_timeout_s: dict[int, int] = field(default_factory=dict)  # queue id → timeout (ORM path)


def _read_floor(*, now: datetime) -> _Floor:
    if connection.vendor == "postgresql":
        return _read_floor_pg(now=now)
    return _read_floor_orm(now=now)


@functools.cache
def _floor_sql() -> str:
    call, queue, presence = Call._meta.db_table, Queue._meta.db_table, AgentPresence._meta.db_table
    agent, user = Agent._meta.db_table, Agent._meta.get_field("user").related_model._meta.db_table
    skill, language = AgentSkill._meta.db_table, Agent.languages.through._meta.db_table
    return f"""
        WITH free AS (
            SELECT p.agent_id, p.idle_since, u.username
            FROM {presence} p JOIN {agent} a ON a.id = p.agent_id JOIN {user} u ON u.id = a.user_id
            WHERE p.state = 'available'
        )
        SELECT 'agent', f.agent_id, NULL::bigint, NULL::bigint, f.username,
            ARRAY(
                SELECT q.id FROM {queue} q
                WHERE (q.required_skill_id IS NULL OR EXISTS (
                        SELECT 1 FROM {skill} s WHERE s.agent_id = f.agent_id AND s.skill_id = q.required_skill_id))
                  AND (q.required_language_id IS NULL OR EXISTS (
                        SELECT 1 FROM {language} l
                        WHERE l.agent_id = f.agent_id AND l.language_id = q.required_language_id))
            ),
            row_number() OVER (ORDER BY f.idle_since ASC NULLS FIRST, f.agent_id)
        FROM free f
        UNION ALL
        SELECT 'call', c.id, c.queue_id, c.reserved_for_id, NULL, NULL,
            row_number() OVER (ORDER BY q.priority DESC, c.offered_at, c.id)
        FROM {queue} q CROSS JOIN LATERAL (
            -- As many head calls per queue as there are free agents: no more can ring now.
            (SELECT w.id, w.queue_id, w.reserved_for_id, w.offered_at FROM {call} w
             WHERE w.queue_id = q.id AND w.state = 'queued' AND w.reserved_for_id IS NULL
             ORDER BY w.offered_at, w.id LIMIT (SELECT count(*) FROM free))
            UNION ALL
            -- Calls that wait for one agent only (callbacks they own), if that agent is free.
            SELECT w.id, w.queue_id, w.reserved_for_id, w.offered_at FROM {call} w
            WHERE w.queue_id = q.id AND w.state = 'queued' AND w.reserved_for_id IN (SELECT agent_id FROM free)
        ) c
        UNION ALL
        SELECT 'overdue', c.id, NULL, NULL, c.state, NULL, NULL FROM {call} c
        WHERE {_OVERDUE_SQL}
    """  # noqa: S608 -- names from the models' metadata; values are bound


def _read_floor_pg(*, now: datetime) -> _Floor:
    """The free agents (with the queues each may take), the head calls of every queue and what
    is overdue, in one query (PostgreSQL): the pass holds the routing lock while it runs."""
    floor = _Floor()
    agents, calls = [], []
    with connection.cursor() as cursor:
        cursor.execute(_floor_sql(), {"now": now})
        for kind, pk, queue_id, owner_id, text, queue_ids, rank in cursor.fetchall():
            if kind == "agent":
                agents.append((rank, pk, text, queue_ids))
            elif kind == "call":
                calls.append((rank, pk, queue_id, owner_id))
            else:
                floor.overdue.append((pk, text))
    for _rank, agent_id, username, queue_ids in sorted(agents):
        floor.free.append(agent_id)
        floor.eligible[agent_id] = set(queue_ids)
        floor.usernames[agent_id] = username
    floor.candidates = [(pk, queue_id, owner_id) for _rank, pk, queue_id, owner_id in sorted(calls)]
    return floor


_QUEUE_FIELDS = ("id", "priority", "required_skill_id", "required_language_id", "reservation_timeout_s")


def _read_floor_orm(*, now: datetime) -> _Floor:
    """The same as _read_floor_pg, with the ORM (SQLite: one process, transactions serialised)."""
    floor = _Floor()
    floor.overdue = list(Call.objects.filter(_overdue(now)).values_list("pk", "state"))
    rows = list(
        AgentPresence.objects.filter(state=AgentPresence.State.AVAILABLE)
        .order_by(F("idle_since").asc(nulls_first=True), "agent_id")
        .values_list("agent_id", "agent__user__username")
    )
    if not rows:
        return floor
    floor.free = [agent_id for agent_id, _username in rows]
    floor.usernames = dict(rows)
    queues = {q["id"]: q for q in Queue.objects.values(*_QUEUE_FIELDS)}
    floor.reservation_timeout_s = {queue_id: q["reservation_timeout_s"] for queue_id, q in queues.items()}
    skills = defaultdict(set)
    for agent_id, skill_id in AgentSkill.objects.filter(agent_id__in=floor.free).values_list("agent_id", "skill_id"):
        skills[agent_id].add(skill_id)
    languages = defaultdict(set)
    for agent_id, language_id in Agent.languages.through.objects.filter(agent_id__in=floor.free).values_list(
        "agent_id", "language_id"
    ):
        languages[agent_id].add(language_id)
    floor.eligible = {
        agent_id: {
            queue_id
            for queue_id, q in queues.items()
            if (q["required_skill_id"] is None or q["required_skill_id"] in skills[agent_id])
            and (q["required_language_id"] is None or q["required_language_id"] in languages[agent_id])
        }
        for agent_id in floor.free
    }
    candidates = []
    for queue_id in queues:
        candidates += (
            Call.objects.filter(queue_id=queue_id, state=Call.State.QUEUED, reserved_for__isnull=True)
            .order_by("offered_at", "pk")
            .values_list("pk", "queue_id", "offered_at", "reserved_for_id")[: len(floor.free)]
        )
    candidates += Call.objects.filter(state=Call.State.QUEUED, reserved_for_id__in=floor.free).values_list(
        "pk", "queue_id", "offered_at", "reserved_for_id"
    )
    candidates.sort(key=lambda c: (-queues[c[1]]["priority"], c[2], c[0]))
    floor.candidates = [(pk, queue_id, owner_id) for pk, queue_id, _offered_at, owner_id in candidates]
    return floor


# --- What a pass does ----------------------------------------------------------------------


def _expire(*, candidates: list[tuple[int, str]], now: datetime) -> None:
    """Calls ringing past their reservation go back to their place, and the agent goes on break
    ("missed") so the next call does not ring on an empty desk. Wrap-ups longer than their
    queue's wrap-up time end: the call is completed (its outcome may still be recorded once)
    and the agent is free. The candidates come from the pass's read; in the common case none."""
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


def _match(*, floor: _Floor, now: datetime) -> tuple[list[Call], bool]:
    """Greedy matching in routing order. Returns (calls rung, whether to look again because a
    row changed under us)."""
    taken: set[int] = set()
    rung: list[Call] = []
    retry = False
    for call_id, queue_id, owner_id in floor.candidates:
        if owner_id is not None:
            choices = [owner_id] if owner_id not in taken else []
        else:
            choices = [a for a in floor.free if a not in taken and queue_id in floor.eligible[a]]
        if not choices:
            continue
        if connection.vendor == "postgresql":
            call = services._call_ring_if_free(call_id=call_id, agent_id=choices[0], now=now)
            taken.add(choices[0])
            if call is None:
                # The caller hung up or the agent went on break meanwhile: read the floor again.
                retry = True
            else:
                rung.append(call)
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
                reservation_timeout_s=floor.reservation_timeout_s[queue_id],
            )
            rung.append(call)
            break
    return rung, retry
