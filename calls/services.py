"""Every write of the calls app: the three state machines (call, presence, callback),
what callers, the PBX and agents do to calls, and callbacks.

Public services (no leading underscore) open their own transaction and, when their
change can create a match between a waiting call and a free agent, run a routing pass
after it commits (calls/acd.py): call them outside any transaction. Helpers with a
leading underscore run inside the caller's transaction and take their row locks in
the order written in calls/locks.py (calls, then presences, then callbacks).
"""

import functools
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from contactcenter import rows
from contactcenter.errors import ApplicationError, Conflict, NotFound

from . import acd, realtime
from .locks import retry_on_conflict
from .models import (
    AgentPresence,
    Announcement,
    AnnouncementReceipt,
    Call,
    Callback,
    CallbackStateChange,
    CallStateChange,
    Disposition,
    PresenceInterval,
    Queue,
)


class CallStateError(Conflict):
    """The call is not in a state that allows this action."""

    code = "call_state"


class PresenceStateError(Conflict):
    """The agent's presence does not allow this change."""

    code = "presence_state"


class CallbackStateError(Conflict):
    """Someone else moved the callback first."""

    code = "callback_state"


# The states an agent may choose; the others are set by calls and routing.
AGENT_STATUSES = (AgentPresence.State.AVAILABLE, AgentPresence.State.BREAK, AgentPresence.State.OFFLINE)
# Break reasons an agent may give ("missed" is set by the system).
AGENT_BREAK_REASONS = (
    AgentPresence.Reason.LUNCH,
    AgentPresence.Reason.TRAINING,
    AgentPresence.Reason.COACHING,
    AgentPresence.Reason.MEETING,
)


def seconds_between(later: datetime | None, earlier: datetime | None) -> int:
    """Whole seconds from earlier to later; 0 when either is missing or they are out of order."""
    if later is None or earlier is None:
        return 0
    return max(0, round((later - earlier).total_seconds()))


# --- The three transition functions ---------------------------------------------------


def call_transition(
    *,
    call: Call,
    to: str,
    now: datetime,
    cause: str,
    by=None,
    agent_id: int | None = None,
    fields: tuple[str, ...] | list[str] = (),
) -> Call:
    """Move a call to another state: refuse a move the table does not allow, save the
    state and the given fields, and write the history row (who/what, when, from, to, why)."""
    from_state = call.state
    if to not in Call.TRANSITIONS[from_state]:
        raise CallStateError(
            _("A call that is %(from)s cannot become %(to)s.")
            % {"from": Call.State(from_state).label, "to": Call.State(to).label},
            fields={"state": from_state},
        )
    call.state = to
    _call_save_with_history(
        call=call,
        fields={"state", *fields},
        from_state=from_state,
        at=now,
        agent_id=call.agent_id if agent_id is None else agent_id,
        by=by,
        cause=cause,
    )
    return call


def _call_save_with_history(*, call: Call, fields, from_state: str, at: datetime, agent_id, by, cause: str) -> None:
    """Save the call's fields (and updated_at) and write its history row: one statement on
    PostgreSQL (these run inside locked sections), the ORM's two elsewhere."""
    names = sorted({"updated_at", *fields})
    if connection.vendor != "postgresql":
        call.save(update_fields=names)
        CallStateChange.objects.create(
            call=call, from_state=from_state, to_state=call.state, at=at, agent_id=agent_id, by=by, cause=cause[:150]
        )
        return
    assignments, params = [], []
    for name in names:
        model_field = Call._meta.get_field(name)
        value = model_field.pre_save(call, add=False)  # updated_at: now (auto_now)
        assignments.append(f"{connection.ops.quote_name(model_field.column)} = %s")
        params.append(model_field.get_db_prep_save(value, connection))
    history = CallStateChange._meta.db_table
    sql = (
        f"WITH history AS (INSERT INTO {history} (call_id, from_state, to_state, at, agent_id, by_id, cause) "  # noqa: S608 -- names from the models' metadata; values are bound
        f"VALUES (%s, %s, %s, %s, %s, %s, %s)) UPDATE {Call._meta.db_table} SET {', '.join(assignments)} WHERE id = %s"
    )
    history_params = [call.pk, from_state, call.state, at, agent_id, by.pk if by else None, cause[:150]]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*history_params, *params, call.pk])


def _call_note(*, call: Call, now: datetime, cause: str, by=None, fields: tuple[str, ...] = ()) -> Call:
    """Save a change that is not a state change (escalation, virtual hold) with a history row."""
    _call_save_with_history(
        call=call, fields=fields, from_state=call.state, at=now, agent_id=call.agent_id, by=by, cause=cause
    )
    return call


