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
sees everything committed before it started, so the last pass after any change sees
the final state and leaves no waiting call next to an eligible free agent. Inside a
pass, row locks are taken with plain FOR UPDATE (waiting for the short transaction
that holds them, then re-reading the row), never SKIP LOCKED: a skipped row whose
holder rolls back would be a missed match.

One exception, for speed: call.offered routes its new call inside its own transaction
(acd.route_in_transaction), taking this lock after inserting the call and its event row
(which nobody else can be waiting on while they hold the lock: a duplicate of the call or of
the event waits on its unique key before it takes the lock). That pass reads the floor before
the call is committed, so an agent freed at that moment, whose check after their own commit
cannot see the call yet, would be missed: the offer therefore runs the usual check after its
commit too, and the rule above holds again (each side checks after its own commit).

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


def take_routing_lock(*, commit_async: bool = False) -> None:
    """Wait for the routing lock; it is released when the current transaction ends. With
    commit_async, the transaction also commits asynchronously (commit_asynchronously), in the
    same round trip: the lock is then never held across a disk flush."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if commit_async:
                cursor.execute(f"SELECT pg_advisory_xact_lock(%s), {ASYNC_COMMIT_SQL}", [ROUTING_LOCK_KEY])
            else:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROUTING_LOCK_KEY])


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
