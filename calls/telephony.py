"""The telephony event API's service: verify, record once, apply, route, answer.

An event is processed in one or two short transactions:
  1. record it (the unique event id makes a concurrent replay wait here) and apply it
     to its call, with the call's row locks; a refused event is recorded with its 4xx
     answer and leaves the call untouched (its own savepoint). When the event cannot
     create a match, its answer (the call as it now stands) is stored here too;
  2. otherwise (a call joined a queue, a ringing agent was freed) a routing pass runs
     after that commit (calls/acd.py), and the answer is stored in the pass's own
     transaction, with compare-and-set: the first answer stored is the one every replay gets.
  3. last, answered_at is stored in a synchronous commit, outside the routing lock: its disk
     flush makes 1 and 2 durable too (they commit asynchronously, so the routing lock is
     never held across a flush; see calls/locks.py). Only then is the answer sent.
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
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contactcenter.errors import ApplicationError, NotFound

from . import acd, services
from .locks import commit_asynchronously, retry_on_conflict
from .models import Call, CallEvent
from .selectors import call_answer


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
    body_sha256 = payload_sha256(payload)
    event, replay, route = _record_and_apply(
        event_id=event_id, payload=payload, sha=body_sha256, data=data, errors=errors
    )
    if replay is not None:
        if event is not None:
            _flush(event.pk)  # refused: its answer was recorded in transaction 1
        return replay
    answer = _route_and_answer(event) if route else _answer_from(event)
    _flush(event.pk)
    return answer


def _flush(event_pk: int) -> None:
    """Transaction 3: a synchronous commit (the default) whose disk flush covers the earlier,
    asynchronous ones: from here the answer is durable and may be sent."""
    CallEvent.objects.filter(pk=event_pk, answered_at__isnull=True).update(answered_at=timezone.now())


@retry_on_conflict
def _record_and_apply(*, event_id: str, payload: dict, sha: str, data: dict | None, errors: dict | None):
    """Transaction 1. Returns (event, replay answer or None, whether to route)."""
    with transaction.atomic():
        commit_asynchronously()  # made durable by transaction 3, before anything is answered
        try:
            with transaction.atomic():
                event = CallEvent.objects.create(
                    event_id=event_id,
                    type=str(payload.get("type", ""))[:32],
                    external_call_id=str(payload.get("call_id", ""))[:100],
                    occurred_at=(data or {}).get("occurred_at"),
                    payload=payload,
                    body_sha256=sha,
                )
        except IntegrityError:
            # Already received (maybe this very moment: the insert waited for that commit).
            return None, _replay(event_id=event_id, sha=sha), False
        if errors:
            _refuse(event, status=400, body={"detail": _("Invalid event."), "code": "invalid", "errors": errors})
            return event, _stored(event), False
        try:
            with transaction.atomic():  # a refused event leaves its call untouched
                call, was, result, detail = _apply(event=event, data=data)
        except ApplicationError as exc:
            event.call = Call.objects.filter(external_id=data["call_id"]).first()
            body = {"detail": exc.message, "code": exc.code}
            if exc.fields:
                body["errors"] = exc.fields
            _refuse(event, status=exc.status_code, body=body, detail=exc.message)
            return event, _stored(event), False
        event.call = call
        event.result = result
        event.detail = detail[:255]
        # Routing can only find something new if a call joined a queue or a ringing agent was freed.
        route = result == CallEvent.Result.APPLIED and (
            (data["type"] == CallEvent.Type.OFFERED) or was == Call.State.RINGING
        )
        fields = ["call", "result", "detail"]
        if not route:
            # Nothing more will change: the answer is stored with the event, in this commit.
            event.response = _answer_body(event)
            event.response_status = 200
            fields += ["response", "response_status"]
        event.save(update_fields=fields)
        return event, None, route


def _refuse(event: CallEvent, *, status: int, body: dict, detail: str = "") -> None:
    event.result = CallEvent.Result.REJECTED
    event.detail = (detail or body.get("detail", ""))[:255]
    event.response_status = status
    event.response = json.loads(json.dumps(body, default=str))
    event.save(update_fields=["call", "result", "detail", "response_status", "response"])


def _stored(event: CallEvent) -> Answer:
    return Answer(status=event.response_status, body=event.response)


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
        answer = _route_and_answer(event)
        _flush(event.pk)
        return answer
    if event.answered_at is None:
        _flush(event.pk)  # the first delivery may not have reached its flush yet
    return Answer(status=event.response_status, body=event.response, replay=True, headers={"X-Event-Replay": "1"})


def _event_time(occurred_at: datetime, call: Call | None, now: datetime) -> datetime:
    """The event's time, trusted within reason: never in the future, never before what the
    call already went through (events delivered late)."""
    when = min(occurred_at, now)
    if call is not None:
        stamps = [call.offered_at, call.ringing_at, call.answered_at, call.ended_at]
        when = max([when, *[s for s in stamps if s is not None]])
    return when


def _apply(*, event: CallEvent, data: dict):
    """Apply a valid event to its call. Returns (call, state before, result, detail)."""
    now = timezone.now()
    cause = f"event {event.event_id}"
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
    call = Call.objects.select_for_update().select_related("queue").filter(external_id=data["call_id"]).first()
    if call is None:
        raise NotFound(
            _("Unknown call: no call.offered was received for this call_id."),
            fields={"call_id": _("Unknown call.")},
            code="unknown_call",
        )
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


def _answer_body(event: CallEvent) -> dict:
    call = Call.objects.select_related("queue", "agent__user").get(pk=event.call_id)
    return {**call_answer(call), "result": event.result, "detail": event.detail}


def _answer_from(event: CallEvent) -> Answer:
    return Answer(status=event.response_status, body=event.response)


def _route_and_answer(event: CallEvent) -> Answer:
    """Transaction 2: a routing pass, then the call as it now stands stored as the answer,
    once (compare-and-set), in the pass's transaction."""
    stored: dict = {}

    def store():
        body = _answer_body(event)
        if CallEvent.objects.filter(pk=event.pk, response__isnull=True).update(response=body, response_status=200):
            stored["body"] = body

    acd.route_waiting_calls(then=store)
    if "body" in stored:
        return Answer(status=200, body=stored["body"])
    event.refresh_from_db(fields=["response", "response_status"])
    return Answer(status=event.response_status, body=event.response, replay=True, headers={"X-Event-Replay": "1"})