def presence_transition(
    *,
    presence: AgentPresence,
    to: str,
    now: datetime,
    reason: str = "",
    call: Call | None = None,
    by=None,
    cause: str = "",
) -> AgentPresence:
    """Move an agent's presence: refuse a move the table does not allow, close the open
    interval of the log and open the new one (the log is the presence history), save."""
    from_state = presence.state
    if to not in AgentPresence.TRANSITIONS[from_state]:
        raise PresenceStateError(
            _("An agent who is %(from)s cannot become %(to)s.")
            % {"from": AgentPresence.State(from_state).label, "to": AgentPresence.State(to).label},
            fields={"status": from_state},
        )
    if to == AgentPresence.State.BREAK:
        if reason not in AgentPresence.Reason.values:
            raise ApplicationError(_("A break needs a reason."), fields={"reason": _("Choose a reason.")})
    else:
        reason = ""
    # Event times come from the PBX's clock: an interval never starts before the previous one.
    if presence.since and now < presence.since:
        now = presence.since
    holds_call = to in (AgentPresence.State.RESERVED, AgentPresence.State.ON_CALL, AgentPresence.State.WRAP_UP)
    current_call = call if holds_call else None
    if to == AgentPresence.State.AVAILABLE and from_state != AgentPresence.State.RESERVED:
        # Idle from now on. Back from a call that rang without being taken (the caller hung
        # up), the agent keeps the idle time they had: they did not get to talk.
        presence.idle_since = now
    presence.state = to
    presence.reason = reason
    presence.since = now
    presence.current_call = current_call
    if connection.vendor == "postgresql" and presence.pk is not None:
        # The three writes below in one round trip (they run inside locked sections).
        with connection.cursor() as cursor:
            cursor.execute(
                _presence_move_sql(),
                {
                    "id": presence.pk,
                    "agent_id": presence.agent_id,
                    "state": to,
                    "reason": reason,
                    "now": now,
                    "idle_since": presence.idle_since,
                    "call_id": current_call.pk if current_call else None,
                    "by_id": by.pk if by else None,
                    "cause": cause[:150],
                },
            )
    else:
        # An interval never ends before it started, even when two clocks disagree by a hair.
        PresenceInterval.objects.filter(agent_id=presence.agent_id, ended_at__isnull=True).update(
            ended_at=Greatest(F("started_at"), Value(now, output_field=DateTimeField()))
        )
        PresenceInterval.objects.create(
            agent_id=presence.agent_id,
            state=to,
            reason=reason,
            started_at=now,
            call=current_call,
            by=by,
            cause=cause[:150],
        )
        presence.save(update_fields=["state", "reason", "since", "idle_since", "current_call"])
    realtime.presence_changed(presence)
    return presence


@functools.cache
def _presence_move_sql() -> str:
    """presence_transition's writes as one statement (PostgreSQL): close the open interval of the
    log, open the new one once it is closed (the count waits for it: one open interval per
    agent), and save the presence."""
    presence, log = AgentPresence._meta.db_table, PresenceInterval._meta.db_table
    return f"""
        WITH closed AS (
            UPDATE {log} SET ended_at = GREATEST(started_at, %(now)s)
            WHERE agent_id = %(agent_id)s AND ended_at IS NULL
            RETURNING id
        ),
        opened AS (
            INSERT INTO {log} (agent_id, state, reason, started_at, ended_at, call_id, by_id, cause)
            SELECT %(agent_id)s, %(state)s, %(reason)s, %(now)s, NULL, %(call_id)s, %(by_id)s, %(cause)s
            FROM (SELECT count(*) FROM closed) done
        )
        UPDATE {presence} SET state = %(state)s, reason = %(reason)s, since = %(now)s,
            idle_since = %(idle_since)s, current_call_id = %(call_id)s
        WHERE id = %(id)s
    """  # noqa: S608 -- names from the models' metadata; values are bound


def callback_transition(
    *, callback: Callback, to: str, now: datetime, cause: str, by=None, fields: dict | None = None
) -> Callback:
    """Move a callback with compare-and-set (only if it is still in the state we read), so
    two workers can never both claim it; write the history row."""
    from_state = callback.state
    if to not in Callback.TRANSITIONS[from_state]:
        raise CallbackStateError(
            _("A callback that is %(from)s cannot become %(to)s.")
            % {"from": Callback.State(from_state).label, "to": Callback.State(to).label}
        )
    fields = dict(fields or {})
    changed = Callback.objects.filter(pk=callback.pk, state=from_state).update(state=to, updated_at=now, **fields)
    if changed != 1:
        raise CallbackStateError(_("The callback was changed by someone else."))
    callback.state = to
    callback.updated_at = now
    for name, value in fields.items():
        if hasattr(value, "resolve_expression"):
            callback.refresh_from_db(fields=[name])
        else:
            setattr(callback, name, value)
    CallbackStateChange.objects.create(
        callback=callback, from_state=from_state, to_state=to, at=now, by=by, cause=cause[:150]
    )
    return callback


# --- Presence --------------------------------------------------------------------------


def _presence_for_update(*, agent_id: int, now: datetime) -> AgentPresence:
    """The agent's presence row, locked; created offline (with its first interval) if missing."""
    presence = rows.get_row(AgentPresence, "agent_id = %s", [agent_id], lock=True)  # a hot read (rows.py)
    if presence is None:
        try:
            with transaction.atomic():
                AgentPresence.objects.create(agent_id=agent_id, state=AgentPresence.State.OFFLINE, since=now)
                PresenceInterval.objects.create(
                    agent_id=agent_id, state=AgentPresence.State.OFFLINE, started_at=now, cause="first sign-in"
                )
        except IntegrityError:
            pass  # created at the same moment by another request: use theirs
        presence = AgentPresence.objects.select_for_update().get(agent_id=agent_id)
    return presence


def presence_get_or_create(*, agent_id: int) -> AgentPresence:
    """The agent's presence, created offline the first time it is asked for."""
    presence = AgentPresence.objects.filter(agent_id=agent_id).first()
    if presence is None:
        with transaction.atomic():
            presence = _presence_for_update(agent_id=agent_id, now=timezone.now())
    return presence


class _HeldCallChanged(Exception):
    """The call an agent holds changed between reading it and locking it: try again."""


def agent_set_status(*, agent, status: str, reason: str = "", by=None, now: datetime | None = None) -> AgentPresence:
    """The agent chooses available, break (with a reason) or offline.

    Rule: a ringing call the agent declines (break or offline while it rings) goes back
    to the queue at its original place; on a call or in wrap-up the change is refused
    until the call is wrapped up. Becoming available routes the longest-waiting call."""
    if status not in AGENT_STATUSES:
        raise ApplicationError(
            _("Unknown status."), fields={"status": _("Choose available, break or offline.")}, code="invalid"
        )
    if status == AgentPresence.State.BREAK and reason not in AGENT_BREAK_REASONS:
        raise ApplicationError(
            _("A break needs a reason."),
            fields={"reason": _("Choose one of: %s.") % ", ".join(AGENT_BREAK_REASONS)},
        )
    presence = _agent_set_status_once(agent=agent, status=status, reason=reason, by=by, now=now)
    if status == AgentPresence.State.AVAILABLE or presence.requeued:
        acd.route_waiting_calls()
        presence.refresh_from_db()
    return presence


