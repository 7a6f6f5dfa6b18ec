"""The telephony event API's service: verify, record once, apply, route, answer.

An event is processed in one or two short transactions:
  1. record it (the unique event id makes a concurrent replay wait here) and apply it
     to its call, with the call's row locks; a refused event is recorded with its 4xx
     answer and leaves the call untouched (its own savepoint). When the event cannot
     create a match, its answer (the call as it now stands) is stored here too. A new
     call (call.offered) is routed at the end of this transaction, under the routing lock
     (acd.route_in_transaction): it rings at once if an eligible agent is free;
  2. when a ringing agent was freed (or the offer found something overdue), routing runs
     after that commit (calls/acd.py), in transactions of its own;
  3. last, outside the routing lock, the answer (the call as it now stands) is stored once,
     with compare-and-set (the first answer stored is the one every replay gets), with
     answered_at, in a synchronous commit: its disk flush makes 1 and 2 durable too (they
     commit asynchronously, so the routing lock is never held across a flush; see
     calls/locks.py). Only then is the answer sent.
A replay (same event id, same body) returns the stored answer and changes nothing; the
same id with another body is refused with 409. If the first delivery died between
1 and 2, its replay finishes step 2 instead (and step 3, if it had not happened).

Out-of-order events are answered, recorded and never corrupt a call:
- call.offered for a call already known: 200, the call unchanged (result "unchanged");
- call.answered for a call that is not ringing on a desk: 409; for a call already
  answered or over: 200 unchanged; for an unknown call: 404;
- call.ended before the call was answered: it is an abandon (the caller hung up); ended
  twice or after an abandon: 200 unchanged;
- call.abandoned for a call in progress: 409 (send call.ended); for a call already over:
  200 unchanged;
- events of a caller on virtual hold who hangs up: 200 unchanged (they keep their place).
"""

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contactcenter.errors import ApplicationError, Conflict, NotFound

from . import acd, realtime, services
from .locks import commit_asynchronously, retry_on_conflict
from .models import Call, CallEvent
from .selectors import CALL_POSITION_SQL, call_answer, call_position_of, call_position_params


@dataclass
class Answer:
    status: int
    body: dict
    replay: bool = False
    headers: dict = field(default_factory=dict)


def sign(raw_body: bytes, secret: str | None = None) -> str:
    """The X-Signature header value for a body: sha256=<hex HMAC-SHA256 with the shared secret>."""
    key = (secret if secret is not None else settings.TELEPHONY_WEBHOOK_SECRET).encode()
    return "sha256=" + hmac.new(key, raw_body, hashlib.sha256).hexdigest()


def signature_valid(*, raw_body: bytes, header: str | None) -> bool:
    """Whether the header signs exactly these bytes (constant-time comparison)."""
    if not header:
        return False
    return hmac.compare_digest(sign(raw_body).encode(), header.strip().lower().encode())


