"""Pushes to the live desk and the wallboard, always after commit.

Services call these functions inside their transaction; each one registers an
on_commit callback that sends through the channel layer (group_send), so a push never
announces something that was rolled back, and no network I/O happens inside a
transaction. The consumers that forward these to browsers come with the desk issue.

Groups and messages (each has a `type`; Channels maps "call.offered" to a consumer's
`call_offered` handler):
- `agent.<agent_id>`: {"type": "call.offered", "call": {...}} when a call starts ringing
  on the agent's desk; {"type": "call.updated", "call": {...}} when it changes;
  {"type": "call.withdrawn", "call": {...}} when it stops ringing there (caller hung up,
  reservation timed out, declined); {"type": "presence.updated", "presence": {...}};
  {"type": "callback.updated", "callback": {...}} for callbacks they own.
- `queue.<queue_id>`: {"type": "queue.status", "seq": n, "queue": <queue id>, "waiting": n,
  "longest_wait_s": s, "at": iso} when the queue's waiting calls change (at most once per
  CALLS_QUEUE_STATUS_INTERVAL_MS, the last state always pushed). `seq` grows
  by one per message of that queue (across processes, through the cache), so a client
  that sees a gap re-reads GET /api/queues/status/. {"type": "call.escalated", ...}
  and {"type": "callback.updated", ...} for callbacks of the queue.
"""

import contextlib
import contextvars
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from contactcenter import pushes

logger = logging.getLogger(__name__)


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def queue_group(queue_id: int) -> str:
    return f"queue.{queue_id}"


def team_group(team_id: int) -> str:
    """The desks of a team's agents (announcements)."""
    return f"team.{team_id}"


def supervisor_group(user_id: int) -> str:
    """A supervisor's or manager's wallboard and dashboard (read receipts of their announcements)."""
    return f"supervisor.{user_id}"


def send(group: str, message: dict) -> None:
    """Send now (after commit), or at the end of the current batch(). A push that fails is
    logged, never raised: the state is in the database, and a desk or wallboard resyncs from
    the API."""
    outbox = _outbox.get()
    if outbox is not None:
        outbox.append((group, message))
        return
    pushes.group_send([(group, message)])


def _iso(value):
    return value.isoformat() if value else None