@retry_on_conflict
def _agent_set_status_once(*, agent, status, reason, by, now) -> AgentPresence:
    for _attempt in range(5):
        try:
            return _agent_set_status_tx(agent=agent, status=status, reason=reason, by=by, now=now)
        except _HeldCallChanged:
            continue
    raise Conflict(_("Your desk is changing too fast; try again."))


def _agent_set_status_tx(*, agent, status, reason, by, now) -> AgentPresence:
    with transaction.atomic():
        now = now or timezone.now()
        # Lock order (locks.py): the call the agent holds, then their presence.
        held_id = AgentPresence.objects.filter(agent_id=agent.pk).values_list("current_call_id", flat=True).first()
        call = Call.objects.select_for_update().filter(pk=held_id).first() if held_id else None
        presence = _presence_for_update(agent_id=agent.pk, now=now)
        if presence.current_call_id != held_id:
            raise _HeldCallChanged
        presence.requeued = False
        if presence.state in (AgentPresence.State.ON_CALL, AgentPresence.State.WRAP_UP):
            raise PresenceStateError(
                _("Finish and wrap up your call first."), fields={"status": _("You are on a call.")}
            )
        if presence.state == status and presence.reason == reason:
            return presence  # asked twice: nothing changes
        if presence.state == AgentPresence.State.RESERVED:
            if status == AgentPresence.State.AVAILABLE:
                return presence  # already waiting for them to accept
            if call is not None and call.state == Call.State.RINGING:
                _call_requeue(call=call, now=now, cause="declined by the agent", missed=False, by=by)
                presence.requeued = True
        presence_transition(presence=presence, to=status, reason=reason, now=now, by=by, cause="agent")
        return presence


# --- Calls: what the PBX reports ----------------------------------------------------------


def call_offer(
    *,
    external_id: str,
    queue: Queue,
    caller_number: str,
    direction: str = Call.Direction.INBOUND,
    offered_at: datetime,
    cause: str,
) -> tuple[Call, bool]:
    """A caller reaches a queue: the call waits there, in arrival order (helper: no routing).

    Returns (call, created). A second offer of the same PBX call is not an error: the
    existing call comes back unchanged (an IntegrityError when both are inserted at the same
    moment: run it again). Callbacks still pending for the number in this queue are
    cancelled: the person called again."""
    from clients.selectors import client_find_by_number, phone_to_e164

    if connection.vendor != "postgresql":
        existing = Call.objects.filter(external_id=external_id).first()
        if existing is not None:
            return existing, False
    call = Call(
        external_id=external_id,
        direction=direction,
        caller_number=caller_number,
        queue=queue,
        state=Call.State.QUEUED,
        offered_at=offered_at,
    )
    if connection.vendor == "postgresql":
        # One round trip (these run before the routing lock, but every offer pays them): the
        # call matched to its client, its history row, and whether the number has a callback
        # to cancel. A second offer of the same PBX call inserts nothing (waiting, if the first
        # is not yet committed, for its outcome) and gets the existing call back.
        created, callbacks_pending = _call_insert_queued(
            call=call, cause=cause, client_number=phone_to_e164(caller_number)
        )
        if not created:
            return Call.objects.get(external_id=external_id), False
    else:
        call.client = client_find_by_number(number=caller_number)
        # The same PBX call offered at the same moment under another event id makes this insert
        # fail on the unique PBX id once the first commits: the caller runs again and finds it.
        call.save(force_insert=True)
        CallStateChange.objects.create(call=call, from_state="", to_state=Call.State.QUEUED, at=offered_at, cause=cause)
        callbacks_pending = True
    if callbacks_pending:
        for callback in (
            Callback.objects.select_for_update()
            .filter(number=caller_number, queue=queue, state=Callback.State.PENDING)
            .order_by("pk")
        ):
            callback_transition(
                callback=callback, to=Callback.State.CANCELLED, now=offered_at, cause=f"called again ({external_id})"
            )
    realtime.queue_changed(queue.pk)
    return call, True


def _call_insert_queued(*, call: Call, cause: str, client_number: str | None) -> tuple[bool, bool]:
    """Insert a new waiting call with its history row, in one statement (PostgreSQL), its client
    being the owner of client_number (E.164; a number identifies at most one client), as
    clients.selectors.client_find_by_number finds it. Returns (whether it was inserted: False
    if the PBX id exists, whether the number has a pending callback in the call's queue)."""
    client_field = Call._meta.get_field("client")
    phones = client_field.related_model._meta.get_field("phones").related_model
    fields = [f for f in Call._meta.concrete_fields if not f.primary_key]
    values = [
        client_number if f is client_field else f.get_db_prep_save(f.pre_save(call, add=True), connection)
        for f in fields
    ]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    owner = f"(SELECT client_id FROM {phones._meta.db_table} WHERE number = %s)"  # noqa: S608 -- model's table
    value_sql = ", ".join(owner if f is client_field else "%s" for f in fields)
    call_table, history = Call._meta.db_table, CallStateChange._meta.db_table
    sql = f"""
        WITH new AS (
            INSERT INTO {call_table} ({columns}) VALUES ({value_sql})
            ON CONFLICT (external_id) DO NOTHING
            RETURNING id, client_id
        ),
        history AS (
            INSERT INTO {history} (call_id, from_state, to_state, at, agent_id, by_id, cause)
            SELECT id, '', %s, %s, NULL, NULL, %s FROM new
        )
        SELECT new.id, new.client_id, EXISTS (
            SELECT 1 FROM {Callback._meta.db_table} WHERE number = %s AND queue_id = %s AND state = %s
        ) FROM new
    """  # noqa: S608 -- names from the models' metadata; values are bound
    params = [*values, Call.State.QUEUED, call.offered_at, cause[:150]]
    params += [call.caller_number, call.queue_id, Callback.State.PENDING]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False, False
    call.pk, call.client_id, callbacks_pending = row
    call._state.adding = False
    call._state.db = connection.alias
    return True, callbacks_pending


