"""Register the quality app's periodic work with Celery beat (django-celery-beat rows).

What each keeps true:
- "qa: weekly sample" (Mondays 05:00, center time): every QA analyst has their share of
  last week's calls to review, QA_SAMPLE_PER_AGENT per agent, none already reviewed or
  sampled (qa.services.sample_assign_week; a second run assigns nothing).
- "qa: open evaluations" (the 1st of each month, 06:00): every active agent with a
  supervisor has a draft evaluation, with its figures, for the period that just ended
  (qa.services.evaluations_open_period; one per agent and period).
- "qa: re-check self-reported results" (nightly, 02:30): open self-reported days of the
  last QA_SELF_REPORT_RECHECK_DAYS days match what the system recorded, or are flagged
  for the supervisor (qa.services.self_reports_check).
"""

from django.conf import settings
from django.db import migrations

TASKS = [
    ("qa: weekly sample", "qa.tasks.assign_weekly_sample", {"minute": "0", "hour": "5", "day_of_week": "1"}),
    ("qa: open evaluations", "qa.tasks.open_period_evaluations", {"minute": "0", "hour": "6", "day_of_month": "1"}),
    ("qa: re-check self-reported results", "qa.tasks.recheck_self_reports", {"minute": "30", "hour": "2"}),
]


def register(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, when in TASKS:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=when.get("minute", "*"),
            hour=when.get("hour", "*"),
            day_of_week=when.get("day_of_week", "*"),
            day_of_month=when.get("day_of_month", "*"),
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        PeriodicTask.objects.update_or_create(name=name, defaults={"task": task, "crontab": crontab, "enabled": True})


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[name for name, _, _ in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [("qa", "0002_roles"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(register, unregister)]
