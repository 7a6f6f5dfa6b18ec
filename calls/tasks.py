"""Celery tasks of the calls app: they take ids, call one service, and are safe to run twice
(the services check state first and claim rows with compare-and-set). Enqueued after commit."""

from celery import shared_task
from django.db import OperationalError

from . import kpis, services


@shared_task(name="calls.sweep", acks_late=True, ignore_result=True)
def sweep() -> dict:
    """Beat, every 5 s (calls/migrations/0002): keeps true that due callbacks are in their queue,
    that no call rings past its reservation timeout and no wrap-up outlasts its queue's limit."""
    return services.calls_sweep()


@shared_task(
    name="calls.dispatch_callback",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def dispatch_callback(callback_id: int) -> int | None:
    """Put one due callback in its queue. Enqueued (after commit) with the callback's due time
    as ETA; not yet due, or already dispatched, it does nothing: the sweep is the safety net."""
    call = services.callback_dispatch(callback_id=callback_id)
    return call.pk if call else None


@shared_task(name="calls.flush_queue_status", ignore_result=True)
def flush_queue_status(queue_id: int) -> None:
    """The trailing push of a queue's status window (realtime.push_queue_status). Not retried:
    a push that cannot go out is stale by the next window anyway."""
    from . import realtime

    realtime.flush_queue_status(queue_id)


@shared_task(name="calls.kpi_rollup", acks_late=True, ignore_result=True)
def kpi_rollup() -> int:
    """Beat, every minute (calls/migrations/0008): keeps true that every closed half-hour of the
    last two days has its KPI roll-up, folded again once its calls stop changing, so that the
    wallboard reads at most the last few half-hours from the records (calls/kpis.py). Safe to
    run twice: a fold replaces the half-hour's rows under a lock."""
    return kpis.rollup_refresh()