def _call_requeue(*, call: Call, now: datetime, cause: str, missed: bool, by=None) -> Call:
    """A ringing call goes back to its queue at its original place (its offered_at)."""
    agent_id = call.agent_id
    call.agent = None
    call.ringing_at = None
    call.reservation_expires_at = None
    if missed:
        call.missed_count += 1
    call_transition(
        call=call,
        to=Call.State.QUEUED,
        now=now,
        cause=cause,
        by=by,
        agent_id=agent_id,
        fields=("agent", "ringing_at", "reservation_expires_at", "missed_count"),
    )
    realtime.call_withdrawn(call=call, agent_id=agent_id)
    realtime.queue_changed(call.queue_id)
    return call


def _call_ring(*, call: Call, presence: AgentPresence, now: datetime, reservation_timeout_s: int) -> Call:
    """Routing's move: the call rings on this agent's desk for reservation_timeout_s."""
    call.agent_id = presence.agent_id
    call.ringing_at = now
    call.reservation_expires_at = now + timedelta(seconds=reservation_timeout_s)
    call_transition(
        call=call,
        to=Call.State.RINGING,
        now=now,
        cause="routing",
        fields=("agent", "ringing_at", "reservation_expires_at"),
    )
    presence_transition(
        presence=presence, to=AgentPresence.State.RESERVED, now=now, call=call, cause=f"offered {call.external_id}"
    )
    realtime.call_offered(call)
    realtime.queue_changed(call.queue_id)
    return call


def _call_ring_if_free(*, call_id: int, agent_id: int, now: datetime) -> Call | None:
    """Routing's move in one statement (PostgreSQL, under the routing lock): if the call still
    waits and the agent is still available, the call rings on their desk for its queue's
    reservation timeout. Returns the call rung, or None when either changed meanwhile.

    The same move as _call_ring (its history row, the presence log, the presence), written as
    one round trip because the routing lock is held while it runs: FOR UPDATE locks the call,
    then the presence (lock order, locks.py), waiting for a transaction that holds either and
    re-checking both states on the rows it then reads, like call_transition and
    presence_transition would. The call rings no earlier than its last save (see acd._match),
    and the agent's new interval starts no earlier than their last change."""
    values = {"call_id": call_id, "agent_id": agent_id, "now": now, "clock": timezone.now()}
    with connection.cursor() as cursor:
        cursor.execute(_ring_sql(), values)
        row = cursor.fetchone()
    if row is None:
        return None
    names = [f.attname for f in Call._meta.concrete_fields]
    call = Call.from_db(connection.alias, names, row[: len(names)])
    presence = AgentPresence(
        agent_id=agent_id,
        state=AgentPresence.State.RESERVED,
        reason="",
        since=row[len(names)],
        current_call_id=call.pk,
    )
    realtime.presence_changed(presence)
    realtime.call_offered(call)
    realtime.queue_changed(call.queue_id)
    return call


@functools.cache
def _ring_sql() -> str:
    call, presence = Call._meta.db_table, AgentPresence._meta.db_table
    queue, history, log = Queue._meta.db_table, CallStateChange._meta.db_table, PresenceInterval._meta.db_table
    columns = ", ".join(f"c.{f.column}" for f in Call._meta.concrete_fields)
    queued, ringing = Call.State.QUEUED.value, Call.State.RINGING.value
    available, reserved = AgentPresence.State.AVAILABLE.value, AgentPresence.State.RESERVED.value
    return f"""
        WITH locked AS (
            SELECT c.id AS call_id, c.updated_at, c.queue_id, p.id AS presence_id, p.since
            FROM {call} c, {presence} p
            WHERE c.id = %(call_id)s AND c.state = '{queued}'
              AND p.agent_id = %(agent_id)s AND p.state = '{available}'
            FOR UPDATE OF c, p
        ),
        move AS (
            SELECT l.call_id, l.presence_id, q.reservation_timeout_s,
                GREATEST(%(now)s, l.updated_at) AS ring_at,
                GREATEST(%(now)s, l.updated_at, l.since) AS since
            FROM locked l JOIN {queue} q ON q.id = l.queue_id
        ),
        rung AS (
            UPDATE {call} c SET state = '{ringing}', agent_id = %(agent_id)s, ringing_at = m.ring_at,
                reservation_expires_at = m.ring_at + make_interval(secs => m.reservation_timeout_s),
                updated_at = %(clock)s
            FROM move m WHERE c.id = m.call_id
            RETURNING {columns}
        ),
        history AS (
            INSERT INTO {history} (call_id, from_state, to_state, at, agent_id, by_id, cause)
            SELECT id, '{queued}', '{ringing}', ringing_at, agent_id, NULL, 'routing' FROM rung
        ),
        closed AS (
            -- An interval never ends before it started, even when two clocks disagree by a hair.
            UPDATE {log} i SET ended_at = GREATEST(i.started_at, m.since)
            FROM move m, rung WHERE i.agent_id = %(agent_id)s AND i.ended_at IS NULL
            RETURNING i.id
        ),
        opened AS (
            -- After the open interval is closed (the count waits for it): one open per agent.
            INSERT INTO {log} (agent_id, state, reason, started_at, ended_at, call_id, by_id, cause)
            SELECT %(agent_id)s, '{reserved}', '', m.since, NULL, r.id, NULL, left('offered ' || r.external_id, 150)
            FROM move m, rung r, (SELECT count(*) FROM closed) done
        ),
        held AS (
            UPDATE {presence} p SET state = '{reserved}', reason = '', since = m.since, current_call_id = r.id
            FROM move m, rung r WHERE p.id = m.presence_id
            RETURNING p.since
        )
        SELECT c.*, held.since FROM rung c, held
    """  # noqa: S608 -- names from the models' metadata; values are bound