def payload_sha256(payload: dict) -> str:
    """The fingerprint of an event's content: the same JSON re-serialised with other spacing
    or key order is the same event."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def event_receive(*, payload: dict, data: dict | None, errors: dict | None) -> Answer:
    """Process one signed telephony event (payload as received; data as validated, or the
    field errors). Safe to call any number of times with the same event."""
    event_id = payload["event_id"]
    sha = payload_sha256(payload)
    with realtime.batch():  # the event's pushes go out together, one wallboard update per queue
        if errors:
            event, replay = _record_refusal(
                event_id=event_id,
                payload=payload,
                sha=sha,
                data=None,
                status=400,
                body={"detail": _("Invalid event."), "code": "invalid", "errors": errors},
            )
            route, answer = False, None
        else:
            event, replay, route, answer = _record_and_apply(event_id=event_id, payload=payload, sha=sha, data=data)
        if replay is not None:
            return replay
        if route and any(call.pk == event.call_id for call in acd.route_waiting_calls()):
            answer = None  # that pass rang the event's call: answer what it now is (read again)
        # Durable first (transaction 3); the batched pushes go out as the block ends.
        return _answer_and_flush(event, body=answer)


def _flush(event_pk: int) -> None:
    """Transaction 3: a synchronous commit (the default) whose disk flush covers the earlier,
    asynchronous ones: from here the answer is durable and may be sent."""
    CallEvent.objects.filter(pk=event_pk, answered_at__isnull=True).update(answered_at=timezone.now())


def _new_event(*, event_id: str, payload: dict, sha: str, data: dict | None) -> CallEvent:
    return CallEvent(
        event_id=event_id,
        type=str(payload.get("type", ""))[:32],
        external_call_id=str(payload.get("call_id", ""))[:100],
        occurred_at=(data or {}).get("occurred_at"),
        payload=payload,
        body_sha256=sha,
    )


@retry_on_conflict
def _record_and_apply(*, event_id: str, payload: dict, sha: str, data: dict):
    """Transaction 1: apply the event to its call and record it, with its answer when no
    routing follows; a new call is routed here. Returns (event, replay answer or None, whether
    to route after the commit, the answer built from the rows in hand or None).

    The event row is inserted last, in the same transaction: a second delivery of the same
    event waits on the call's row lock (or on the new call's unique PBX id), then fails on
    the unique event id and is answered as a replay. A refused event rolls everything back
    and is recorded by itself."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                call, was, result, detail = _apply(event_id=event_id, data=data)
                # Routing can only find something new if a call joined a queue or a ringing agent was
                # freed (the caller hung up while it rang); an answered call keeps its agent.
                offered = result == CallEvent.Result.APPLIED and data["type"] == CallEvent.Type.OFFERED
                route = (
                    result == CallEvent.Result.APPLIED
                    and was == Call.State.RINGING
                    and call.state in (Call.State.QUEUED, Call.State.ABANDONED)
                )
                event = _new_event(event_id=event_id, payload=payload, sha=sha, data=data)
                event.call = call
                event.result = result
                event.detail = detail[:255]
                if not (offered or route):
                    # Nothing more will change: the answer is stored with the event, in this commit.
                    event.response = {**call_answer(call), "result": result, "detail": event.detail}
                    event.response_status = 200
                # Inserted before the routing lock is taken (lock order, calls/locks.py).
                event.save(force_insert=True)
                if offered:
                    # Made durable by transaction 3, before anything is answered. With an agent
                    # free, the call is matched here, under the routing lock; either way routing
                    # runs again after the commit (route): this transaction read the floor before
                    # committing, so an agent freed meanwhile, whose own check could not see this
                    # call yet, is matched then (calls/locks.py). That check finds nothing to do
                    # in the common case, and takes no lock. With nobody free, the call waits
                    # without taking the routing lock at all.
                    agent = None
                    if acd.agent_free(commit_async=True):
                        routed = acd.route_in_transaction()
                        rung = next((c for c in routed.calls if c.pk == call.pk), None)
                        agent = routed.usernames[rung.agent_id] if rung else None
                    route = True
                    answer = _offer_answer(call=call, event=event, agent=agent)
                else:
                    commit_asynchronously()  # made durable by transaction 3, before anything is answered
                    answer = None
            return event, None, route, answer
        except ApplicationError as exc:
            body = {"detail": exc.message, "code": exc.code}
            if exc.fields:
                body["errors"] = exc.fields
            event, replay = _record_refusal(
                event_id=event_id, payload=payload, sha=sha, data=data, status=exc.status_code, body=body
            )
            return event, replay, False, None
        except IntegrityError:
            # The same event delivered at the same moment (its row now exists: a replay), or the
            # same PBX call offered under two event ids at once (try again: now it exists).
            if CallEvent.objects.filter(event_id=event_id).exists():
                return None, _replay(event_id=event_id, sha=sha), False, None
    raise Conflict(_("The event could not be recorded; send it again."), code="retry")