def call_payload(call) -> dict:
    """What a desk shows of a call."""
    return {
        "id": call.pk,
        "call_id": call.external_id,
        "state": call.state,
        "direction": call.direction,
        "caller_number": call.caller_number,
        "client_id": call.client_id,
        "queue_id": call.queue_id,
        "agent_id": call.agent_id,
        "offered_at": _iso(call.offered_at),
        "ringing_at": _iso(call.ringing_at),
        "reservation_expires_at": _iso(call.reservation_expires_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "virtual_hold": call.virtual_hold,
        "callback_id": call.callback_id,
        "escalated": call.escalated,
    }


def _on_commit_send(group: str, message: dict) -> None:
    transaction.on_commit(lambda: send(group, message))


def call_offered(call) -> None:
    _on_commit_send(agent_group(call.agent_id), {"type": "call.offered", "call": call_payload(call)})


def call_updated(call) -> None:
    if call.agent_id:
        _on_commit_send(agent_group(call.agent_id), {"type": "call.updated", "call": call_payload(call)})


def call_withdrawn(*, call, agent_id: int | None) -> None:
    if agent_id:
        _on_commit_send(agent_group(agent_id), {"type": "call.withdrawn", "call": call_payload(call)})


def call_escalated(call) -> None:
    _on_commit_send(queue_group(call.queue_id), {"type": "call.escalated", "call": call_payload(call)})
    call_updated(call)


def presence_changed(presence) -> None:
    _on_commit_send(
        agent_group(presence.agent_id),
        {
            "type": "presence.updated",
            "presence": {
                "agent_id": presence.agent_id,
                "state": presence.state,
                "reason": presence.reason,
                "since": _iso(presence.since),
                "call_id": presence.current_call_id,
            },
        },
    )


def callback_changed(callback) -> None:
    payload = {
        "id": callback.pk,
        "kind": callback.kind,
        "state": callback.state,
        "number": callback.number,
        "queue_id": callback.queue_id,
        "owner_id": callback.owner_id,
        "due_at": _iso(callback.due_at),
        "attempts": callback.attempts,
    }
    group = agent_group(callback.owner_id) if callback.owner_id else queue_group(callback.queue_id)
    _on_commit_send(group, {"type": "callback.updated", "callback": payload})


class _QueueStatusPush:
    """One status push per queue per transaction: it reads the state after commit, so
    several changes to a queue in one transaction need only one message."""

    def __init__(self, queue_id: int):
        self.queue_id = queue_id

    def __call__(self):
        push_queue_status(self.queue_id)


_coalescing: contextvars.ContextVar[set | None] = contextvars.ContextVar("calls_queue_pushes", default=None)
_outbox: contextvars.ContextVar[list | None] = contextvars.ContextVar("calls_outbox", default=None)


@contextlib.contextmanager
def batch():
    """Around the several transactions of one request: messages committed inside wait for the
    end of the block and go out together; queue status goes once per queue, with the state
    at that moment."""
    if _coalescing.get() is not None:
        yield
        return
    pending: set = set()
    outbox: list = []
    queues_token = _coalescing.set(pending)
    outbox_token = _outbox.set(outbox)
    try:
        yield
    finally:
        _coalescing.reset(queues_token)
        try:
            for queue_id in sorted(pending):
                push_queue_status(queue_id)
        finally:
            _outbox.reset(outbox_token)
            pushes.group_send(outbox)  # all of the block's messages at once


def queue_changed(queue_id: int) -> None:
    pending = _coalescing.get()
    if pending is not None:
        # Sent at the end of the block. Only what commits may be announced: a block whose
        # transaction rolls back leaves a push of the unchanged state, which says nothing new.
        pending.add(queue_id)
        return
    if connection.in_atomic_block:
        for _sids, func, _robust in connection.run_on_commit:
            if isinstance(func, _QueueStatusPush) and func.queue_id == queue_id:
                return
    transaction.on_commit(_QueueStatusPush(queue_id))


def next_seq(queue_id: int) -> int:
    """The next sequence number of a queue's status messages (atomic in Redis; per process
    with the local cache of the single-process mode, which is then the only process)."""
    key = f"calls:queue-seq:{queue_id}"
    client = getattr(getattr(cache, "_cache", None), "get_client", None)
    if client is not None:  # Redis: INCR creates the key, one round trip
        return int(client(key, write=True).incr(cache.make_and_validate_key(key)))
    cache.add(key, 0, timeout=None)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.add(key, 0, timeout=None)
        return cache.incr(key)


def push_queue_status(queue_id: int) -> None:
    """Push the queue's status, at most once per CALLS_QUEUE_STATUS_INTERVAL_MS per queue across
    all processes. The first change of a window goes out at once; the changes after it are
    folded into one push at the window's end (a Celery task with that countdown), which reads
    the state as it then is, so the last state is always shown. On a busy floor this bounds the
    fan-out to every desk of the queue (500 desks × a few pushes a second) whatever the call
    rate, and spares a status query per telephony event."""
    interval_ms = settings.CALLS_QUEUE_STATUS_INTERVAL_MS
    if interval_ms <= 0 or _claim(f"calls:queue-status-window:{queue_id}", interval_ms):
        _push_queue_status_now(queue_id)
        return
    if _claim(f"calls:queue-status-pending:{queue_id}", interval_ms * 4):
        from .tasks import flush_queue_status

        try:
            flush_queue_status.apply_async((queue_id,), countdown=interval_ms / 1000)
        except Exception:  # no broker: push now rather than leave the boards behind
            logger.exception("calls: could not schedule the queue %s status push", queue_id)
            _push_queue_status_now(queue_id)


def flush_queue_status(queue_id: int) -> None:
    """The end of a window (tasks.flush_queue_status): push the state as it is now, and open a
    new window. The pending mark goes first, so a change committed after it schedules its own
    push; one committed before it is in the state read here."""
    interval_ms = settings.CALLS_QUEUE_STATUS_INTERVAL_MS
    cache.delete(f"calls:queue-status-pending:{queue_id}")
    _claim(f"calls:queue-status-window:{queue_id}", interval_ms, replace=True)
    _push_queue_status_now(queue_id)


def _claim(key: str, ttl_ms: int, *, replace: bool = False) -> bool:
    """Set a short-lived mark; True if it was not there (or `replace`). Millisecond expiry on
    Redis (one SET NX PX); the local cache of the single-process mode takes float seconds."""
    client = getattr(getattr(cache, "_cache", None), "get_client", None)
    if client is not None:
        return bool(client(key, write=True).set(cache.make_and_validate_key(key), 1, nx=not replace, px=ttl_ms))
    if replace:
        cache.set(key, 1, timeout=ttl_ms / 1000)
        return True
    return cache.add(key, 1, timeout=ttl_ms / 1000)


def _push_queue_status_now(queue_id: int) -> None:
    from .kpis import queue_live

    live = queue_live([queue_id], now=timezone.now())[queue_id]
    send(
        queue_group(queue_id),
        {
            "type": "queue.status",
            "seq": next_seq(queue_id),
            "queue": queue_id,
            "waiting": live["waiting"],
            "longest_wait_s": live["longest_wait_s"],
            "at": timezone.now().isoformat(),
        },
    )


def announcement_payload(announcement, *, author_name: str = "") -> dict:
    return {
        "id": announcement.pk,
        "body": announcement.body,
        "author": author_name,
        "created_at": _iso(announcement.created_at),
    }


def announcement_posted(announcement, *, team_ids, author_name: str) -> None:
    """To the desks of the announcement's teams."""
    message = {
        "type": "announcement.posted",
        "announcement": announcement_payload(announcement, author_name=author_name),
    }
    for team_id in sorted(team_ids):
        _on_commit_send(team_group(team_id), message)


def announcement_read(receipt, *, author_id: int, agent_name: str) -> None:
    """To the author's wallboard and dashboard: who read it, when."""
    _on_commit_send(
        supervisor_group(author_id),
        {
            "type": "announcement.read",
            "announcement_id": receipt.announcement_id,
            "agent_id": receipt.agent_id,
            "agent": agent_name,
            "read_at": _iso(receipt.read_at),
        },
    )