def _call_start_talking(*, call: Call, presence: AgentPresence, now: datetime, cause: str, by=None) -> Call:
    """The agent took the call: ringing → in progress, the agent on call."""
    call.answered_at = now
    call.wait_s = seconds_between(now, call.offered_at)
    call.reservation_expires_at = None
    call_transition(
        call=call,
        to=Call.State.IN_PROGRESS,
        now=now,
        cause=cause,
        by=by,
        fields=("answered_at", "wait_s", "reservation_expires_at"),
    )
    if presence.state == AgentPresence.State.RESERVED and presence.current_call_id == call.pk:
        presence_transition(presence=presence, to=AgentPresence.State.ON_CALL, now=now, call=call, by=by, cause=cause)
    realtime.call_updated(call)
    realtime.queue_changed(call.queue_id)
    return call


def _call_answered(*, call: Call, now: datetime, cause: str) -> bool:
    """The PBX bridged the caller to the agent the call rings for. True if this changed the
    call, False if it was already answered; a conflict if nobody was ringing."""
    if call.state in (Call.State.IN_PROGRESS, Call.State.WRAP_UP, Call.State.COMPLETED):
        return False
    if call.state == Call.State.ABANDONED:
        raise CallStateError(_("The caller already hung up."), fields={"call_id": _("The call is over.")})
    if call.state == Call.State.QUEUED:
        raise CallStateError(
            _("The call is not ringing on any desk: route it before answering."),
            fields={"call_id": _("No agent was offered this call.")},
        )
    presence = _presence_for_update(agent_id=call.agent_id, now=now)
    _call_start_talking(call=call, presence=presence, now=now, cause=cause)
    return True


def _call_abandon(*, call: Call, now: datetime, cause: str) -> bool:
    """The caller hung up before talking to anyone: the call leaves the queue at once; a ringing
    agent is free again (keeping their idle time); a callback is created by the queue's rule.
    True if this changed the call."""
    if call.state not in (Call.State.QUEUED, Call.State.RINGING):
        return False
    if call.virtual_hold:
        return False  # the caller hung up on purpose: the call keeps their place
    agent_id = call.agent_id
    presence = None
    if call.state == Call.State.RINGING:
        presence = _presence_for_update(agent_id=agent_id, now=now)
    call.ended_at = now
    call.wait_s = seconds_between(now, call.offered_at)
    call.end_reason = Call.EndReason.ABANDONED
    call.agent = None
    call.reservation_expires_at = None
    call_transition(
        call=call,
        to=Call.State.ABANDONED,
        now=now,
        cause=cause,
        agent_id=agent_id,
        fields=("ended_at", "wait_s", "end_reason", "agent", "reservation_expires_at"),
    )
    if presence is not None and presence.current_call_id == call.pk:
        presence_transition(presence=presence, to=AgentPresence.State.AVAILABLE, now=now, cause=cause)
        realtime.call_withdrawn(call=call, agent_id=agent_id)
    realtime.queue_changed(call.queue_id)
    queue = call.queue
    if (
        call.direction == Call.Direction.INBOUND
        and call.callback_id is None
        and queue.callback_on_abandon
        and call.wait_s >= queue.callback_min_wait_s
    ):
        _callback_create(
            kind=Callback.Kind.ABANDONED,
            number=call.caller_number,
            queue=queue,
            client_id=call.client_id,
            origin_call=call,
            due_at=now + timedelta(seconds=queue.callback_delay_s),
            now=now,
        )
    return True


def _call_end(
    *,
    call: Call,
    reason: str,
    now: datetime,
    cause: str,
    by=None,
    hold_s: int = 0,
    recording_url: str = "",
) -> bool:
    """The conversation is over: in progress → wrap-up (the agent stays in wrap-up). Ended before
    anyone answered, it is an abandon. A dropped call creates a callback owned by the same agent;
    a callback's call settles its callback. True if this changed the call."""
    if call.state in (Call.State.QUEUED, Call.State.RINGING):
        return _call_abandon(call=call, now=now, cause=cause)
    if call.state != Call.State.IN_PROGRESS:
        return False
    presence = _presence_for_update(agent_id=call.agent_id, now=now)
    call.ended_at = now
    call.hold_s = max(0, int(hold_s or 0))
    call.talk_s = max(0, seconds_between(now, call.answered_at) - call.hold_s)
    call.end_reason = reason
    if call.queue.wrap_up_s:
        call.wrap_up_expires_at = now + timedelta(seconds=call.queue.wrap_up_s)
    fields = ["ended_at", "hold_s", "talk_s", "end_reason", "wrap_up_expires_at"]
    if recording_url:
        call.recording_url = recording_url
        fields.append("recording_url")
    call_transition(call=call, to=Call.State.WRAP_UP, now=now, cause=cause, by=by, fields=fields)
    if presence.current_call_id == call.pk and presence.state == AgentPresence.State.ON_CALL:
        presence_transition(presence=presence, to=AgentPresence.State.WRAP_UP, now=now, call=call, by=by, cause=cause)
    realtime.call_updated(call)
    if call.callback_id:
        _callback_after_call(call=call, reason=reason, now=now, by=by)
    elif reason == Call.EndReason.DROPPED:
        _callback_create(
            kind=Callback.Kind.DROPPED,
            number=call.caller_number,
            queue=call.queue,
            client_id=call.client_id,
            origin_call=call,
            owner_id=call.agent_id,
            due_at=now,
            now=now,
        )
    return True