@retry_on_conflict
def _record_refusal(*, event_id: str, payload: dict, sha: str, data: dict | None, status: int, body: dict):
    """Record a refused event with its 4xx answer (the call is untouched). Returns (event, answer)."""
    try:
        with transaction.atomic():
            commit_asynchronously()
            event = _new_event(event_id=event_id, payload=payload, sha=sha, data=data)
            if data is not None:
                event.call = Call.objects.filter(external_id=data["call_id"]).first()
            event.result = CallEvent.Result.REJECTED
            event.detail = str(body.get("detail", ""))[:255]
            event.response_status = status
            event.response = json.loads(json.dumps(body, default=str))
            event.save(force_insert=True)
    except IntegrityError:
        return None, _replay(event_id=event_id, sha=sha)
    _flush(event.pk)
    return event, Answer(status=status, body=event.response)


def _replay(*, event_id: str, sha: str) -> Answer:
    event = CallEvent.objects.get(event_id=event_id)
    if event.body_sha256 != sha:
        return Answer(
            status=409,
            body={
                "detail": _("This event id was already received with another content."),
                "code": "event_id_reused",
                "errors": {"event_id": _("Already used by another event.")},
            },
        )
    if event.response is None:
        # The first delivery stopped before answering: finish it (route, then answer).
        acd.route_waiting_calls()
    elif event.answered_at is None:
        _flush(event.pk)  # the first delivery may not have reached its flush yet
    answer = _answer_and_flush(event)
    return Answer(status=answer.status, body=answer.body, replay=True, headers={"X-Event-Replay": "1"})


def _event_time(occurred_at: datetime, call: Call | None, now: datetime) -> datetime:
    """The event's time, trusted within reason: never in the future, never before what the
    call already went through (events delivered late)."""
    when = min(occurred_at, now)
    if call is not None:
        stamps = [call.offered_at, call.ringing_at, call.answered_at, call.ended_at]
        when = max([when, *[s for s in stamps if s is not None]])
    return when


def _apply(*, event_id: str, data: dict):
    """Apply a valid event to its call. Returns (call, state before, result, detail)."""
    now = timezone.now()
    cause = f"event {event_id}"
    kind = data["type"]
    if kind == CallEvent.Type.OFFERED:
        call, created = services.call_offer(
            external_id=data["call_id"],
            queue=data["queue"],
            caller_number=data["caller"],
            direction=data.get("direction") or Call.Direction.INBOUND,
            offered_at=min(data["occurred_at"], now),
            cause=cause,
        )
        if created:
            return call, "", CallEvent.Result.APPLIED, ""
        return call, call.state, CallEvent.Result.UNCHANGED, _("The call was already offered.")
    # Only the call's row is locked (of=self), not the joined queue, agent and user rows.
    call = (
        Call.objects.select_for_update(of=("self",))
        .select_related("queue", "agent__user")
        .filter(external_id=data["call_id"])
        .first()
    )
    if call is None:
        raise NotFound(
            _("Unknown call: no call.offered was received for this call_id."),
            fields={"call_id": _("Unknown call.")},
            code="unknown_call",
        )
    agent_field = Call._meta.get_field("agent")
    if call.agent_id is not None and getattr(agent_field.get_cached_value(call, None), "pk", None) != call.agent_id:
        # FOR UPDATE waited for a pass that rang the call: PostgreSQL re-read the locked call row,
        # but not the joined agent, which is then empty or stale; it is read again on use.
        agent_field.delete_cached_value(call)
    was = call.state
    when = _event_time(data["occurred_at"], call, now)
    if kind == CallEvent.Type.ANSWERED:
        changed = services._call_answered(call=call, now=when, cause=cause)
    elif kind == CallEvent.Type.ENDED:
        changed = services._call_end(
            call=call,
            reason=data.get("reason") or Call.EndReason.COMPLETED,
            now=when,
            cause=cause,
            hold_s=data.get("hold_s") or 0,
            recording_url=data.get("recording_url") or "",
        )
    elif kind == CallEvent.Type.ABANDONED:
        if call.state == Call.State.IN_PROGRESS:
            raise services.CallStateError(
                _("The call was answered: its end is call.ended, not call.abandoned."),
                fields={"type": _("The call is in progress.")},
            )
        changed = services._call_abandon(call=call, now=when, cause=cause)
    else:  # call.callback_requested
        changed = services._call_request_callback(call=call, now=when, cause=cause)
    if changed:
        return call, was, CallEvent.Result.APPLIED, ""
    detail = _("No change: the call is %(state)s.") % {"state": Call.State(call.state).label}
    if call.virtual_hold and call.state in (Call.State.QUEUED, Call.State.RINGING):
        detail = _("No change: the caller is on virtual hold and keeps their place.")
    return call, was, CallEvent.Result.UNCHANGED, detail


