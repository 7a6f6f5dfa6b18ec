"""Periodic quality work. Each task takes plain values, calls one service, and is safe
to run twice (the services check what is already done)."""

from datetime import date

from celery import shared_task

from . import services


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def assign_weekly_sample(week_start: str | None = None) -> int:
    """Hand out last week's sample of calls to review (or the given week's, ISO date)."""
    if week_start:
        return len(services.sample_assign_week(week_start=date.fromisoformat(week_start)))
    return len(services.sample_assign_last_week())


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def open_period_evaluations() -> int:
    """Open the draft evaluations of the period that just ended."""
    return services.evaluations_open_period()


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def recheck_self_reports() -> int:
    """Cross-check again the open self-reported days of the last days."""
    return services.self_reports_check()
