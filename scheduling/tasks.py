"""Celery tasks of the scheduling app: each calls one service and is safe to run twice."""

from celery import shared_task

from . import services


@shared_task(name="scheduling.tasks.send_dayoff_reminders", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_dayoff_reminders() -> int:
    """Remind agents who have not filed their day-off request before the deadline (once
    per agent and week: the service keys each reminder)."""
    return services.dayoff_send_reminders()