def _offer_answer(*, call: Call, event: CallEvent, agent: str | None) -> dict:
    """The answer to a call.offered from what its transaction already holds, with no read: the
    call rings for this agent (username), or waits (its position is counted after the commit,
    in _answer_and_flush)."""
    return {
        "id": call.pk,
        "call_id": call.external_id,
        "state": Call.State.RINGING if agent else Call.State.QUEUED,
        "queue": call.queue.slug,
        "agent": agent,
        "position": None,
        "result": event.result,
        "detail": event.detail,
    }


def _answer_body(event: CallEvent) -> dict:
    call = Call.objects.select_related("queue", "agent__user").get(pk=event.call_id)
    return {**call_answer(call), "result": event.result, "detail": event.detail}


def _store_answer(*, event: CallEvent, body: dict, now: datetime) -> dict | None:
    """_answer_and_flush's compare-and-set: the answer stored once, with answered_at. Returns
    the body stored, or None if another delivery stored its answer first."""
    if CallEvent.objects.filter(pk=event.pk, response__isnull=True).update(
        response=body, response_status=200, answered_at=now
    ):
        return body
    return None


def _store_waiting_answer(*, event: CallEvent, body: dict, now: datetime) -> dict | None:
    """_store_answer for a waiting call, with its place in its queue counted now. On PostgreSQL
    the place is counted in the statement that stores the answer: one round trip."""
    call = {"call_id": body["id"], "queue_id": event.call.queue_id, "offered_at": event.call.offered_at}
    if connection.vendor != "postgresql":
        return _store_answer(event=event, body={**body, "position": call_position_of(**call)}, now=now)
    sql = f"""
        UPDATE {CallEvent._meta.db_table}
        SET response = %(body)s::jsonb || jsonb_build_object('position', {CALL_POSITION_SQL}),
            response_status = 200, answered_at = %(now)s
        WHERE id = %(event)s AND response IS NULL
        RETURNING (response ->> 'position')::int
    """  # noqa: S608 -- names from the models' metadata; values are bound
    with connection.cursor() as cursor:
        params = {**call_position_params(**call), "body": json.dumps(body), "now": now, "event": event.pk}
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else {**body, "position": row[0]}


def _answer_and_flush(event: CallEvent, *, body: dict | None = None) -> Answer:
    """Transaction 3, outside the routing lock: the answer (the call as it now stands, or the
    body given, built from the rows the event's transaction held) stored once, with
    compare-and-set, and answered_at, in a synchronous commit whose disk flush covers the
    earlier asynchronous ones. Every delivery of the event answers what is stored."""
    now = timezone.now()
    if event.response is None:
        if body is None:
            stored = _store_answer(event=event, body=_answer_body(event), now=now)
        elif body["state"] == Call.State.QUEUED:
            stored = _store_waiting_answer(event=event, body=body, now=now)
        else:
            stored = _store_answer(event=event, body=body, now=now)
        if stored is not None:
            return Answer(status=200, body=stored)
        event.refresh_from_db(fields=["response", "response_status", "answered_at"])
    elif event.answered_at is None:
        _flush(event.pk)
    return Answer(status=event.response_status, body=event.response)