def _call_complete_wrap_up(*, call: Call, now: datetime, cause: str, by=None, fields=()) -> Call:
    """Wrap-up over: the call is completed and its agent free (idle from now)."""
    call.wrap_up_done_at = now
    call.wrap_up_s = seconds_between(now, call.ended_at)
    call.wrap_up_expires_at = None
    call_transition(
        call=call,
        to=Call.State.COMPLETED,
        now=now,
        cause=cause,
        by=by,
        fields=("wrap_up_done_at", "wrap_up_s", "wrap_up_expires_at", *fields),
    )
    presence = _presence_for_update(agent_id=call.agent_id, now=now)
    if presence.current_call_id == call.pk and presence.state == AgentPresence.State.WRAP_UP:
        presence_transition(presence=presence, to=AgentPresence.State.AVAILABLE, now=now, by=by, cause=cause)
    realtime.call_updated(call)
    return call


def _call_request_callback(*, call: Call, now: datetime, cause: str) -> bool:
    """Virtual hold: a waiting caller asks to be called back and hangs up; the call keeps its
    place and, when it reaches the head of the queue, rings an agent who calls them back."""
    if call.virtual_hold:
        return False
    if call.state not in (Call.State.QUEUED, Call.State.RINGING):
        raise CallStateError(
            _("Only a waiting caller can ask to be called back."), fields={"call_id": _("The call is not waiting.")}
        )
    if not call.queue.virtual_hold_enabled:
        raise Conflict(_("This queue does not offer virtual hold."), code="virtual_hold_disabled")
    callback = Callback.objects.create(
        kind=Callback.Kind.VIRTUAL_HOLD,
        number=call.caller_number,
        client_id=call.client_id,
        queue_id=call.queue_id,
        origin_call=call,
        state=Callback.State.DISPATCHED,
        due_at=call.offered_at,
        attempts=1,
        max_attempts=call.queue.callback_max_attempts,
    )
    CallbackStateChange.objects.create(
        callback=callback, from_state="", to_state=Callback.State.DISPATCHED, at=now, cause=cause[:150]
    )
    call.virtual_hold = True
    call.callback = callback
    _call_note(call=call, now=now, cause=f"virtual hold ({cause})", fields=("virtual_hold", "callback"))
    realtime.call_updated(call)
    return True


# --- Calls: what agents do ------------------------------------------------------------------


def _agent_call_for_update(*, agent, call_id, with_queue: bool = False) -> Call:
    """The agent's own call, locked; NotFound for anyone else's (no hint that it exists).
    Only the call's row is locked: locking its queue too would make every agent action of a
    queue wait for the others, and every call offered to it (the new call's foreign-key check
    needs a share lock on the queue's row). Agents act on every call, so this is one of the
    hot reads (contactcenter/rows.py); the queue is read too for the actions that use it."""
    try:
        pk = int(call_id)
    except (TypeError, ValueError):
        pk = None
    low, high = connection.ops.integer_field_range(Call._meta.pk.get_internal_type())
    call = None
    if pk is not None and low <= pk <= high:  # an id no row can have is nobody's call, not an error
        call = rows.get_row(Call, "id = %s AND agent_id = %s", [pk, agent.pk], lock=True)
    if call is None:
        raise NotFound(_("No such call on your desk."))
    if with_queue:
        call.queue = rows.get_row(Queue, "id = %s", [call.queue_id])
    return call


@retry_on_conflict
def call_accept(*, agent, call_id: int, by=None) -> Call:
    """The agent accepts the call ringing on their desk: they talk. Accepting twice changes nothing."""
    with transaction.atomic():
        now = timezone.now()
        call = _agent_call_for_update(agent=agent, call_id=call_id)
        if call.state == Call.State.IN_PROGRESS:
            return call
        if call.state != Call.State.RINGING:
            raise CallStateError(_("This call is not ringing on your desk."))
        presence = _presence_for_update(agent_id=agent.pk, now=now)
        _call_start_talking(call=call, presence=presence, now=now, cause="accepted by the agent", by=by)
    return call


@retry_on_conflict
def call_end(*, agent, call_id: int, reason: str = Call.EndReason.COMPLETED, by=None) -> Call:
    """The agent hangs up: the call goes to wrap-up. Reasons: completed, dropped (line cut: a
    callback is created for the agent), no_answer (a callback nobody picked up)."""
    allowed = (Call.EndReason.COMPLETED, Call.EndReason.DROPPED, Call.EndReason.NO_ANSWER)
    if reason not in allowed:
        raise ApplicationError(_("Unknown reason."), fields={"reason": _("Choose one of: %s.") % ", ".join(allowed)})
    with transaction.atomic():
        now = timezone.now()
        call = _agent_call_for_update(agent=agent, call_id=call_id, with_queue=True)  # its wrap-up time
        if call.state in (Call.State.WRAP_UP, Call.State.COMPLETED):
            return call  # ended twice: nothing changes
        if call.state != Call.State.IN_PROGRESS:
            raise CallStateError(_("Only a call in progress can be ended."))
        _call_end(call=call, reason=reason, now=now, cause="ended by the agent", by=by)
    return call


def call_wrap_up(
    *,
    agent,
    call_id: int,
    disposition_code: str,
    notes: str = "",
    follow_up_at: datetime | None = None,
    by=None,
) -> Call:
    """The agent records the outcome (disposition, notes) and is free again. A follow-up time
    creates a callback owned by the agent. A call the wrap-up timer already completed may
    still be given its disposition once."""
    # Every wrap-up reads its outcome: a hot read (contactcenter/rows.py).
    disposition = rows.get_row(Disposition, "code = %s AND active", [disposition_code])
    if disposition is None:
        raise ApplicationError(_("Choose an outcome."), fields={"disposition": _("Unknown or inactive outcome.")})
    if follow_up_at is not None and follow_up_at <= timezone.now():
        raise ApplicationError(
            _("A follow-up must be in the future."), fields={"follow_up_at": _("Choose a later time.")}
        )
    call = _call_wrap_up_tx(
        agent=agent, call_id=call_id, disposition=disposition, notes=notes, follow_up_at=follow_up_at, by=by
    )
    acd.route_waiting_calls()
    return call


