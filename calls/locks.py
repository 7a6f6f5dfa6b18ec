"""Every lock the calls app takes, and the one order it takes them in.

Lock order (a transaction takes them top to bottom, never back up):

  0. a CallEvent row, by inserting it (the unique event id makes a replay wait for
     the first delivery to commit, then read its answer);
  1. the routing lock (a PostgreSQL transaction-level advisory lock), taken only by a
     routing pass, at the very start of its own transaction, before any row lock;
  2. Call rows, by primary key;
  3. AgentPresence rows, by agent id;
  4. Callback rows, by primary key.

Why a routing lock: routing matches waiting calls with free agents. Two transactions
that each change one side (a call arrives while an agent becomes free) cannot see
each other's uncommitted rows, and with SKIP LOCKED alone both can miss the match.
So every change that can create a match is committed first, and then a routing pass
runs in a transaction of its own under this lock: passes never overlap, and each one
sees everything committed before it started. Inside a pass, row locks are taken with
plain FOR UPDATE (waiting for the short transaction that holds them, then re-reading the
row), never SKIP LOCKED: a skipped row whose holder rolls back would be a missed match.

A pass is never waited for. A change asks for a pass after its commit: it counts a request
(the calls_routing_request sequence), then tries the lock. If another pass holds it, that
pass looks again after its own commit, which comes after this request and therefore after
this change: the request is handed over, and nobody queues on the lock. The holder's look
again (acd.route_waiting_calls) compares the request count with the one it took with the
lock: if requests came in while it ran, it checks for a possible match and runs another pass
(asking in turn, so the argument repeats); if none did, its own pass, which started after
every earlier request, saw every change committed before them. So the last pass after any
change sees the final state and leaves no waiting call next to an eligible free agent, and
a burst of changes (thirty calls offered as one agent is freed) costs one or two passes,
not thirty passes in single file. The request is counted before the lock is tried (in one
statement: the count in a materialised CTE, evaluated before the lock function), so a
holder cannot commit and look between a failed try and its request.

One exception, for speed: call.offered routes its new call inside its own transaction
(acd.route_in_transaction), trying this lock after inserting the call and its event row
(which nobody else can be waiting on while they hold the lock: a duplicate of the call or of
the event waits on its unique key before it tries the lock). That pass reads the floor before
the call is committed, so an agent freed at that moment, whose check after their own commit
cannot see the call yet, would be missed: the offer therefore runs the usual check after its
commit too, and the rule above holds again (each side checks after its own commit). If the
lock is taken, the offer does not route in its transaction at all: its check after its
commit asks for a pass like any other change.

If the transaction of a pass that had requests handed to it fails, the periodic sweep
(services.calls_sweep, every few seconds) runs the pass they asked for.

Durability without holding the lock across a disk flush: the routing pass (and the
telephony API's first transaction) commit asynchronously (synchronous_commit off for that
transaction only), so the lock is held for the pass's queries, not for an fsync. Whatever
is acknowledged to a client is then made durable by one synchronous commit outside the
lock (telephony: storing answered_at): the write-ahead log is sequential, so that flush
covers every earlier commit. A database crash can therefore only lose a suffix of work
nobody was told about (a ring a desk saw pushed, say), never reorder or corrupt it, and
never break the invariants (each lost transaction is lost whole).

On SQLite (the single-process mode) transactions are already serialised
(transaction_mode IMMEDIATE) and FOR UPDATE is a no-op, so the same code is sound.
"""

import functools
import logging
import time

from django.db import OperationalError, connection

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key of the routing pass ("ACD!" in ASCII).
ROUTING_LOCK_KEY = 0x41434421
# A select-list item that makes the current transaction commit asynchronously (PostgreSQL),
# added to a query the transaction runs anyway: no round trip of its own.
ASYNC_COMMIT_SQL = "set_config('synchronous_commit', 'off', true)"


# The routing-request counter (migration calls/0011_routing_requests).
ROUTING_REQUESTS = "calls_routing_request"
NO_REQUEST = -1  # the request count of a pass on SQLite, which counts none (passes are serialised)


def try_routing_lock() -> bool:
    """Take the routing lock if it is free (it is released when the current transaction ends);
    False if another pass holds it. The transaction also commits asynchronously
    (commit_asynchronously), in the same round trip: the lock is never held across a disk flush.
    SQLite serialises transactions: the lock is always taken."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_xact_lock(%s), {ASYNC_COMMIT_SQL}", [ROUTING_LOCK_KEY])
        return cursor.fetchone()[0]


def request_routing_pass() -> int | None:
    """Count a request for a routing pass, then try the routing lock (as try_routing_lock). Returns
    the request count taken if the lock is now held by this transaction, None if another pass
    holds it: that pass looks again after its commit (see above). On SQLite, NO_REQUEST."""
    if connection.vendor != "postgresql":
        return NO_REQUEST
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH asked AS MATERIALIZED (SELECT nextval('{ROUTING_REQUESTS}') AS n)"  # noqa: S608 -- constants
            f" SELECT n, pg_try_advisory_xact_lock(%s), {ASYNC_COMMIT_SQL} FROM asked",
            [ROUTING_LOCK_KEY],
        )
        asked, taken, _ = cursor.fetchone()
    return asked if taken else None


def commit_asynchronously() -> None:
    """The current transaction's commit will not wait for its disk flush (PostgreSQL). Only for
    transactions followed by a synchronous one before anything is acknowledged (see above)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {ASYNC_COMMIT_SQL}")


def _is_retryable(exc: OperationalError) -> bool:
    # PostgreSQL: 40P01 deadlock detected, 40001 serialization failure. SQLite: "database is locked".
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate in {"40P01", "40001"} or "database is locked" in str(exc)


def retry_on_conflict(func=None, *, attempts: int = 5):
    """Run a function that opens its own transaction again when the database aborted it for a
    deadlock or a serialization failure. Only at the outermost level: inside someone
    else's transaction the whole transaction is lost, so the error goes up."""

    def decorator(fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            for attempt in range(1, attempts + 1):
                try:
                    return fn(*args, **kwargs)
                except OperationalError as exc:
                    if connection.in_atomic_block or attempt == attempts or not _is_retryable(exc):
                        raise
                    logger.info("calls: retrying %s after %s (attempt %s)", fn.__name__, exc, attempt)
                    time.sleep(0.005 * attempt)
            raise AssertionError("unreachable")

        return wrapped

    return decorator(func) if func else decorator
