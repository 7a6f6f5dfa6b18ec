from celery import shared_task

from . import services


@shared_task
def escalate_overdue_followups() -> int:
    """Beat, every 5 minutes (orders/migrations/0003): overdue follow-ups reach the supervisor.
    Safe to run twice: each follow-up is escalated once."""
    return services.followups_escalate_overdue()