@retry_on_conflict
def _call_wrap_up_tx(*, agent, call_id, disposition, notes, follow_up_at, by) -> Call:
    with transaction.atomic():
        now = timezone.now()
        call = _agent_call_for_update(agent=agent, call_id=call_id)
        if call.state == Call.State.WRAP_UP:
            call.disposition = disposition
            call.notes = notes or ""
            _call_complete_wrap_up(call=call, now=now, cause="wrapped up", by=by, fields=("disposition", "notes"))
        elif call.state == Call.State.COMPLETED and call.disposition_id is None:
            # The wrap-up timer completed it first: the outcome may still be recorded, once.
            call.disposition = disposition
            call.notes = notes or ""
            _call_note(call=call, now=now, cause="late wrap-up", by=by, fields=("disposition", "notes"))
        elif call.state == Call.State.COMPLETED:
            raise CallStateError(_("This call is already wrapped up."))
        else:
            raise CallStateError(_("Only an ended call can be wrapped up."))
        if follow_up_at is not None:
            _callback_create(
                kind=Callback.Kind.FOLLOW_UP,
                number=call.caller_number,
                queue=call.queue,
                client_id=call.client_id,
                origin_call=call,
                owner_id=agent.pk,
                due_at=follow_up_at,
                now=now,
                by=by,
            )
    return call


@retry_on_conflict
def call_escalate(*, agent, call_id: int, reason: str = "", by=None) -> Call:
    """The agent flags the call for a supervisor (during the call or its wrap-up). Twice changes nothing."""
    with transaction.atomic():
        now = timezone.now()
        call = _agent_call_for_update(agent=agent, call_id=call_id)
        if call.escalated:
            return call
        if call.state not in (Call.State.IN_PROGRESS, Call.State.WRAP_UP):
            raise CallStateError(_("Only a call in progress or in wrap-up can be escalated."))
        call.escalated = True
        call.escalated_at = now
        call.escalation_reason = reason or ""
        _call_note(
            call=call,
            now=now,
            cause="escalated",
            by=by,
            fields=("escalated", "escalated_at", "escalation_reason"),
        )
        realtime.call_escalated(call)
    return call


# --- Callbacks ----------------------------------------------------------------------------


def _callback_create(
    *,
    kind: str,
    number: str,
    queue: Queue,
    due_at: datetime,
    now: datetime,
    client_id: int | None = None,
    origin_call: Call | None = None,
    owner_id: int | None = None,
    by=None,
) -> Callback | None:
    """A new pending callback. For an abandon, none when one is already open for the number in
    this queue (a caller who hangs up three times is called back once). Do-not-call is honoured:
    no automatic callback to such a number, and an agent's follow-up to it is refused."""
    # Imported here: the clients app reads calls' models, so calls imports it lazily.
    from clients.services.clients import DoNotCallError, number_check_dialable

    try:
        number_check_dialable(number=number)
    except DoNotCallError:
        if kind == Callback.Kind.FOLLOW_UP:
            raise
        return None
    if (
        kind == Callback.Kind.ABANDONED
        and Callback.objects.filter(number=number, queue=queue, state__in=Callback.OPEN_STATES).exists()
    ):
        return None
    callback = Callback.objects.create(
        kind=kind,
        number=number,
        client_id=client_id,
        queue=queue,
        owner_id=owner_id,
        origin_call=origin_call,
        due_at=due_at,
        max_attempts=queue.callback_max_attempts,
    )
    CallbackStateChange.objects.create(
        callback=callback, from_state="", to_state=Callback.State.PENDING, at=now, by=by, cause=f"{kind} callback"
    )
    # Precise dispatch when a worker runs; the periodic sweep dispatches it anyway, so an
    # eager run now (no broker: it is not due yet, nothing happens) loses nothing.
    callback_id = callback.pk
    transaction.on_commit(lambda: _enqueue_dispatch(callback_id, due_at))
    realtime.callback_changed(callback)
    return callback


def _enqueue_dispatch(callback_id: int, due_at: datetime) -> None:
    from .tasks import dispatch_callback

    dispatch_callback.apply_async((callback_id,), eta=due_at)


def _callback_after_call(*, call: Call, reason: str, now: datetime, by=None) -> None:
    """A callback's call is over: reached (completed); not reached (again later, or failed after
    the last attempt); cut off (again now, by the same agent)."""
    callback = Callback.objects.select_for_update().filter(pk=call.callback_id).first()
    if callback is None or callback.state != Callback.State.DISPATCHED:
        return
    if reason == Call.EndReason.COMPLETED:
        callback_transition(callback=callback, to=Callback.State.COMPLETED, now=now, by=by, cause="reached")
    elif reason == Call.EndReason.DROPPED:
        callback_transition(
            callback=callback,
            to=Callback.State.PENDING,
            now=now,
            by=by,
            cause="cut off: again by the same agent",
            fields={
                "due_at": now,
                "owner_id": call.agent_id,
                "max_attempts": max(callback.max_attempts, callback.attempts + 1),
            },
        )
    elif callback.attempts >= callback.max_attempts:
        callback_transition(
            callback=callback, to=Callback.State.FAILED, now=now, by=by, cause="no answer, last attempt"
        )
    else:
        callback_transition(
            callback=callback,
            to=Callback.State.PENDING,
            now=now,
            by=by,
            cause="no answer",
            fields={"due_at": now + timedelta(seconds=call.queue.callback_retry_s)},
        )
    if callback.state == Callback.State.PENDING:
        callback_id, due_at = callback.pk, callback.due_at
        transaction.on_commit(lambda: _enqueue_dispatch(callback_id, due_at))
    realtime.callback_changed(callback)


def _callback_dispatch(*, callback: Callback, now: datetime) -> Call:
    """Claim a due callback (compare-and-set) and put its call in the queue, at the due time.
    Runs in the caller's transaction: if the process dies before commit, nothing happened."""
    callback_transition(
        callback=callback,
        to=Callback.State.DISPATCHED,
        now=now,
        cause=f"attempt {callback.attempts + 1}",
        fields={"attempts": callback.attempts + 1},
    )
    call = Call.objects.create(
        external_id=f"cb-{callback.pk}-{callback.attempts}",
        direction=Call.Direction.OUTBOUND,
        caller_number=callback.number,
        client_id=callback.client_id,
        queue_id=callback.queue_id,
        reserved_for_id=callback.owner_id,
        callback=callback,
        state=Call.State.QUEUED,
        offered_at=now,
    )
    CallStateChange.objects.create(
        call=call, from_state="", to_state=Call.State.QUEUED, at=now, cause=f"callback {callback.pk}"
    )
    realtime.queue_changed(callback.queue_id)
    realtime.callback_changed(callback)
    return call


@retry_on_conflict
def _callbacks_dispatch_due_tx(*, now: datetime | None, limit: int) -> list[Call]:
    with transaction.atomic():
        now = now or timezone.now()
        # SKIP LOCKED: two sweeps at once split the due callbacks instead of waiting for each other.
        due = list(
            Callback.objects.select_for_update(skip_locked=True)
            .filter(state=Callback.State.PENDING, due_at__lte=now)
            .order_by("due_at", "pk")[:limit]
        )
        return [_callback_dispatch(callback=callback, now=now) for callback in due]


def callbacks_dispatch_due(*, now: datetime | None = None, limit: int = 200) -> list[Call]:
    """Every due callback becomes a call waiting in its queue (owned ones only for their owner),
    then routing runs. Safe to run twice, or in two workers at once."""
    calls = _callbacks_dispatch_due_tx(now=now, limit=limit)
    if calls:
        acd.route_waiting_calls(now=now)
    return calls


@retry_on_conflict
def _callback_dispatch_one_tx(*, callback_id: int, now: datetime | None) -> Call | None:
    with transaction.atomic():
        now = now or timezone.now()
        callback = (
            Callback.objects.select_for_update(skip_locked=True)
            .filter(pk=callback_id, state=Callback.State.PENDING, due_at__lte=now)
            .first()
        )
        if callback is None:
            return None  # not due yet, already dispatched, or being dispatched by another worker
        return _callback_dispatch(callback=callback, now=now)


def callback_dispatch(*, callback_id: int, now: datetime | None = None) -> Call | None:
    """Dispatch one callback if it is pending and due (the task's service; safe to run twice)."""
    call = _callback_dispatch_one_tx(callback_id=callback_id, now=now)
    if call is not None:
        acd.route_waiting_calls(now=now)
    return call


def calls_sweep(*, now: datetime | None = None) -> dict:
    """The periodic work: dispatch due callbacks, then a routing pass (which also expires
    unanswered reservations and overdue wrap-ups)."""
    dispatched = callbacks_dispatch_due(now=now)
    routed = acd.route_waiting_calls(now=now)
    return {"callbacks_dispatched": len(dispatched), "calls_routed": len(routed)}


def calls_sweep_if_due() -> None:
    """The sweep, at most every CALLS_SWEEP_INTERVAL_S seconds per cache: the single-process mode
    has no beat, so entry points call this and time-based rules still happen under traffic."""
    interval = getattr(settings, "CALLS_SWEEP_INTERVAL_S", 5)
    if interval and cache.add("calls:sweep", 1, timeout=interval):
        calls_sweep()


# --- Announcements ------------------------------------------------------------------------


def announcement_post(*, author, body: str, team_ids, allowed_team_ids) -> Announcement:
    """A supervisor or manager posts a message to the desks of some of their teams.

    Rule: only to teams the author may address (allowed_team_ids, from the selector that
    carries the access rule); at least one team; a message of 1 to 2000 characters."""
    body = (body or "").strip()
    team_ids = {int(team_id) for team_id in team_ids}
    errors = {}
    if not body:
        errors["body"] = _("Write a message.")
    elif len(body) > 2000:
        errors["body"] = _("At most 2000 characters.")
    if not team_ids:
        errors["teams"] = _("Choose at least one team.")
    elif not team_ids <= set(allowed_team_ids):
        errors["teams"] = _("You may only write to your own teams.")
    if errors:
        raise ApplicationError(_("The announcement was not sent."), fields=errors)
    with transaction.atomic():
        announcement = Announcement.objects.create(author=author, body=body, created_at=timezone.now())
        announcement.teams.set(team_ids)
        realtime.announcement_posted(
            announcement, team_ids=team_ids, author_name=author.get_full_name() or author.username
        )
    return announcement


def announcement_mark_read(*, agent, announcement_id: int) -> AnnouncementReceipt:
    """The agent has read an announcement sent to their team. Reading twice keeps the first time."""
    announcement = (
        Announcement.objects.filter(pk=announcement_id, teams=agent.team_id).select_related("author").first()
        if agent.team_id
        else None
    )
    if announcement is None:
        raise NotFound(_("No such announcement."))
    with transaction.atomic():
        receipt, created = AnnouncementReceipt.objects.get_or_create(
            announcement=announcement, agent=agent, defaults={"read_at": timezone.now()}
        )
        if created:
            realtime.announcement_read(
                receipt,
                author_id=announcement.author_id,
                agent_name=agent.user.get_full_name() or agent.user.username,
            )
    return receipt
